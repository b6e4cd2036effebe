import { connect, type Db } from '../../db/connection';
import { createOrganization, createProject } from '../../db/seed';
import { freePort, waitFor } from '../../devenv/wait';
import { scratchDatabase } from '../harness/databases';
import { startService, type ServiceProcess } from '../harness/service-process';

/**
 * The api as its own process on a fresh database of its own: it migrates itself when configured
 * to, logs and counts slow statements (threshold 0: every statement), and on SIGTERM turns
 * unready, stops accepting, lets the request in flight finish and exits 0.
 */
describe('api process: slow statements and draining on SIGTERM', () => {
  // Also the binding of the project lookup: a slow-query line must not carry it.
  const project = `drain-${Date.now()}-marker`;
  let db: Db;
  let database: Awaited<ReturnType<typeof scratchDatabase>>;
  let api: ServiceProcess;
  let url: string;

  beforeAll(async () => {
    database = await scratchDatabase('benchline_drain');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    api = startService('api/main.ts', {
      DATABASE_URL: database.url,
      BENCHLINE_API_PORT: String(port),
      BENCHLINE_API_CONTROL_WORKER: 'false',
      BENCHLINE_METRICS_TOKEN: undefined,
      BENCHLINE_MIGRATE_ON_START: 'true',
      BENCHLINE_SLOW_QUERY_MS: '0',
      BENCHLINE_SHUTDOWN_DELAY_MS: '2000',
      BENCHLINE_SHUTDOWN_TIMEOUT_MS: '60000',
      LOG_LEVEL: 'info',
    });
    await waitFor('the api to be ready', async () => {
      if (api.child.exitCode !== null) throw new Error(`api exited: ${api.stderr()}`);
      return (await fetch(`${url}/ready`)).ok;
    }, 90000, 200);
    db = connect(database.url, { min: 0, max: 3 }, { breaker: false });
    const org = await createOrganization(db, { slug: `org-${project}`, plan: 'team' });
    await createProject(db, { organizationId: org.id, slug: project, visibility: 'public' });
  });
  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await db?.destroy();
    await database?.drop();
  });

  const logLines = () => api.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

  it('applied its own migrations at start (BENCHLINE_MIGRATE_ON_START), then logs and counts every statement past the threshold, without bound values', async () => {
    expect(logLines().find((l) => l.msg === 'applied pending migrations')).toMatchObject({ applied: expect.arrayContaining(['001_initial']) });
    const before = await slowQueries();
    const res = await fetch(`${url}/v0/projects/${project}`);
    expect(res.status).toBe(200);
    const lookup = await waitFor('the project lookup to be logged as slow', async () => logLines().find((l) => l.msg === 'slow query' && /from "project"/.test(String(l.sql))), 10000, 50);
    expect(lookup).toMatchObject({ thresholdMs: 0, durationMs: expect.any(Number), failed: false, sql: expect.stringMatching(/\$1/) });
    expect(logLines().filter((l) => l.msg === 'slow query' && JSON.stringify(l).includes(project))).toEqual([]);
    expect(await slowQueries()).toBeGreaterThan(before);
  });

  it('SIGTERM: readiness false, new connections refused, the request in flight finishes 200, exit 0', async () => {
    // The request in flight: its project lookup waits on a lock this test holds.
    const trx = await db.transaction();
    await trx.raw('lock table project in access exclusive mode');
    const inFlight = fetch(`${url}/v0/projects/${project}`);
    await waitFor('the api query to wait on the lock', async () => {
      const { rows } = await db.raw<{ rows: unknown[] }>("select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
      return rows.length > 0 || undefined;
    }, 30000, 50);

    api.child.kill('SIGTERM');
    await waitFor('readiness to turn false', async () => {
      const ready = await fetch(`${url}/ready`);
      return ready.status === 503 && JSON.stringify(await ready.json()) === JSON.stringify({ status: 'unavailable', reason: 'shutting down' });
    }, 30000, 50);
    await waitFor('new connections to be refused', () => fetch(`${url}/health`).then(() => false, () => true), 30000, 50);
    expect(api.child.exitCode).toBeNull();

    await trx.commit();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ slug: project });
    expect(await api.exited).toBe(0);
  });

  async function slowQueries(): Promise<number> {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/^benchline_db_slow_queries_total (\d+)/m.exec(text)?.[1]);
  }
});
