import { Command, Option } from 'commander';
import type { NewRun, ReportView, RunAccepted } from '../../common/schemas';
import { ADAPTER_NAMES } from '../../results/adapters';
import { FOLDS } from '../../results/fold';
import { attach, Interrupts, printReport, progressFor, waitCommand, type AttachOptions } from '../attach';
import { ApiError, BenchlineClient } from '../client';
import { EXIT } from '../exit';
import { CommandFailedError, fileSizes, runLocally, type LocalIteration } from '../local';
import { clientOf, repeatable as collect, withApi, withProject, type ApiOptions } from '../options';
import { FORMATS, type Format } from '../render';
import { thresholdsFromFlags, UsageError, type ThresholdFlags } from '../thresholds';

function parseEnv(pairs: string[] = []): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--env expects NAME=VALUE, got "${pair}"`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}


/** The flags of withImageJobOptions. */
export interface ImageJobFlags {
  image?: string;
  entrypoint?: string;
  env?: string[];
  timeout?: number;
  spec?: string;
  filePath?: string[];
}

export interface RunOptions extends ThresholdFlags, ImageJobFlags, ApiOptions, AttachOptions {
  claimToken?: string;
  project: string;
  branch: string;
  testbed: string;
  adapter: (typeof ADAPTER_NAMES)[number];
  average?: 'mean' | 'median';
  fold?: (typeof FOLDS)[number];
  iter: number;
  fileSize?: string[];
  buildTime?: boolean;
  thresholdsReset?: boolean;
  startPoint?: string;
  startPointCloneThresholds?: boolean;
  startPointReset?: boolean;
  format: Format;
  idempotencyKey?: string;
  startAfter?: string;
  detach?: boolean;
}

/** The flags that describe an image job (`benchline schedule create` takes them too: see imageJob). */
export function withImageJobOptions(command: Command): Command {
  return command
    .option('--image <image>', 'OCI image to run on a runner, e.g. registry.example.com/team/bench:v1')
    .option('--entrypoint <path>', 'override the image entrypoint')
    .option('--env <NAME=VALUE>', 'environment variable for the job (repeatable)', collect)
    .addOption(new Option('--timeout <seconds>', 'job timeout').argParser((v) => positiveInt('--timeout', v)))
    .option('--spec <spec>', "hardware spec (becomes the testbed's spec)")
    .option('--file-path <path>', 'output file to collect and parse (repeatable)', collect);
}

export function runCommand(): Command {
  const command = withProject(withApi(new Command('run')))
    .description(
      'Run a benchmark and print its results judged against their history.\n' +
        'With --image, the image runs on a Benchline runner; without it, the command after `--` runs here and its output is submitted.',
    )
    .argument('[cmd...]', "with --image: the job's command (instead of the image's CMD); without: the command to run locally")
    .addOption(claimTokenOption())
    .addOption(new Option('--branch <branch>', 'branch').env('BENCHLINE_BRANCH').default('main'))
    .addOption(new Option('--testbed <testbed>', 'testbed').env('BENCHLINE_TESTBED').default('localhost'))
    .addOption(new Option('--adapter <adapter>', 'how to read the output').choices(ADAPTER_NAMES).default('magic'))
    .addOption(new Option('--average <average>', 'which average, where the harness reports several').choices(['mean', 'median']))
    .addOption(new Option('--fold <fold>', 'how several iterations become one value (default mean)').choices(FOLDS))
    .addOption(new Option('--iter <n>', 'local runs: run the command this many times').default(1).argParser((v) => positiveInt('--iter', v)))
    .option('--file-size <path>', 'record this output file\'s size as the file-size measure (repeatable)', collect)
    .option('--build-time', "record the command's duration as the build-time measure")
    .option('--threshold-measure <measure>', 'threshold: measure (repeatable; the n-th of each --threshold-* flag makes the n-th threshold)', collect)
    .option('--threshold-test <test>', 'threshold: static, percentage, z_score, t_test, log_normal, iqr or delta_iqr (repeatable)', collect)
    .option('--threshold-lower-boundary <boundary>', 'threshold: lower boundary, _ for none (repeatable)', collect)
    .option('--threshold-upper-boundary <boundary>', 'threshold: upper boundary, _ for none (repeatable)', collect)
    .option('--threshold-min-sample-size <n>', 'threshold: minimum history, _ for the default (repeatable)', collect)
    .option('--threshold-max-sample-size <n>', 'threshold: newest history used, _ for all (repeatable)', collect)
    .option('--threshold-window <seconds>', 'threshold: history window in seconds, _ for all (repeatable)', collect)
    .option('--thresholds-reset', "remove the branch + testbed's thresholds for measures not given")
    .option('--start-point <branch>', 'branch this branch starts from: its history counts for this branch')
    .option('--start-point-clone-thresholds', "copy the start point's thresholds")
    .option('--start-point-reset', "restart the branch's history (from the start point's latest)");
  return withFollowOptions(withImageJobOptions(command))
    .option('--idempotency-key <key>', 'resubmitting with the same key returns the same job')
    .option('--start-after <time>', 'RFC 3339 time before which the job does not start (it is scheduled until then; at most 30 days ahead)')
    .option('--detach', 'submit and return at once, printing the command that follows the job (benchline job wait)')
    .addHelpText('after', EXIT_HELP)
    .action(async (cmd: string[], options: RunOptions) => {
      process.exitCode = await run(cmd, options);
    });
}

/** --claim-token, for anonymous submitters (run, job wait). */
export const claimTokenOption = () =>
  new Option('--claim-token <token>', "without --token: the claim token of the anonymous project's first run, to see later runs' errors and output").env('BENCHLINE_CLAIM_TOKEN');

/** How a followed job is printed and ended: `run` and `job wait` take the same flags (see attach). */
export function withFollowOptions(command: Command): Command {
  return command
    .option('--err', 'exit 1 when an alert fires')
    .addOption(new Option('--format <format>', 'how to print the results').choices(FORMATS).default('human'))
    .option('--show-output', "print the job's stdout and stderr once it has ended")
    .option('--keep-on-interrupt', 'on Ctrl-C (SIGINT) or SIGTERM, leave the job running instead of canceling it')
    .addOption(new Option('--poll-interval <ms>', 'how often to check the job').default(1000).argParser((v) => positiveInt('--poll-interval', v)));
}

export const EXIT_HELP = `
Exit codes: 0 ok; 1 the job failed or was canceled (or, with --err, an alert fired); 2 usage error or
request refused by the API; 3 API unreachable or failing; 4 not found; 130/143 interrupted by
SIGINT/SIGTERM (the job is canceled first, unless --keep-on-interrupt).`;

export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a positive integer, got "${value}"`);
  return n;
}

