import { spawn } from 'node:child_process';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReportView } from '../common/schemas';
import type { PipelineView } from '../common/schemas/pipelines';
import { BenchlineClient } from '../cli/client';
import { commentAlertCount, commentMarker, renderComment, reportUrl, type CommentEntry, type CommentInput } from '../cli/pr-comment';
import { GitHub, type CommitState } from './github';

/**
 * The GitHub Action (action.yml runs this through bin/benchline-action): runs `benchline run` or
 * `benchline pipeline run` with `--format json`, writes the comment Markdown to the job summary,
 * posts or updates the pull request's one comment for this project / branch / testbed, and sets a
 * commit status. Exit code: the CLI's when it failed (1: the benchmark failed, 2: usage or API
 * error), 1 when alerts fired and fail-on-alert is on, else 0.
 */

const BIN = join(__dirname, '..', 'bin', 'benchline');

/** An input as action.yml passes it: INPUT_API_URL for `api-url` (a node action's INPUT_API-URL is read too). */
function input(name: string, env: NodeJS.ProcessEnv): string {
  const upper = name.toUpperCase();
  return (env[`INPUT_${upper.replace(/-/g, '_')}`] ?? env[`INPUT_${upper}`] ?? '').trim();
}

function flag(name: string, env: NodeJS.ProcessEnv, fallback: boolean): boolean {
  const v = input(name, env).toLowerCase();
  if (v === '') return fallback;
  if (['true', 'yes', '1'].includes(v)) return true;
  if (['false', 'no', '0'].includes(v)) return false;
  throw new InputError(`input ${name} must be true or false, got "${v}"`);
}

class InputError extends Error {}

interface PullRequestEvent {
  pull_request?: { number: number; head: { sha: string; ref: string }; base: { ref: string } };
}

export interface ActionInputs {
  apiUrl: string;
  token: string;
  project: string;
  branch: string;
  testbed: string;
  base: string;
  image: string;
  command: string;
  adapter: string;
  spec: string;
  pipeline: string;
  args: string[];
  failOnAlert: boolean;
  comment: boolean;
  status: boolean;
  githubToken: string;
  pullRequest?: number;
  sha?: string;
}

/** The inputs, with the defaults a pull request gives: its head branch, its base as the start point, its head commit. */
export async function readInputs(env: NodeJS.ProcessEnv): Promise<ActionInputs> {
  const event: PullRequestEvent = env.GITHUB_EVENT_PATH ? JSON.parse(await readFile(env.GITHUB_EVENT_PATH, 'utf8').catch(() => '{}')) : {};
  const pr = event.pull_request;
  const required = (name: string) => {
    const v = input(name, env);
    if (!v) throw new InputError(`input ${name} is required`);
    return v;
  };
  const pullRequest = input('pull-request', env) || (pr ? String(pr.number) : '');
  if (pullRequest && !/^[1-9]\d*$/.test(pullRequest)) throw new InputError(`input pull-request must be a pull request number, got "${pullRequest}"`);
  const inputs: ActionInputs = {
    apiUrl: required('api-url').replace(/\/$/, ''),
    token: input('token', env),
    project: required('project'),
    branch: input('branch', env) || pr?.head.ref || env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || 'main',
    testbed: input('testbed', env) || 'localhost',
    base: input('start-point', env) || pr?.base.ref || env.GITHUB_BASE_REF || '',
    image: input('image', env),
    command: input('command', env),
    adapter: input('adapter', env) || 'magic',
    spec: input('spec', env),
    pipeline: input('pipeline', env),
    args: input('args', env).split(/\s+/).filter(Boolean),
    failOnAlert: flag('fail-on-alert', env, true),
    comment: flag('comment', env, true),
    status: flag('status', env, true),
    githubToken: input('github-token', env),
    pullRequest: pullRequest ? Number(pullRequest) : undefined,
    // On pull_request, GITHUB_SHA is the test merge commit: the status belongs on the PR's head.
    sha: input('sha', env) || pr?.head.sha || env.GITHUB_SHA || undefined,
  };
  if (inputs.sha && !/^[0-9a-f]{40}$/i.test(inputs.sha)) throw new InputError(`input sha must be a 40-character commit hash, got "${inputs.sha}"`);
  if (!inputs.pipeline && !inputs.image && !inputs.command) throw new InputError('give image (a job on a Benchline runner), command (run here), or pipeline (a plan file)');
  if (inputs.pipeline && (inputs.image || inputs.command)) throw new InputError('pipeline runs a plan file: image and command belong in the plan');
  return inputs;
}

/** The CLI's arguments for these inputs. */
export function cliArgs(i: ActionInputs): string[] {
  if (i.pipeline) return ['pipeline', 'run', i.pipeline, '--project', i.project, '--format', 'json', ...i.args];
  const args = ['run', '--format', 'json', '--project', i.project, '--branch', i.branch, '--testbed', i.testbed, '--adapter', i.adapter];
  // A pull request's branch starts from its base: the base's history and thresholds judge it.
  if (i.base && i.base !== i.branch) args.push('--start-point', i.base, '--start-point-clone-thresholds');
  if (i.image) args.push('--image', i.image);
  if (i.spec) args.push('--spec', i.spec);
  args.push(...i.args);
  // An image job's command is words (the job's cmd); a local one runs in a shell, as a workflow's `run:` does.
  if (i.image) args.push('--', ...i.command.split(/\s+/).filter(Boolean));
  else args.push('--', 'sh', '-c', i.command);
  return args;
}

