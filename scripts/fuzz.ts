/**
 * `npm run fuzz`: schemathesis against a real stack, from the api's own OpenAPI document.
 *
 * Brings up a fresh Postgres database (migrated), an ephemeral Temporal dev server, the orchestrator
 * and the api (in this process, on free ports); seeds a server admin with an API token, an
 * organization, a project, a spec and a runner; runs every schemathesis check and phase with that
 * token for `--requests N` (BENCHLINE_FUZZ_REQUESTS, default 10,000) requests; prints the counts and
 * exits non-zero on any 5xx or failed check. Tears everything down again.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { buildApp } from '../api/app';
import { apiConfigFromEnv } from '../api/config';
import { connect, migrateLatest } from '../db/connection';
import { createOrganization, createProject, createRunner, createSpec, createUser, grantAdmin } from '../db/seed';
import { generateSecretsKey } from '../common/secret-box';
import { fuzz } from '../devenv/fuzz';
import { DATA_DIR, TEMPORAL_DEV_SERVER_ARGS, temporalCliPath } from '../devenv/paths';
import { dropDatabase, ensureDatabase, postgresServer } from '../devenv/postgres';
import { createOrchestratorWorker } from '../orchestrator/worker';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main() {
  const requests = Number(option('requests', process.env.BENCHLINE_FUZZ_REQUESTS ?? '10000'));
  const seed = process.argv.includes('--seed') ? Number(option('seed', '0')) : undefined;
  const cleanup: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of cleanup.reverse()) await step().catch((err) => console.error(err));
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const pg = await postgresServer(DATA_DIR);
    const dbName = `benchline_fuzz_${Date.now()}_${process.pid}`;
    const databaseUrl = await ensureDatabase(pg.adminUrl, dbName);
    cleanup.push(() => dropDatabase(pg.adminUrl, dbName));
    const db = connect(databaseUrl);
    cleanup.push(() => db.destroy());
    await migrateLatest(db);

    const temporal = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: temporalCliPath() }, extraArgs: [...TEMPORAL_DEV_SERVER_ARGS] },
    });
    cleanup.push(() => temporal.teardown());
    const address = temporal.connection.options.address;
    const nativeConnection = await NativeConnection.connect({ address });
    cleanup.push(() => nativeConnection.close());
    // The fuzzer names any host as a registry: the production policy, private networks refused.
    // This run's own sealing key, unless one is set (the api config below reads it too).
    process.env.BENCHLINE_SECRETS_KEY ??= generateSecretsKey();
    const { secretsKey } = apiConfigFromEnv();
    const orchestrator = await createOrchestratorWorker({ connection: nativeConnection, db, outbound: { allowPrivateNetworks: false }, secretsKey });
    const running = orchestrator.run();
    cleanup.push(async () => {
      orchestrator.shutdown();
      await running;
    });

    // A server admin, so the admin routes (specs, runners) are exercised too; the database is this run's own.
    const org = await createOrganization(db, { slug: 'fuzz', plan: 'team' });
    const { user, token } = await createUser(db, { slug: 'fuzz', organizationId: org.id });
    await grantAdmin(db, user.id);
    const spec = await createSpec(db, { slug: 'fuzz' });
    await createProject(db, { organizationId: org.id, slug: 'fuzz' });
    const runner = await createRunner(db, { slug: 'fuzz', specIds: [spec.id], seen: true });

    const config = {
      ...apiConfigFromEnv(),
      databaseUrl,
      temporalAddress: address,
      // The limit is tested elsewhere; here it would turn most submissions into 429s.
      rateLimits: { perToken: 1_000_000, perIp: 1_000_000, windowSeconds: 60 },
    };
    const app = await buildApp({ db, temporal: new Client({ connection: temporal.connection }), config, logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanup.push(() => app.close());
    const apiUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    console.log(`fuzzing ${apiUrl} with schemathesis: ${requests} requests, all checks, stateful phase`);
    const result = await fuzz({
      apiUrl,
      token,
      runnerToken: runner.token,
      parameters: { organization: 'fuzz', project: 'fuzz', runner: 'fuzz', spec: 'fuzz' },
      requests,
      seed,
      log: (chunk) => process.stdout.write(chunk),
    });
    console.log(`\nrequests: ${result.requests}  5xx: ${result.serverErrors}  failures: ${result.failures}  schemathesis errors: ${result.errors}`);
    process.exitCode = result.serverErrors + result.failures + result.errors === 0 ? 0 : 1;
  } finally {
    await stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
