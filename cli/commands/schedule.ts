import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { SCHEDULE_OVERLAP_POLICIES, type RunTemplate, type ScheduleTemplate, type ScheduleView } from '../../common/schemas/schedules';
import { ADAPTER_NAMES } from '../../results/adapters';
import type { BenchlineClient } from '../client';
import { clientOf as client, withApi, withFormat, withProject, type FormatOptions, type ProjectOptions } from '../options';
import { UsageError } from '../thresholds';
import { imageJob, withImageJobOptions, type ImageJobFlags } from './run';

type Connection = ProjectOptions & FormatOptions;

/** The options every schedule subcommand takes: where the API is, who calls, which project, how to print. */
const withConnection = (command: Command) => withFormat(withProject(withApi(command, 'user API token (a member of the project)')), 'how to print the schedule');

function print(o: Connection, schedules: ScheduleView | ScheduleView[]): void {
  if (o.format === 'json') return console.log(JSON.stringify(schedules, null, 2));
  for (const s of [schedules].flat()) {
    const template = s.template as ScheduleTemplate;
    console.log(`${s.uuid}  ${s.cron} (${s.timezone})  ${s.paused ? `paused${s.note ? `: ${s.note}` : ''}` : 'active'}  overlap ${s.overlap}`);
    console.log(
      template.kind === 'run'
        ? `  runs ${template.run.job.image} on ${template.run.branch} / ${template.run.testbed}`
        : `  runs a pipeline of ${template.pipeline.jobs.length} job${template.pipeline.jobs.length === 1 ? '' : 's'} (${template.pipeline.jobs.map((j) => j.key).join(', ')})`,
    );
    console.log(`  next: ${s.next_runs.slice(0, 3).join(', ') || 'none'}`);
    for (const r of s.last_runs.slice(0, 5)) {
      const submitted = r.job ? `job ${r.job} ${r.job_status}` : r.pipeline ? `pipeline ${r.pipeline} ${r.pipeline_status}` : 'submitting';
      console.log(`  ran ${r.started_at}: ${submitted}`);
    }
  }
}

/** A subcommand acting on one schedule: `benchline schedule <name> <schedule>`. */
function action(name: string, description: string, call: (c: BenchlineClient, o: Connection & { note?: string }, id: string) => Promise<ScheduleView | undefined>, note = false): Command {
  const command = withConnection(new Command(name).description(description).argument('<schedule>', 'schedule UUID'));
  if (note) command.option('--note <text>', 'why (shown with the schedule)');
  return command.action(async (id: string, o: Connection & { note?: string }) => {
    const view = await call(client(o), o, id);
    if (view) print(o, view);
  });
}

interface CreateOptions extends Connection, ImageJobFlags {
  cron: string;
  timezone: string;
  overlap: (typeof SCHEDULE_OVERLAP_POLICIES)[number];
  paused?: boolean;
  note?: string;
  template?: string;
  branch: string;
  testbed: string;
  adapter: (typeof ADAPTER_NAMES)[number];
}

/** The run template: a JSON file holding a POST /v0/run body (without project), or the image flags. */
async function runTemplate(cmd: string[], o: CreateOptions): Promise<RunTemplate> {
  if (o.template) {
    if (o.image) throw new UsageError('give either --template or --image, not both');
    return JSON.parse(await readFile(o.template, 'utf8')) as RunTemplate;
  }
  if (!o.image) throw new UsageError('give the job: --image (with its flags) or --template <run.json>');
  return { branch: o.branch, testbed: o.testbed, adapter: o.adapter, job: imageJob(cmd, o) } as RunTemplate;
}

/**
 * `benchline schedule create|list|view|pause|resume|trigger|delete`: Temporal Schedules that run a
 * job template on a cron expression (nightly benchmarks of main). Errors exit as cli/exit.ts says.
 */
export function scheduleCommand(): Command {
  const create = withImageJobOptions(withConnection(new Command('create')))
    .description('Schedule a benchmark job: the image (or --template) runs at every time the cron expression names')
    .argument('[cmd...]', "the job's command (instead of the image's CMD)")
    .requiredOption('--cron <expression>', 'five-field cron expression (minute hour day-of-month month day-of-week) or @daily, @hourly…')
    .option('--timezone <zone>', 'IANA time zone the cron expression is read in', 'UTC')
    .addOption(new Option('--overlap <policy>', 'what a run due while the previous one runs does').choices(SCHEDULE_OVERLAP_POLICIES).default('SKIP'))
    .option('--paused', 'create it paused')
    .option('--note <text>', 'shown with the schedule')
    .option('--template <file>', 'a JSON file with the POST /v0/run body (without project), instead of --image and its flags')
    .addOption(new Option('--branch <branch>', 'branch').env('BENCHLINE_BRANCH').default('main'))
    .addOption(new Option('--testbed <testbed>', 'testbed').env('BENCHLINE_TESTBED').default('localhost'))
    .addOption(new Option('--adapter <adapter>', 'how to read the output').choices(ADAPTER_NAMES).default('magic'))
    .action(async (cmd: string[], o: CreateOptions) => {
      const body = { cron: o.cron, timezone: o.timezone, overlap: o.overlap, paused: o.paused ?? false, note: o.note, template: { kind: 'run', run: await runTemplate(cmd, o) } };
      print(o, await client(o).schedules<ScheduleView>('POST', o.project, '', body));
    });

  const list = withConnection(new Command('list'))
    .description("List the project's schedules with their next and last runs")
    .action(async (o: Connection) => print(o, await client(o).schedules<ScheduleView[]>('GET', o.project, '')));

  return new Command('schedule')
    .description('Run benchmark jobs on a schedule (Temporal Schedules)')
    .addCommand(create)
    .addCommand(list)
    .addCommand(action('view', 'Show a schedule: next run times, last runs and their jobs', (c, o, id) => c.schedules('GET', o.project, id)))
    .addCommand(action('pause', 'Pause a schedule: no timed run starts until it is resumed', (c, o, id) => c.schedules('POST', o.project, `${id}/pause`, { note: o.note }), true))
    .addCommand(action('resume', 'Resume a paused schedule', (c, o, id) => c.schedules('POST', o.project, `${id}/resume`, { note: o.note }), true))
    .addCommand(action('trigger', 'Run a schedule now, once', (c, o, id) => c.schedules('POST', o.project, `${id}/trigger`)))
    .addCommand(
      action('delete', 'Delete a schedule (runs already started go on)', async (c, o, id) => {
        await c.schedules('DELETE', o.project, id);
        if (o.format === 'json') console.log(JSON.stringify({ uuid: id, deleted: true }));
        else console.error(`schedule ${id} deleted`);
        return undefined;
      }),
    );
}
