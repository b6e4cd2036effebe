import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { CONTROL_TASK_QUEUE } from '../common/contracts';
import { generateSecretsKey } from '../common/secret-box';
import { connect, migrateLatest, type Db } from '../db/connection';
import { createOrganization, createProject, createRunner, createSpec, createUser } from '../db/seed';
import { buildAndPushImage } from '../devenv/images';
import { ROOT, TEMPORAL_DEV_SERVER_ARGS, temporalCliPath } from '../devenv/paths';
import { ensureDatabase, initCluster, postmasterCommand } from '../devenv/postgres';
import { startRegistry } from '../devenv/registry';
import { freePort } from '../devenv/wait';
import { releaseStaleMounts } from '../runner/stale-mounts';
import { Service, type ServiceSpec } from './chaos-services';
import { installBwrapShim } from './command-starts';

/**
 * The benchmark's job: sleeps CHAOS_SLEEP seconds (a job env var), then prints one metric in
 * Bencher Metric Format, so each job costs about that much runner time and is processed by `json`.
 */
const CHAOS_BENCHMARK_SH = `#!/bin/sh
sleep "\${CHAOS_SLEEP:-1}"
echo "{\\"chaos/sleep\\": {\\"latency\\": {\\"value\\": \${CHAOS_SLEEP:-1}e9}}}"
`;

const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cjs', 'index.cjs');

export interface ChaosStack {
  apiUrl: string;
  image: string;
  project: string;
  userToken: string;
  /** The script's own connections, for picking victims and for the final accounting. */
  db: Db;
  temporal: Client;
  postgres: Service;
  temporalServer: Service;
  api: Service;
  orchestrator: Service;
  runners: Service[];
  /** One line per sandbox command start (see installBwrapShim). */
  startsLog: string;
  /** The registry's process (it runs in this script's process group). */
  registryPid?: number;
}

/** Everything set up so far, stopped in reverse order: also what Ctrl-C runs mid-setup. */
export class Teardown {
  private steps: (() => Promise<unknown>)[] = [];
  private done?: Promise<void>;

  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    return (this.done ??= (async () => {
      for (const step of this.steps.reverse()) await step().catch((err) => console.error(`teardown: ${(err as Error).message}`));
    })());
  }
}

/**
 * The whole product as separate OS processes on services this script owns: a Postgres cluster
 * initdb'd into a temp dir, a Temporal dev server on a database file (both survive a SIGKILL and a
 * restart on the same data), a registry with the benchmark image, the api, the orchestrator and
 * `runnerCount` sandbox runners. Logs go to `logDir`; everything else lives in a temp dir that the
 * teardown removes.
 */
