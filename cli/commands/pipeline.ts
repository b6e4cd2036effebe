import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { ReportView } from '../../common/schemas';
import type { PipelineView } from '../../common/schemas/pipelines';
import type { BenchlineClient } from '../client';
import { EXIT } from '../exit';
import { clientOf, listQuery, print, repeatable, withApi, withFormat, withPaging, withProject, type ApiOptions, type FormatOptions, type ListFormat } from '../options';
import { renderReport, table } from '../render';
import { UsageError } from '../thresholds';

/**
 * `benchline pipeline …`: submit a plan (the body POST /v0/pipelines takes, as YAML or JSON) and
 * follow it, view, list, cancel, pause and resume pipelines. `pipeline run` exits 0 when every required job
 * processed, 1 when one did not (failed, canceled or skipped; `--optional` names jobs whose outcome
 * does not count); other errors exit as cli/exit.ts says. With `--format json` the progress goes to
 * stderr and stdout holds the ended pipeline's view.
 */
export function pipelineCommand(): Command {
  const pipeline = new Command('pipeline').description('Pipelines: DAGs of benchmark jobs submitted together');
  pipeline.addCommand(
    withFormat(withApi(new Command('run')), 'json: stdout is {pipeline, reports} alone (reports by job key), progress goes to stderr')
      .description('Submit a pipeline plan (YAML or JSON: the body of POST /v0/pipelines), follow its jobs and print their results')
      .argument('<plan>', 'plan file; - reads standard input')
      .option('--project <project>', "the plan's project, when the plan names none (or to override it)")
      .option('--idempotency-key <key>', 'resubmitting with the same key follows the same pipeline')
      .option('--optional <key>', 'a job whose failure does not fail the command (repeatable)', repeatable)
      .option('--detach', 'submit and return at once')
      .addOption(new Option('--poll-interval <ms>', 'how often to check the pipeline').default(1000).argParser(Number))
      .action(async (file: string, o: ApiOptions & FormatOptions & { project?: string; idempotencyKey?: string; optional?: string[]; detach?: boolean; pollInterval: number }) => {
        const plan = await readPlan(file);
        if (o.project) plan.project = o.project;
        if (o.idempotencyKey) plan.idempotency_key = o.idempotencyKey;
        const client = clientOf(o);
        // As `run --format json`: stdout carries the JSON alone (the GitHub Action parses it).
        const say = o.format === 'json' ? (s: string) => console.error(s) : (s: string) => console.log(s);
        const submitted = await client.submitPipeline(plan);
        say(`Pipeline ${submitted.uuid} submitted: ${submitted.jobs.length} job${submitted.jobs.length === 1 ? '' : 's'}`);
        say(`Temporal: ${submitted.temporal_ui_url}`);
        if (o.detach) {
          if (o.format === 'json') print(o, { pipeline: submitted, reports: {} }, () => '');
          return;
        }
        const ended = await follow(client, submitted.uuid, o.pollInterval, say);
        process.exitCode = await printResults(client, ended, new Set(o.optional ?? []), o.format, say);
      }),
  );
  pipeline.addCommand(
    withFormat(withApi(new Command('view')))
      .description("A pipeline's status, jobs and edges")
      .argument('<pipeline>', 'pipeline UUID')
      .action(async (id: string, o: ApiOptions & FormatOptions) => print(o, await clientOf(o).pipeline(id), renderPipeline)),
  );
  pipeline.addCommand(
    withPaging(withFormat(withProject(withApi(new Command('list')))))
      .description("A project's pipelines, newest first")
      .option('--status <status>', 'only pipelines in this status (repeatable)', repeatable)
      .action(async (o: ApiOptions & FormatOptions & { project: string; status?: string[]; page: string; perPage: string }) => {
        const rows = await clientOf(o).pipelines(o.project, listQuery(o, { status: o.status }));
        print(o, rows, () =>
          table(
            ['pipeline', 'status', 'jobs', 'created', 'duration'],
            rows.map((p) => [p.uuid, p.status, String(p.job_count), p.created, p.duration_seconds === null ? '-' : `${p.duration_seconds.toFixed(1)}s`]),
          ),
        );
      }),
  );
  pipeline.addCommand(
    withFormat(withApi(new Command('cancel')), 'human: one line; json: the pipeline as the cancel left it')
      .description('Cancel a pipeline: its running jobs are canceled, the others never start')
      .argument('<pipeline>', 'pipeline UUID')
      .action(async (id: string, o: ApiOptions & FormatOptions) => print(o, await clientOf(o).controlPipeline(id, 'cancel'), () => `Pipeline ${id}: cancel requested`)),
  );
  const pauses = [
    { action: 'pause', description: 'Pause a pipeline: none of its jobs starts until it is resumed; running jobs finish' },
    { action: 'resume', description: 'Resume a paused pipeline: the jobs that became due start' },
  ] as const;
  for (const { action, description } of pauses) {
    pipeline.addCommand(
      withFormat(withApi(new Command(action)), 'how to print the pipeline it leaves')
        .description(description)
        .argument('<pipeline>', 'pipeline UUID')
        .action(async (id: string, o: ApiOptions & FormatOptions) => print(o, await clientOf(o).controlPipeline(id, action), renderPipeline)),
    );
  }
  return pipeline;
}