/** The run options both paths send. */
function resultsOptions(o: RunOptions) {
  return {
    adapter: o.adapter,
    average: o.average,
    fold: o.fold,
    thresholds: thresholdsFromFlags(o),
    thresholds_reset: o.thresholdsReset,
    start_point: o.startPoint,
    start_point_clone_thresholds: o.startPointCloneThresholds,
    start_point_reset: o.startPointReset,
  };
}

export async function run(cmd: string[], o: RunOptions): Promise<number> {
  const client = clientOf(o);
  // Machine-readable formats keep stdout for the report alone; progress goes to stderr.
  const say = progressFor(o.format);
  try {
    if (o.image) return await runImage(client, cmd, o, say);
    return printReport(await runLocal(client, cmd, o, say), o);
  } catch (err) {
    if (err instanceof CommandFailedError) {
      console.error(`benchline: ${err.message}`);
      return EXIT.failed;
    }
    // The server did not understand the output: the run failed (other refusals are usage errors, exit 2).
    if (err instanceof ApiError && err.status === 400 && err.message.startsWith('body.results:')) {
      console.error(`benchline: ${err.message}`);
      return EXIT.failed;
    }
    throw err;
  }
}

/** The job of an image run, from its flags (`benchline schedule create` takes the same). */
export function imageJob(cmd: string[], o: ImageJobFlags): NewRun['job'] {
  return {
    image: o.image!,
    entrypoint: o.entrypoint ? [o.entrypoint] : undefined,
    cmd: cmd.length ? cmd : undefined,
    env: parseEnv(o.env),
    timeout: o.timeout,
    spec: o.spec,
    file_paths: o.filePath,
  };
}

