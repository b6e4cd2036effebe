/**
 * `npm run dev`: the whole system on embedded defaults, then one demo job end to end.
 *
 * Starts Temporal (SQLite under .data/, Web UI on :8233), Postgres (local or embedded) with
 * migrations, a registry on :5000, the api, the orchestrator and one sandbox runner; seeds a demo
 * tenant; builds and pushes a demo benchmark image; submits it with the CLI and prints its results.
 * Keeps running until Ctrl-C, which stops everything it started. `--once` exits after the demo;
 * `--microvm` runs the demo runner's jobs in microVMs instead of the (faster to start) sandbox.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { connect, migrateLatest } from '../db/connection';
import { seedDemo } from '../devenv/demo-seed';
import { buildAndPushImage, DEMO_BENCHMARK_SH } from '../devenv/images';
import { DATA_DIR, ROOT, TEMPORAL_DYNAMIC_CONFIG, temporalCliPath } from '../devenv/paths';
import { ensureDatabase, postgresServer } from '../devenv/postgres';
import { startRegistry, stopProcess } from '../devenv/registry';
import { waitFor } from '../devenv/wait';

const TEMPORAL_PORT = Number(process.env.TEMPORAL_PORT ?? 7233);
const TEMPORAL_UI_PORT = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
const REGISTRY_PORT = Number(process.env.REGISTRY_PORT ?? 5000);
const API_PORT = Number(process.env.BENCHLINE_API_PORT ?? 8080);
const LOGS = join(DATA_DIR, 'logs');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cjs', 'index.cjs');

const started: { name: string; child: ChildProcess }[] = [];
const step = (message: string) => console.log(`\x1b[1m==>\x1b[0m ${message}`);

/** A child in its own process group, so Ctrl-C reaches only us and we stop children in order. */
function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const log = createWriteStream(join(LOGS, `${name}.log`), { flags: 'a' });
  const child = spawn(command, args, { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited (${signal ?? code}); see ${join(LOGS, `${name}.log`)}`);
  });
  started.push({ name, child });
  return child;
}

let stopping = false;
async function stopAll(): Promise<void> {
  stopping = true;
  for (const { child } of started.reverse()) await stopProcess(child);
}

async function main() {
  const once = process.argv.includes('--once');
  const executor = process.argv.includes('--microvm') ? 'microvm' : 'sandbox';
  await mkdir(LOGS, { recursive: true });
  process.once('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(0)));

  step('Postgres');
  const pg = await postgresServer(DATA_DIR);
  const databaseUrl = await ensureDatabase(pg.adminUrl, 'benchline');
  const db = connect(databaseUrl);
  const applied = await migrateLatest(db);
  console.log(`    ${pg.kind} server, database benchline (${applied.length ? `applied ${applied.join(', ')}` : 'schema up to date'})`);

  step(`Temporal dev server on :${TEMPORAL_PORT}, Web UI on :${TEMPORAL_UI_PORT}`);
  const temporalAddress = `127.0.0.1:${TEMPORAL_PORT}`;
  const temporal = launch('temporal', temporalCliPath(), [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(TEMPORAL_PORT), '--ui-port', String(TEMPORAL_UI_PORT),
    '--db-filename', join(DATA_DIR, 'temporal.sqlite'), ...TEMPORAL_DYNAMIC_CONFIG,
  ]);
  await waitFor('Temporal', async () => {
    if (temporal.exitCode !== null) throw new Error(`temporal exited; is port ${TEMPORAL_PORT} taken? see ${LOGS}/temporal.log`);
    const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 1000 });
    await connection.workflowService.getSystemInfo({});
    await connection.close();
    return true;
  }, 60000, 500);

  step(`OCI registry on :${REGISTRY_PORT}`);
  const registry = await startRegistry(join(DATA_DIR, 'registry'), REGISTRY_PORT);
  started.push({ name: 'registry', child: registry.process });

  step('Demo organization, project, spec and runner');
  const demo = await seedDemo(db);
  await db.destroy();

  const apiUrl = `http://127.0.0.1:${API_PORT}`;
  const common = { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_UI_URL: `http://127.0.0.1:${TEMPORAL_UI_PORT}` };
  step(`api on ${apiUrl}, orchestrator, runner ${demo.runner} (${executor} executor)`);
  const api = launch('api', process.execPath, ['--require', TSX, join(ROOT, 'api', 'main.ts')], { ...common, BENCHLINE_API_PORT: String(API_PORT) });
  await waitFor('api', async () => {
    if (api.exitCode !== null) throw new Error(`api exited; is port ${API_PORT} taken? see ${LOGS}/api.log`);
    return (await fetch(`${apiUrl}/ready`)).ok;
  }, 60000, 250);
  launch('orchestrator', process.execPath, ['--require', TSX, join(ROOT, 'orchestrator', 'main.ts')], common);
  launch('runner', process.execPath, ['--require', TSX, join(ROOT, 'runner', 'main.ts')], {
    ...common,
    BENCHLINE_API_URL: apiUrl,
    BENCHLINE_RUNNER: demo.runner,
    BENCHLINE_RUNNER_TOKEN: demo.runnerToken,
    BENCHLINE_CACHE_DIR: join(DATA_DIR, 'runner'),
    BENCHLINE_EXECUTOR: executor,
  });

  step('Demo benchmark image (umoci, busybox) → registry');
  const image = `${registry.address}/demo/sha256-bench:latest`;
  const digest = await buildAndPushImage({ reference: image, entrypoint: ['/bench.sh'], files: { '/bench.sh': DEMO_BENCHMARK_SH } });
  console.log(`    ${image} = ${digest}`);

  // A t-test threshold on latency: from the third run on, each result is judged against the history.
  const runArgs = ['--project', demo.project, '--branch', 'main', '--testbed', demo.testbed, '--adapter', 'json', '--image', image,
    '--threshold-measure', 'latency', '--threshold-test', 't_test', '--threshold-upper-boundary', '0.99'];
  step(`benchline run ${runArgs.join(' ')}`);
  const cli = spawn(join(ROOT, 'bin', 'benchline'), ['run', ...runArgs], {
    env: { ...process.env, BENCHLINE_API_URL: apiUrl, BENCHLINE_TOKEN: demo.userToken },
    stdio: 'inherit',
  });
  const code: number = await new Promise((resolve) => cli.once('exit', (c) => resolve(c ?? 1)));

  console.log(`
  API            ${apiUrl}
  API docs       ${apiUrl}/docs   (OpenAPI: ${apiUrl}/v0/openapi.json)
  Temporal UI    http://127.0.0.1:${TEMPORAL_UI_PORT}
  Logs           ${LOGS}
  Try it         BENCHLINE_API_URL=${apiUrl} BENCHLINE_TOKEN=${demo.userToken} \\
                   bin/benchline run ${runArgs.join(' ')}
`);
  if (once || code !== 0) {
    await stopAll();
    process.exit(code);
  }
  console.log('Running. Ctrl-C stops everything.');
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err);
  await stopAll();
  process.exit(1);
});