/** The plan as an object: YAML, of which JSON is a subset, so one parser reads both. */
async function readPlan(file: string): Promise<Record<string, unknown>> {
  const text = file === '-' ? await readStdin() : await readFile(file, 'utf8').catch((err: Error) => {
    throw new UsageError(`cannot read the plan ${file}: ${err.message}`);
  });
  let plan: unknown;
  try {
    plan = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${file} is not YAML or JSON: ${(err as Error).message}`);
  }
  if (typeof plan !== 'object' || plan === null || Array.isArray(plan)) throw new UsageError(`${file}: a plan is a mapping with project and jobs (the body of POST /v0/pipelines)`);
  return plan as Record<string, unknown>;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Polls the pipeline, printing each job's status changes, until the pipeline has ended. */
async function follow(client: BenchlineClient, id: string, intervalMs: number, say: (s: string) => void): Promise<PipelineView> {
  const last = new Map<string, string>();
  for (;;) {
    const view = await client.pipeline(id);
    for (const job of view.jobs) {
      const line = job.status === 'scheduled' ? `scheduled for ${job.start_after}` : job.runner && job.status !== 'pending' ? `${job.status} (runner ${job.runner})` : job.status;
      const attempt = job.attempts.length > 1 ? `, attempt ${job.attempts.length}` : '';
      if (last.get(job.key) !== line + attempt) {
        say(`  ${new Date().toISOString().slice(11, 19)}  ${job.key}: ${line}${attempt}`);
        last.set(job.key, line + attempt);
      }
    }
    if (view.status !== 'running') return view;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Each job's results (or why it has none), in key order; the exit code. */
async function printResults(client: BenchlineClient, view: PipelineView, optional: Set<string>, format: ListFormat, say: (s: string) => void): Promise<number> {
  const reports: Record<string, ReportView> = {};
  for (const job of view.jobs) {
    if (format === 'json') {
      // Every job's report, processed or not: a failed job's says why (job_status, job_error).
      reports[job.key] = await client.report(view.project, job.report);
      continue;
    }
    console.log(`\n=== ${job.key}: ${job.status}`);
    if (job.status === 'processed') console.log(renderReport(await client.report(view.project, job.report), 'human'));
    else console.log(job.error ?? 'no reason recorded');
  }
  if (format === 'json') console.log(JSON.stringify({ pipeline: view, reports }, null, 2));
  const failed = view.jobs.filter((j) => j.status !== 'processed' && !optional.has(j.key));
  say(`\nPipeline ${view.status}: ${Object.entries(view.counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ')}`);
  if (failed.length === 0) return EXIT.ok;
  console.error(`benchline: required job${failed.length === 1 ? '' : 's'} did not process: ${failed.map((j) => `${j.key} (${j.status})`).join(', ')}`);
  return EXIT.failed;
}

function renderPipeline(view: PipelineView): string {
  const needs = (key: string) => view.edges.filter((e) => e.job === key).map((e) => (e.requires_success ? e.needs : `${e.needs}?`)).join(', ');
  return [
    `Pipeline ${view.uuid} (${view.project}): ${view.status}${view.paused ? ` (paused since ${view.paused})` : ''}${view.duration_seconds === null ? '' : ` in ${view.duration_seconds.toFixed(1)}s`}`,
    `Temporal: ${view.temporal_ui_url}`,
    '',
    table(
      ['job', 'status', 'needs', 'runner', 'attempts', 'error'],
      view.jobs.map((j) => [j.key, j.status === 'scheduled' ? `scheduled ${j.start_after}` : j.status, needs(j.key) || '-', j.runner ?? '-', String(j.attempts.length), j.error ?? '']),
    ),
  ].join('\n');
}