async function runImage(client: BenchlineClient, cmd: string[], o: RunOptions, say: (s: string) => void): Promise<number> {
  if (o.iter > 1) throw new UsageError('--iter runs a local command several times; an image job prints its iterations itself (see --fold)');
  // Listening before the job exists: a Ctrl-C while it is being submitted still cancels it.
  const interrupts = o.detach ? undefined : new Interrupts();
  let accepted: RunAccepted;
  try {
    accepted = await client.submit({
      project: o.project,
      branch: o.branch,
      testbed: o.testbed,
      ...resultsOptions(o),
      file_size: o.fileSize,
      build_time: o.buildTime,
      idempotency_key: o.idempotencyKey,
      start_after: o.startAfter,
      job: imageJob(cmd, o),
    });
  } catch (err) {
    interrupts?.dispose();
    throw err;
  }
  say(`Job ${accepted.job} submitted (report ${accepted.report})`);
  say(`Temporal: ${accepted.temporal_ui_url}`);
  sayClaim(accepted.claim, say);
  if (!interrupts) {
    say(`Follow it with: ${waitCommand(o.project, accepted.job)}`);
    // A script that detaches reads the job's id from stdout.
    if (o.format === 'json') console.log(JSON.stringify(accepted, null, 2));
    return EXIT.ok;
  }
  // Without an API token, the claim token is what shows the submitter its job's error and output.
  // A later anonymous run of the same project gets no claim token: the first one's can be given.
  const claimToken = accepted.claim?.claim_token ?? o.claimToken;
  return attach(claimToken ? client.withClaimToken(claimToken) : client, o.project, accepted.job, o, interrupts);
}

async function runLocal(client: BenchlineClient, cmd: string[], o: RunOptions, say: (s: string) => void): Promise<ReportView> {
  if (cmd.length === 0) throw new UsageError('give --image to run an image on a runner, or a command to run here: benchline run [options] -- <command>');
  for (const flag of ['entrypoint', 'env', 'timeout', 'spec', 'idempotencyKey', 'startAfter', 'detach', 'showOutput', 'keepOnInterrupt'] as const) {
    if (o[flag] !== undefined) throw new UsageError(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} only applies to --image runs`);
  }
  const thresholds = resultsOptions(o);
  const startTime = new Date();
  const iterations: LocalIteration[] = [];
  for (let i = 1; i <= o.iter; i++) {
    if (o.iter > 1) say(`Iteration ${i}/${o.iter}: ${cmd.join(' ')}`);
    // The command's own output is shown as it runs (on stderr when stdout carries the report).
    iterations.push(await runLocally(cmd, { filePaths: o.filePath, echo: o.format === 'human' ? process.stdout : process.stderr }));
  }
  const endTime = new Date();
  // The claim is said once, like an image run's; the report printed is the same shape as theirs.
  const { claim, ...report } = await client.submitReport(o.project, {
    branch: o.branch,
    testbed: o.testbed,
    ...thresholds,
    results: iterations.map((it) => ({ stdout: it.stdout, files: it.files, ...(o.buildTime && { build_time: it.seconds }) })),
    file_sizes: o.fileSize?.length ? await fileSizes(o.fileSize) : undefined,
    command: cmd.join(' '),
    start_time: startTime.toISOString(),
    end_time: endTime.toISOString(),
  });
  say(`Report ${report.uuid} submitted`);
  sayClaim(claim, say);
  return report;
}

/** Shown once, to the anonymous run that created the project: whoever holds it can claim the organization and its jobs. */
function sayClaim(claim: RunAccepted['claim'], say: (s: string) => void): void {
  if (claim) say(`Claim this project: POST /v0/organizations/${claim.organization}/claim {"claim_token": "${claim.claim_token}"}`);
}
