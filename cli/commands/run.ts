import { Command, Option } from 'commander';
import { isTerminal } from '../../common/job-status';
import type { JobView } from '../../common/schemas';
import { ADAPTER_NAMES } from '../../results/adapters';
import { BenchlineClient } from '../client';
import { resultsTable } from '../render';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function parseEnv(pairs: string[] = []): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`--env expects NAME=VALUE, got "${pair}"`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

interface RunOptions {
  apiUrl: string;
  token?: string;
  project: string;
  branch: string;
  testbed: string;
  adapter: (typeof ADAPTER_NAMES)[number];
  image: string;
  entrypoint?: string;
  env?: string[];
  timeout?: number;
  spec?: string;
  filePath?: string[];
  idempotencyKey?: string;
  detach?: boolean;
  pollInterval: number;
}

export function runCommand(): Command {
  return new Command('run')
    .description('Run a benchmark image on a Benchline runner and print its results')
    .argument('[cmd...]', 'command (and arguments) to run instead of the image\'s CMD')
    .addOption(new Option('--api-url <url>', 'Benchline API').env('BENCHLINE_API_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--token <token>', 'user API token').env('BENCHLINE_TOKEN'))
    .addOption(new Option('--project <project>', 'project slug or UUID').env('BENCHLINE_PROJECT').makeOptionMandatory())
    .addOption(new Option('--branch <branch>', 'branch').env('BENCHLINE_BRANCH').default('main'))
    .addOption(new Option('--testbed <testbed>', 'testbed').env('BENCHLINE_TESTBED').default('localhost'))
    .addOption(new Option('--adapter <adapter>', 'how to read the output').choices(ADAPTER_NAMES).default('magic'))
    .requiredOption('--image <image>', 'OCI image to run, e.g. registry.example.com/team/bench:v1')
    .option('--entrypoint <path>', 'override the image entrypoint')
    .option('--env <NAME=VALUE>', 'environment variable for the job (repeatable)', collect)
    .addOption(new Option('--timeout <seconds>', 'job timeout').argParser((v) => Number.parseInt(v, 10)))
    .option('--spec <spec>', 'hardware spec (becomes the testbed\'s spec)')
    .option('--file-path <path>', 'output file to collect and parse (repeatable)', collect)
    .option('--idempotency-key <key>', 'resubmitting with the same key returns the same job')
    .option('--detach', 'submit and return at once')
    .addOption(new Option('--poll-interval <ms>', 'how often to check the job').default(1000).argParser(Number))
    .action(async (cmd: string[], options: RunOptions) => {
      process.exitCode = await run(cmd, options);
    });
}

async function run(cmd: string[], o: RunOptions): Promise<number> {
  const client = new BenchlineClient(o.apiUrl.replace(/\/$/, ''), o.token);
  const accepted = await client.submit({
    project: o.project,
    branch: o.branch,
    testbed: o.testbed,
    adapter: o.adapter,
    idempotency_key: o.idempotencyKey,
    job: {
      image: o.image,
      entrypoint: o.entrypoint ? [o.entrypoint] : undefined,
      cmd: cmd.length ? cmd : undefined,
      env: parseEnv(o.env),
      timeout: o.timeout,
      spec: o.spec,
      file_paths: o.filePath,
    },
  });
  console.log(`Job ${accepted.job} submitted (report ${accepted.report})`);
  console.log(`Temporal: ${accepted.temporal_ui_url}`);
  if (o.detach) return 0;

  const job = await follow(client, o.project, accepted.job, o.pollInterval);
  if (job.status !== 'processed') {
    console.error(`\nJob ${job.status}: ${job.error ?? 'no reason recorded'}`);
    const stderr = (await client.output(o.project, job.uuid, 'stderr')).trimEnd();
    if (stderr) console.error(`--- stderr (last lines) ---\n${stderr.split('\n').slice(-20).join('\n')}`);
    return 1;
  }
  const report = await client.report(o.project, accepted.report);
  console.log(`\n${resultsTable(report)}`);
  return 0;
}

/** Polls the job, printing each status it passes through, until it is terminal. */
async function follow(client: BenchlineClient, project: string, jobId: string, intervalMs: number): Promise<JobView> {
  let last = '';
  for (;;) {
    const job = await client.job(project, jobId);
    const line = job.runner && job.status !== 'pending' ? `${job.status} (runner ${job.runner})` : job.status;
    if (line !== last) {
      console.log(`  ${new Date().toISOString().slice(11, 19)}  ${line}`);
      last = line;
    }
    if (isTerminal(job.status)) return job;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
