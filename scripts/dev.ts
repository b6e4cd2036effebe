/**
 * `npm run dev`: the whole system on embedded defaults, then one demo job end to end.
 *
 * Starts Temporal (SQLite under .data/, Web UI on :8233), Postgres (local or embedded) with
 * migrations, a registry on :5000, the api, the orchestrator and one sandbox runner; seeds a demo
 * tenant; builds and pushes a demo benchmark image; submits it with the CLI and prints its results.
 * Keeps running until Ctrl-C (or SIGTERM, SIGHUP), which stops everything it started, at any step
 * of the startup too, and exits 0 once all of it is gone: the stop was asked for, so a supervisor (or
 * npm, which exits with its script's status) sees a clean stop, not 143. A child that dies stops the
 * rest too (exit 1). `--once` exits after the demo; `--microvm` runs the demo runner's jobs in
 * microVMs instead of the (faster to start) sandbox.
 *
 * Refuses to start while any of its ports is taken, naming the holder. Ports, data directory and
 * names move with TEMPORAL_PORT, TEMPORAL_UI_PORT, REGISTRY_PORT, BENCHLINE_API_PORT,
 * BENCHLINE_DATA_DIR, DATABASE_URL (its database is used) and BENCHLINE_DEMO_RUNNER. The sealing key
 * (BENCHLINE_SECRETS_KEY) is made on the first run and kept in the data directory (devenv/secrets-key.ts).
 *
 * `npm run dev` runs it with `exec node --require tsx/cjs`, not the tsx CLI: that wrapper relays a
 * signal and SIGKILLs its child unless the child acknowledges within 30 ms, which would cut the
 * shutdown short and orphan everything.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { connect, migrateLatest } from '../db/connection';
import { seedDemo } from '../devenv/demo-seed';
import { buildAndPushImage, DEMO_BENCHMARK, DEMO_BENCHMARK_SH } from '../devenv/images';
import { DATA_DIR, ROOT, TEMPORAL_DEV_SERVER_ARGS, temporalCliPath } from '../devenv/paths';
import { assertPortsFree } from '../devenv/ports';
import { ensureDatabase, postgresServer } from '../devenv/postgres';
import { devSecretsKey } from '../devenv/secrets-key';
import { stopGroup } from '../devenv/process-group';
import { startRegistry } from '../devenv/registry';
import { waitFor } from '../devenv/wait';

const TEMPORAL_PORT = Number(process.env.TEMPORAL_PORT ?? 7233);
const TEMPORAL_UI_PORT = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
const REGISTRY_PORT = Number(process.env.REGISTRY_PORT ?? 5000);
const API_PORT = Number(process.env.BENCHLINE_API_PORT ?? 8080);
const LOGS = join(DATA_DIR, 'logs');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cjs', 'index.cjs');
/** How long each process may take to stop on SIGTERM before its group is killed. */
const STOP_GRACE_MS = 10000;
/** The runner's own drain on SIGTERM: shorter than STOP_GRACE_MS, so a job in flight ends canceled, not killed. */
const RUNNER_SHUTDOWN_GRACE_SECONDS = 5;
const DEMO_HISTORY_RUNS = 3;

const step = (message: string) => console.log(`\x1b[1m==>\x1b[0m ${message}`);

/** Every process group this script started, oldest first: stopped newest first. */
const started: { name: string; pgid: number }[] = [];
let stopping: Promise<never> | undefined;
/** Whether a signal began the shutdown: then a startup step failing is its casualty, not news. */
let signaled = false;
let stopEmbeddedPostgres: (() => Promise<void>) | undefined;

/**
 * Stops every process group this script started (newest first, SIGTERM, then SIGKILL after
 * STOP_GRACE_MS), waits until none of their processes is left, stops an embedded Postgres this run
 * started, and exits with `code`. Idempotent: the first caller's code wins.
 */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    for (const { name, pgid } of [...started].reverse()) {
      try {
        if (await stopGroup(pgid, STOP_GRACE_MS)) console.error(`${name} did not stop within ${STOP_GRACE_MS / 1000}s and was killed`);
      } catch (err) {
        console.error(`${name}: ${(err as Error).message}`);
        code ||= 1;
      }
    }
    await stopEmbeddedPostgres?.();
    process.exit(code);
  })();
  return stopping;
}

/**
 * Tracks a child started in its own process group (`detached`): a terminal's Ctrl-C reaches only
 * this script, which stops the groups itself, whatever order the signals arrive in. Unless its exit
 * is expected, a child dying takes the whole stack down with a non-zero exit.
 */