export interface ChaosStackOptions {
  runnerCount: number;
  logDir: string;
  teardown: Teardown;
  onCrash: (s: Service, how: string) => void;
  /** Extra settings for the Postgres server (`-c name=value` each). */
  postgresSettings?: string[];
  /** Extra environment for the api (e.g. BENCHLINE_API_CONTROL_WORKER). */
  apiEnv?: NodeJS.ProcessEnv;
  /**
   * The api and the orchestrator connect as database roles of their own (`api`, `orchestrator`), so
   * server statistics (pg_stat_statements) tell their statements apart.
   */
  rolePerService?: boolean;
}

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const { logDir, teardown, onCrash } = options;
  const work = await mkdtemp(join(tmpdir(), 'benchline-chaos-'));
  // The cluster's directory below belongs to the postgres user, who must be able to reach it.
  await chmod(work, 0o755);
  await mkdir(logDir, { recursive: true });
  teardown.add(async () => {
    // Runners killed mid-job leave their overlay mounts behind.
    await releaseStaleMounts(work);
    await rm(work, { recursive: true, force: true });
  });
  const service = (spec: ServiceSpec) => {
    const s = new Service(spec, logDir, onCrash);
    teardown.add(() => s.stop());
    return s;
  };
  const [pgPort, temporalPort, registryPort, apiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);

  const registry = await startRegistry(join(work, 'registry'), registryPort);
  teardown.add(() => registry.stop());
  const image = `${registry.address}/chaos/bench:latest`;
  const imagePushed = buildAndPushImage({ reference: image, entrypoint: ['/bench.sh'], files: { '/bench.sh': CHAOS_BENCHMARK_SH } });
  imagePushed.catch(() => undefined); // awaited below; this keeps an early failure from going unhandled

  const pgDir = join(work, 'postgres');
  initCluster(pgDir);
  const adminUrl = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
  const postmaster = postmasterCommand(pgDir, pgPort);
  postmaster.args.push(...(options.postgresSettings ?? []).flatMap((setting) => ['-c', setting]));
  const postgres = service({ name: 'postgres', ...postmaster, ready: () => postgresAnswers(adminUrl) });
  const temporalAddress = `127.0.0.1:${temporalPort}`;
  const temporalServer = service({
    name: 'temporal',
    command: temporalCliPath(),
    args: ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(temporalPort), '--db-filename', join(work, 'temporal.sqlite'), '--log-level', 'warn', ...TEMPORAL_DEV_SERVER_ARGS],
    ready: () => temporalAnswers(temporalAddress),
  });
  await Promise.all([postgres.start(), temporalServer.start()]);

  const databaseUrl = await ensureDatabase(adminUrl, 'benchline');
  const db = connect(databaseUrl, { min: 0, max: 4 });
  teardown.add(() => db.destroy());
  await migrateLatest(db);
  const connection = await Connection.connect({ address: temporalAddress });
  teardown.add(() => connection.close());
  const temporal = new Client({ connection });

  const org = await createOrganization(db, { slug: 'chaos', plan: 'team' });
  const { token: userToken } = await createUser(db, { slug: 'chaos', organizationId: org.id });
  const project = await createProject(db, { organizationId: org.id, slug: 'chaos' });
  const spec = await createSpec(db, { slug: 'chaos' });
  await db('testbed').insert({ project_id: project.id, slug: 'ci', name: 'ci', spec_id: spec.id });

  const common = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    // A development server, as `npm run dev` is: its registry is on loopback and its own.
    BENCHLINE_ALLOW_PRIVATE_NETWORKS: '1',
    BENCHLINE_OWN_REGISTRY: registry.address,
    // One key for the stack's life: restarted services must open what the earlier ones sealed.
    BENCHLINE_SECRETS_KEY: generateSecretsKey(),
  };
  const asRole = async (role: string) => {
    if (!options.rolePerService) return {};
    // Trust authentication: the role needs no password; superuser, as the postgres role the others use.
    await db.raw(`create role ${role} login superuser`);
    const url = new URL(databaseUrl);
    url.username = role;
    return { DATABASE_URL: url.toString() };
  };
  const [apiRole, orchestratorRole] = [await asRole('api'), await asRole('orchestrator')];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const node = (name: string, main: string, env: NodeJS.ProcessEnv, ready: ServiceSpec['ready']) =>
    service({ name, command: process.execPath, args: ['--require', TSX, join(ROOT, main)], env: { ...common, BENCHLINE_SERVICE: name, ...env }, ready });
  const api = node('api', 'api/main.ts', {
    BENCHLINE_API_PORT: String(apiPort),
    // Retries after an outage come in bursts from one token and one address; the limits are not under test.
    BENCHLINE_RATE_LIMIT_PER_TOKEN: process.env.BENCHLINE_RATE_LIMIT_PER_TOKEN ?? '100000',
    BENCHLINE_RATE_LIMIT_PER_IP: process.env.BENCHLINE_RATE_LIMIT_PER_IP ?? '100000',
    ...apiRole,
    ...options.apiEnv,
  }, async () => (await fetch(`${apiUrl}/ready`)).ok);
  const orchestrator = node('orchestrator', 'orchestrator/main.ts', orchestratorRole, (s) => polling(temporal, CONTROL_TASK_QUEUE, s.pid));
  const shimDir = join(work, 'shim');
  const startsLog = join(logDir, 'command-starts.log');
  await installBwrapShim(shimDir, startsLog);
  const runners = await Promise.all(
    Array.from({ length: options.runnerCount }, async (_, i) => {
      const slug = `chaos-runner-${i + 1}`;
      const { token } = await createRunner(db, { slug, specIds: [spec.id] });
      return node(slug, 'runner/main.ts', {
        BENCHLINE_API_URL: apiUrl,
        BENCHLINE_RUNNER: slug,
        BENCHLINE_RUNNER_TOKEN: token,
        BENCHLINE_CACHE_DIR: join(work, slug),
        BENCHLINE_EXECUTOR: 'sandbox',
        PATH: `${shimDir}:${process.env.PATH}`,
      }, async (s) => s.output().includes('polling'));
    }),
  );
  await api.start();
  await Promise.all([orchestrator.start(), ...runners.map((r) => r.start())]);
  await imagePushed;
  return { apiUrl, image, project: project.slug, userToken, db, temporal, postgres, temporalServer, api, orchestrator, runners, startsLog, registryPid: registry.process.pid };
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function temporalAnswers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

/** Whether the worker process `pid` polls `taskQueue` (a worker's default identity is `<pid>@<host>`). */
export async function polling(temporal: Client, taskQueue: string, pid: number | undefined): Promise<boolean> {
  const { pollers } = await temporal.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue } });
  return (pollers ?? []).some((p) => p.identity?.startsWith(`${pid}@`));
}