/** Runs the CLI: its stderr (progress, the command's output) shown as it comes and kept; stdout is the JSON. */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The last lines of the CLI's stderr: why it failed, for the comment. */
const tail = (stderr: string) => stderr.trimEnd().split('\n').slice(-15).join('\n') || 'the benchline CLI printed nothing';

/** The comment's entries from the CLI's JSON; the Temporal links from the jobs (members see them). */
async function entriesOf(i: ActionInputs, stdout: string, code: number, stderr: string): Promise<{ entries: CommentEntry[]; pipeline?: PipelineView }> {
  let parsed: unknown;
  try {
    parsed = stdout.trim() ? JSON.parse(stdout) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) return { entries: [{ error: `benchline exited ${code}:\n${tail(stderr)}` }] };
  if (i.pipeline) {
    const { pipeline, reports } = parsed as { pipeline: PipelineView; reports: Record<string, ReportView> };
    return {
      pipeline,
      entries: pipeline.jobs.map((job) => ({ key: job.key, report: reports[job.key], temporalUrl: job.temporal_ui_url, error: reports[job.key] ? undefined : `${job.status}: ${job.error ?? 'no report'}` })),
    };
  }
  const report = parsed as ReportView;
  let temporalUrl: string | undefined;
  if (report.job) {
    temporalUrl = await new BenchlineClient(i.apiUrl, i.token || undefined)
      .job(report.project, report.job)
      .then((j) => j.temporal_ui_url)
      .catch(() => undefined);
  }
  return { entries: [{ report, temporalUrl }] };
}

function githubOutput(env: NodeJS.ProcessEnv, values: Record<string, string | number>): Promise<void> {
  if (!env.GITHUB_OUTPUT) return Promise.resolve();
  return appendFile(env.GITHUB_OUTPUT, Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join(''));
}

/** A workflow command: shown as an annotation on the run. */
const annotate = (level: 'warning' | 'error', message: string) => console.log(`::${level}::${message.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}`);

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let i: ActionInputs;
  try {
    i = await readInputs(env);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    annotate('error', `benchline: ${err.message}`);
    return 2;
  }
  const github = i.githubToken && env.GITHUB_REPOSITORY ? GitHub.fromEnv(i.githubToken, env) : undefined;
  const context = i.pipeline ? `benchline / ${i.project} / pipeline ${i.pipeline}` : `benchline / ${i.project} / ${i.branch} / ${i.testbed}`;
  const setStatus = async (state: CommitState, description: string, target_url?: string) => {
    if (!github || !i.status || !i.sha) return;
    await github.setStatus(i.sha, { state, context, description, target_url }).catch((err: Error) => annotate('warning', `could not set the commit status: ${err.message}`));
  };
  await setStatus('pending', i.pipeline ? 'Pipeline running' : 'Benchmark running');

  const cliEnv: NodeJS.ProcessEnv = { ...env, BENCHLINE_API_URL: i.apiUrl, NO_COLOR: '1' };
  delete cliEnv.BENCHLINE_TOKEN;
  if (i.token) cliEnv.BENCHLINE_TOKEN = i.token;
  const cli = await runCli(cliArgs(i), cliEnv);
  const { entries, pipeline } = await entriesOf(i, cli.stdout, cli.code, cli.stderr);
  const input: CommentInput = {
    project: i.project,
    entries,
    base: i.pipeline ? undefined : i.base || undefined,
    consoleUrl: i.apiUrl,
    pipeline: pipeline && { uuid: pipeline.uuid, status: pipeline.status, temporalUrl: pipeline.temporal_ui_url },
  };
  const alerts = commentAlertCount(input);
  // The CLI's exit code decides (a pipeline's `--optional` jobs may fail without failing it).
  const failed = cli.code !== 0;

  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, `${renderComment(input)}\n`);
  const firstReport = entries.find((e) => e.report)?.report;
  await githubOutput(env, { alerts, report: firstReport?.uuid ?? '', ...(pipeline ? { pipeline: pipeline.uuid } : {}) });

  if (github && i.comment && i.pullRequest) {
    const marker = i.pipeline ? commentMarker(i.project, 'pipeline', i.pipeline) : commentMarker(i.project, i.branch, i.testbed);
    try {
      const { comment, created } = await github.upsertComment(i.pullRequest, marker, renderComment({ ...input, marker }));
      console.log(`${created ? 'Commented' : 'Updated the comment'} on pull request #${i.pullRequest}${comment.html_url ? `: ${comment.html_url}` : ''}`);
    } catch (err) {
      // A fork's pull_request token is read-only: the summary still has the report (README: fork pull requests).
      annotate('warning', `could not comment on pull request #${i.pullRequest}: ${(err as Error).message}`);
    }
  }

  const target = firstReport ? reportUrl(i.apiUrl, firstReport) : undefined;
  if (failed) await setStatus('error', pipeline ? `Pipeline ${pipeline.status}: a required job did not process` : `The benchmark failed (benchline exited ${cli.code})`, target);
  else if (alerts > 0) await setStatus('failure', `${alerts} alert${alerts === 1 ? '' : 's'}: performance moved outside its threshold`, target);
  else await setStatus('success', 'No alerts', target);

  if (failed) return cli.code || 1;
  if (alerts > 0 && i.failOnAlert) {
    annotate('error', `benchline: ${alerts} alert${alerts === 1 ? '' : 's'} (fail-on-alert)`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      annotate('error', `benchline action: ${err.message}`);
      process.exitCode = 2;
    },
  );
}