function track(name: string, child: ChildProcess, log?: string, expectExit = false): ChildProcess {
  if (child.pid !== undefined) {
    // Spawned by a startup step that was still under way when the shutdown began: it has nothing to drain.
    if (stopping) process.kill(-child.pid, 'SIGKILL');
    else started.push({ name, pgid: child.pid });
  }
  const unexpected = (why: string) => {
    if (stopping || expectExit) return;
    console.error(`${name} ${why}${log ? `; see ${log}` : ''}. Stopping everything.`);
    void shutdown(1);
  };
  child.once('exit', (code, signal) => unexpected(`exited (${signal ?? `code ${code}`})`));
  child.once('error', (err) => unexpected(`failed: ${err.message}`));
  return child;
}

/** A long-lived child writing straight to its log file: no pipe through this script that could fill or break. */
function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const log = join(LOGS, `${name}.log`);
  const fd = openSync(log, 'a');
  const stdio: StdioOptions = ['ignore', fd, fd];
  try {
    return track(name, spawn(command, args, { env: { ...process.env, ...env }, detached: true, stdio }), log);
  } finally {
    closeSync(fd);
  }
}

async function main() {
  const once = process.argv.includes('--once');
  const executor = process.argv.includes('--microvm') ? 'microvm' : 'sandbox';
  // Ctrl-C in a terminal signals the whole foreground group (npm, the shell, this script), and npm
  // passes its own copy on: every signal, however often and in whatever order, means one shutdown.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      signaled = true;
      step(`${signal}: stopping everything this run started`);
      void shutdown(0); // a stop that was asked for: see the header
    });
  }
  // A closed terminal (SIGHUP) fails our writes: the shutdown must not die of that.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  await mkdir(LOGS, { recursive: true });

  // Never talk to whatever already listens on our ports (an orphaned api or Temporal server runs old code).
  await assertPortsFree([
    { port: API_PORT, name: 'api', env: 'BENCHLINE_API_PORT' },
    { port: TEMPORAL_PORT, name: 'Temporal frontend', env: 'TEMPORAL_PORT' },
    { port: TEMPORAL_UI_PORT, name: 'Temporal Web UI', env: 'TEMPORAL_UI_PORT' },
    { port: REGISTRY_PORT, name: 'OCI registry', env: 'REGISTRY_PORT' },
  ]);

  step('Postgres');
  const pg = await postgresServer(DATA_DIR, { exclusive: true });
  stopEmbeddedPostgres = pg.stop;
  // DATABASE_URL names the database to use; otherwise `benchline` on the server found.
  const dbName = (process.env.DATABASE_URL && new URL(process.env.DATABASE_URL).pathname.slice(1)) || 'benchline';
  const databaseUrl = await ensureDatabase(pg.adminUrl, dbName);
  const db = connect(databaseUrl);
  const applied = await migrateLatest(db);
  console.log(`    ${pg.kind} server${pg.stop ? ' (started for this run)' : ''}, database ${dbName} (${applied.length ? `applied ${applied.join(', ')}` : 'schema up to date'})`);

  step(`Temporal dev server on :${TEMPORAL_PORT}, Web UI on :${TEMPORAL_UI_PORT}`);
  const temporalAddress = `127.0.0.1:${TEMPORAL_PORT}`;
  const temporal = launch('temporal', temporalCliPath(), [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(TEMPORAL_PORT), '--ui-port', String(TEMPORAL_UI_PORT),
    '--db-filename', join(DATA_DIR, 'temporal.sqlite'), ...TEMPORAL_DEV_SERVER_ARGS,
  ]);
  await waitFor('Temporal', async () => {
    if (temporal.exitCode !== null) throw new Error(`temporal exited; see ${LOGS}/temporal.log`);
    const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 1000 });
    await connection.workflowService.getSystemInfo({});
    await connection.close();
    return true;
  }, 60000, 500);

  step(`OCI registry on :${REGISTRY_PORT}`);
  const registry = await startRegistry(join(DATA_DIR, 'registry'), REGISTRY_PORT, { adopt: (child) => track('registry', child) });

  step('Demo organization, project, spec and runner');
  const demo = await seedDemo(db, { runner: process.env.BENCHLINE_DEMO_RUNNER });
  await db.destroy();

  const apiUrl = `http://127.0.0.1:${API_PORT}`;
  const secrets = await devSecretsKey(DATA_DIR);
  console.log(`    secrets sealed with the key from ${secrets.source}`);
  const common = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_UI_URL: `http://127.0.0.1:${TEMPORAL_UI_PORT}`,
    // A development server: registries on loopback and the LAN may be reached, and the local one is
    // the server's own (anonymous submissions may use it).
    BENCHLINE_ALLOW_PRIVATE_NETWORKS: '1',
    BENCHLINE_OWN_REGISTRY: registry.address,
    BENCHLINE_SECRETS_KEY: secrets.key,
  };
  step(`api on ${apiUrl}, orchestrator, runner ${demo.runner} for spec ${demo.spec} (${executor} executor)`);
  // The development topology: the api hosts a control worker and starts job workflows eagerly (the
  // orchestrator still runs, for the reconcile schedule and as a second control worker).
  const api = launch('api', process.execPath, ['--require', TSX, join(ROOT, 'api', 'main.ts')], { ...common, BENCHLINE_API_PORT: String(API_PORT), BENCHLINE_API_CONTROL_WORKER: 'true' });
  await waitFor('api', async () => {
    if (api.exitCode !== null) throw new Error(`api exited; see ${LOGS}/api.log`);
    return (await fetch(`${apiUrl}/ready`)).ok;
  }, 60000, 250);
  launch('orchestrator', process.execPath, ['--require', TSX, join(ROOT, 'orchestrator', 'main.ts')], common);
  const runner = launch('runner', process.execPath, ['--require', TSX, join(ROOT, 'runner', 'main.ts')], {
    ...common,
    BENCHLINE_API_URL: apiUrl,
    BENCHLINE_RUNNER: demo.runner,
    BENCHLINE_RUNNER_TOKEN: demo.runnerToken,
    BENCHLINE_SPEC: demo.spec,
    BENCHLINE_CACHE_DIR: join(DATA_DIR, 'runner'),
    BENCHLINE_EXECUTOR: executor,
    BENCHLINE_SHUTDOWN_GRACE_SECONDS: String(RUNNER_SHUTDOWN_GRACE_SECONDS),
  });

  step('Demo benchmark image (umoci, busybox) → registry');
  const image = `${registry.address}/demo/sha256-bench:latest`;
  const digest = await buildAndPushImage({ reference: image, entrypoint: ['/bench.sh'], files: { '/bench.sh': DEMO_BENCHMARK_SH } });
  console.log(`    ${image} = ${digest}`);

  // A spec accepts jobs only while a runner serving it is active: wait for the demo runner's check-in.
  await waitFor(`runner ${demo.runner} online`, async () => {
    if (runner.exitCode !== null) throw new Error(`runner exited; see ${LOGS}/runner.log`);
    const status = (await (await fetch(`${apiUrl}/v0/status`)).json()) as { specs: { spec: string; runners_online: number }[] };
    return status.specs.some((s) => s.spec === demo.spec && s.runners_online > 0);
  }, 60000, 250);

  // The spec the demo runner serves, named: a different server default must not strand the demo.
  // A t-test threshold on latency: from the third run on, each result is judged against the history.
  const runArgs = ['--project', demo.project, '--branch', 'main', '--testbed', demo.testbed, '--spec', demo.spec, '--adapter', 'json', '--image', image,
    '--threshold-measure', 'latency', '--threshold-test', 't_test', '--threshold-upper-boundary', '0.99'];
  // Its own group too, so a Ctrl-C mid-demo is ours to handle.
  const runDemo = (name: string, stdio: StdioOptions): Promise<number> => {
    const cli = track(name, spawn(join(ROOT, 'bin', 'benchline'), ['run', ...runArgs], {
      env: { ...process.env, BENCHLINE_API_URL: apiUrl, BENCHLINE_TOKEN: demo.userToken },
      stdio,
      detached: true,
    }), undefined, true);
    return new Promise((resolve) => cli.once('exit', (c) => resolve(c ?? 1)));
  };
  // Real runs, not invented numbers: the console's plot opens on a line, and the t-test has a history
  // to judge the shown run against. They queue behind each other on the one demo runner.
  step(`Demo history: ${DEMO_HISTORY_RUNS} earlier runs of the same benchmark`);
  const history = await Promise.all(Array.from({ length: DEMO_HISTORY_RUNS }, (_, i) => runDemo(`benchline run (history ${i + 1})`, 'ignore')));
  if (stopping) await stopping;
  if (history.some((c) => c !== 0)) console.error(`    ${history.filter((c) => c !== 0).length} of the history runs failed; see ${LOGS}`);
  step(`benchline run ${runArgs.join(' ')}`);
  const code = await runDemo('benchline run', 'inherit');
  if (stopping) await stopping; // stopped mid-demo: no summary of a stack that is going away

  console.log(`
  Console        ${apiUrl}/projects/${demo.project}/perf?branch=main&testbed=${demo.testbed}&benchmark=${encodeURIComponent(DEMO_BENCHMARK)}&measure=latency
                 (all benchmarks: ${apiUrl}/projects/${demo.project}/benchmarks?branch=main&testbed=${demo.testbed})
  API            ${apiUrl}
  API docs       ${apiUrl}/docs   (OpenAPI: ${apiUrl}/v0/openapi.json)
  Temporal UI    http://127.0.0.1:${TEMPORAL_UI_PORT}
  Logs           ${LOGS}
  Try it         BENCHLINE_API_URL=${apiUrl} BENCHLINE_TOKEN=${demo.userToken} \\
                   bin/benchline run ${runArgs.join(' ')}
`);
  if (once || code !== 0) await shutdown(code);
  console.log('Running. Ctrl-C stops everything.');
}

main().catch(async (err) => {
  if (!signaled) console.error(err instanceof Error ? err.message : err);
  await shutdown(1);
});
