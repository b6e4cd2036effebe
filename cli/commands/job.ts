import { Command } from 'commander';
import { JOB_STATUSES } from '../../common/contracts';
import type { JobView } from '../../common/schemas';
import { attach, Interrupts, type AttachOptions } from '../attach';
import type { OutputRef } from '../client';
import { clientOf, listQuery, print, projectCommand, repeatable, withFormat, withPaging, type FormatOptions, type ProjectOptions } from '../options';
import { table } from '../render';
import { claimTokenOption, EXIT_HELP, withFollowOptions } from './run';

type Listing = ProjectOptions & FormatOptions & { status?: string[]; since?: string; until?: string; page: string; perPage: string };

const jobArgument = (command: Command) => command.argument('<job>', 'job UUID');

/**
 * `benchline job list|view|wait|cancel|logs`: a project's jobs. `job wait` follows a job exactly as
 * `run` does after submitting it (the same code: cli/attach.ts), so `run --detach` then `job wait` is
 * `run`.
 */
export function jobCommand(): Command {
  const list = withPaging(withFormat(projectCommand('list')))
    .description("A project's jobs, newest first")
    .option('--status <status>', `only jobs in this status (repeatable): ${JOB_STATUSES.join(', ')}`, repeatable)
    .option('--since <time>', 'only jobs created at or after this RFC 3339 time')
    .option('--until <time>', 'only jobs created before this RFC 3339 time')
    .action(async (o: Listing) => {
      const jobs = await clientOf(o).jobs(o.project, listQuery(o, { status: o.status, since: o.since, until: o.until }));
      print(o, jobs, () =>
        table(
          ['job', 'status', 'runner', 'created', 'finished', 'error'],
          jobs.map((j) => [j.uuid, j.status, j.runner ?? '-', j.created, j.finished ?? '-', oneLine(j.error)]),
        ),
      );
    });

  const view = jobArgument(withFormat(projectCommand('view')))
    .description("A job: its status, attempts, outputs and where it ran")
    .action(async (id: string, o: ProjectOptions & FormatOptions) => print(o, await clientOf(o).job(o.project, id), renderJob));

  const wait = withFollowOptions(jobArgument(projectCommand('wait')))
    .description('Follow a job until it ends and print its results, as `benchline run` does after submitting it (Ctrl-C cancels it)')
    .addOption(claimTokenOption())
    .addHelpText('after', EXIT_HELP)
    .action(async (id: string, o: ProjectOptions & AttachOptions & { claimToken?: string }) => {
      const interrupts = new Interrupts();
      const client = clientOf(o);
      process.exitCode = await attach(o.claimToken ? client.withClaimToken(o.claimToken) : client, o.project, id, o, interrupts);
    });

  const cancel = jobArgument(withFormat(projectCommand('cancel'), 'human: one line; json: the job as the cancel found it'))
    .description('Cancel a job at any stage (its submitter, its organization\'s leaders, server admins); `job wait` shows it land')
    .action(async (id: string, o: ProjectOptions & FormatOptions) => print(o, await clientOf(o).cancelJob(o.project, id), () => `Job ${id}: cancel requested`));

  const logs = jobArgument(withFormat(projectCommand('logs'), 'human: the bytes as stored; json: {job, output, path, content}'))
    .description("Print a job's stdout (the default), its stderr, or an output file it collected")
    .argument('[output]', 'stdout, stderr, or the path of a collected file', 'stdout')
    .action(async (id: string, output: string, o: ProjectOptions & FormatOptions) => {
      const ref: OutputRef = output === 'stdout' || output === 'stderr' ? { kind: output } : { kind: 'file', path: output };
      const content = await clientOf(o).output(o.project, id, ref);
      if (o.format === 'json') print(o, { job: id, output: ref.kind, path: ref.kind === 'file' ? ref.path : null, content: content.toString('utf8') }, () => '');
      else process.stdout.write(content);
    });

  return new Command('job').description("A project's benchmark jobs").addCommand(list).addCommand(view).addCommand(wait).addCommand(cancel).addCommand(logs);
}

const oneLine = (s: string | null) => (s ?? '').replace(/\s+/g, ' ').slice(0, 80);

function renderJob(j: JobView): string {
  const times = [['created', j.created], ['start after', j.start_after], ['claimed', j.claimed], ['started', j.started], ['finished', j.finished]].filter(([, t]) => t);
  return [
    `Job ${j.uuid} (${j.project}): ${j.status}${j.runner ? ` on runner ${j.runner}` : ''}`,
    `Report: ${j.report}`,
    `Temporal: ${j.temporal_ui_url}`,
    times.map(([what, t]) => `${what} ${t}`).join(', '),
    ...(j.queue_position !== null ? [`Queue position: ${j.queue_position}`] : []),
    ...(j.waiting ? [`Waiting: ${j.waiting}`] : []),
    ...(j.exit_code !== null ? [`Exit code: ${j.exit_code}`] : []),
    ...(j.error ? [`Error: ${j.error}`] : []),
    ...(j.attempts.length
      ? ['', table(['attempt', 'status', 'runner', 'started', 'ended', 'error'], j.attempts.map((a) => [String(a.attempt), a.status, a.runner ?? '-', a.started ?? '-', a.ended ?? '-', oneLine(a.error)]))]
      : []),
    ...(j.outputs.length ? ['', table(['output', 'path', 'bytes'], j.outputs.map((out) => [out.kind, out.path || '-', String(out.size_bytes)]))] : []),
  ].join('\n');
}
