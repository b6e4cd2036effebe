import type { Knex } from 'knex';
import { connect } from '../../db/connection';
import { describeDatabaseUrl } from '../../db/config';
import { freePort } from '../../devenv/wait';
import { migrationSource } from '../../migrations';
import { scratchDatabase } from '../harness/databases';
import { startService, type ServiceProcess } from '../harness/service-process';

/** Waits for a process that must refuse to start (killed after `timeoutMs`); returns its exit code and stderr's lines. */
async function refusal(service: ServiceProcess, timeoutMs = 60000) {
  const deadline = setTimeout(() => service.child.kill('SIGKILL'), timeoutMs);
  const code = await service.exited.finally(() => clearTimeout(deadline));
  return { code, lines: service.stderr().trim().split('\n') };
}

/**
 * Configuration checked at start, with real processes: each refusal is one line on stderr that
 * names the variable or the database (never its password) and a non-zero exit, before any port
 * opens or any work is taken.
 */
describe('start-up checks', () => {
  let partial: Awaited<ReturnType<typeof scratchDatabase>>;
  let newest: string;

  beforeAll(async () => {
    // A database one migration behind this code, as after a deploy that skipped `npm run migrate`.
    partial = await scratchDatabase('benchline_startup');
    const all = await migrationSource.getMigrations([]);
    newest = all[all.length - 1];
    const behind: Knex.MigrationSource<string> = { ...migrationSource, getMigrations: async () => all.slice(0, -1) };
    const db = connect(partial.url, { min: 0, max: 1 }, { breaker: false });
    await db.migrate.latest({ migrationSource: behind });
    await db.destroy();
  });
  afterAll(() => partial?.drop());

  it('a DATABASE_URL nothing answers: retried for BENCHLINE_STARTUP_DB_WAIT_MS, then one line naming host and database, not the password', async () => {
    const port = await freePort();
    const started = Date.now();
    const { code, lines } = await refusal(
      startService('api/main.ts', { DATABASE_URL: `postgres://bench:s3cret-pw@127.0.0.1:${port}/nowhere`, BENCHLINE_STARTUP_DB_WAIT_MS: '2000', BENCHLINE_API_PORT: String(await freePort()) }),
    );
    expect(code).toBe(1);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^benchline-api: cannot reach the database bench@127\\.0\\.0\\.1:${port}/nowhere \\(waited 2 s, BENCHLINE_STARTUP_DB_WAIT_MS\\): .*ECONNREFUSED`))]);
    expect(lines[0]).not.toContain('s3cret-pw');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  });

  it('a database that does not exist fails at once, without waiting out the window', async () => {
    const missing = new URL(process.env.DATABASE_URL!);
    missing.pathname = `/${partial.name}_missing`;
    const { code, lines } = await refusal(startService('api/main.ts', { DATABASE_URL: missing.toString(), BENCHLINE_STARTUP_DB_WAIT_MS: '300000' }));
    expect(code).toBe(1);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^benchline-api: cannot use the database .*/${partial.name}_missing: 3D000 database "${partial.name}_missing" does not exist$`))]);
  });

  it('pending migrations: the api and the orchestrator refuse to start and say to run npm run migrate', async () => {
    const [api, orchestrator] = await Promise.all([
      refusal(startService('api/main.ts', { DATABASE_URL: partial.url })),
      refusal(startService('orchestrator/main.ts', { DATABASE_URL: partial.url })),
    ]);
    for (const [name, { code, lines }] of [['api', api], ['orchestrator', orchestrator]] as const) {
      expect(code).toBe(1);
      expect(lines).toEqual([`benchline-${name}: the database ${describeDatabaseUrl(partial.url)} lacks 1 migration (${newest}): run \`npm run migrate\` (or set BENCHLINE_MIGRATE_ON_START=true)`]);
    }
  });

  it('no sealing key (BENCHLINE_SECRETS_KEY), or one that is not 32 bytes: the api and the orchestrator refuse to start, naming it, never echoing it', async () => {
    const short = Buffer.from('only sixteen b!!').toString('base64');
    const [api, orchestrator, apiShort] = await Promise.all([
      refusal(startService('api/main.ts', { BENCHLINE_SECRETS_KEY: undefined, BENCHLINE_API_PORT: String(await freePort()) })),
      refusal(startService('orchestrator/main.ts', { BENCHLINE_SECRETS_KEY: undefined })),
      refusal(startService('api/main.ts', { BENCHLINE_SECRETS_KEY: short, BENCHLINE_API_PORT: String(await freePort()) })),
    ]);
    for (const [name, { code, lines }] of [['api', api], ['orchestrator', orchestrator]] as const) {
      expect(code).toBe(2);
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^benchline-${name}: invalid configuration: BENCHLINE_SECRETS_KEY: is required \\(32 random bytes in base64`))]);
    }
    expect(apiShort.code).toBe(2);
    expect(apiShort.lines).toEqual(['benchline-api: invalid configuration: BENCHLINE_SECRETS_KEY: expected 32 bytes in base64 (openssl rand -base64 32), got 16 bytes']);
  });

  it('a variable that does not parse: one line naming each, exit 2 (api and runner)', async () => {
    const api = await refusal(startService('api/main.ts', { BENCHLINE_API_PORT: 'eighty', BENCHLINE_SLOW_QUERY_MS: '-5' }));
    expect(api.code).toBe(2);
    expect(api.lines).toEqual([
      'benchline-api: invalid configuration: BENCHLINE_SLOW_QUERY_MS: expected a whole number of at least 0, got "-5"; BENCHLINE_API_PORT: expected a whole number from 0 to 65535, got "eighty"',
    ]);
    const runner = await refusal(startService('runner/main.ts', { BENCHLINE_RUNNER: 'r', BENCHLINE_RUNNER_TOKEN: undefined, BENCHLINE_PING_INTERVAL_MS: '1s' }));
    expect(runner.code).toBe(2);
    expect(runner.lines).toEqual(['benchline-runner: invalid configuration: BENCHLINE_RUNNER_TOKEN: is required; BENCHLINE_PING_INTERVAL_MS: expected a whole number of at least 1, got "1s"']);
  });
});
