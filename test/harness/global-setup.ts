import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { generateSecretsKey } from '../../common/secret-box';
import { connect, migrateLatest } from '../../db/connection';
import { DATA_DIR, TEMPORAL_DEV_SERVER_ARGS, temporalCliPath } from '../../devenv/paths';
import { ensureDatabase, postgresServer } from '../../devenv/postgres';
import { startRegistry } from '../../devenv/registry';
import { freePort } from '../../devenv/wait';

/**
 * Once per test run: an ephemeral Temporal dev server (the binary bootstrap installed, never a
 * download), a fresh Postgres database with migrations applied, a local OCI registry, and the
 * workflow bundle. Test files read the addresses from the environment; teardown removes it all.
 */
export default async function globalSetup(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'benchline-test-'));
  // Postgres first: probing it is quick, and must not lose a race with the CPU-heavy bundling below.
  const postgres = await postgresServer(DATA_DIR);
  const started = await Promise.allSettled([
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: temporalCliPath() }, extraArgs: [...TEMPORAL_DEV_SERVER_ARGS] },
    }),
    freePort().then((port) => startRegistry(join(scratch, 'registry'), port)),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger }),
  ] as const);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    // Jest skips teardown when setup throws: stop whatever did start, or it outlives the run.
    const [envResult, registryResult] = started;
    if (envResult.status === 'fulfilled') await envResult.value.teardown();
    if (registryResult.status === 'fulfilled') await registryResult.value.stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  const [env, registry, bundle] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    TestWorkflowEnvironment,
    Awaited<ReturnType<typeof startRegistry>>,
    Awaited<ReturnType<typeof bundleWorkflowCode>>,
  ];
  const dbName = `benchline_test_${Date.now()}_${process.pid}`;
  const databaseUrl = await ensureDatabase(postgres.adminUrl, dbName);
  const db = connect(databaseUrl);
  await migrateLatest(db);
  await db.destroy();
  const bundlePath = join(scratch, 'workflow-bundle.js');
  await writeFile(bundlePath, bundle.code);

  process.env.TEMPORAL_ADDRESS = env.address;
  process.env.DATABASE_URL = databaseUrl;
  process.env.BENCHLINE_TEST_REGISTRY = registry.address;
  process.env.BENCHLINE_TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.BENCHLINE_TEST_SCRATCH = scratch;
  // The api and orchestrator require a sealing key (in-process stacks and the processes tests start alike).
  process.env.BENCHLINE_SECRETS_KEY ??= generateSecretsKey();
  globalThis.__benchline = { env, registry, adminUrl: postgres.adminUrl, dbName, scratch };
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

declare global {
  // eslint-disable-next-line no-var
  var __benchline: {
    env: TestWorkflowEnvironment;
    registry: Awaited<ReturnType<typeof startRegistry>>;
    adminUrl: string;
    dbName: string;
    scratch: string;
  };
}
