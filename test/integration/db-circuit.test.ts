import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { apiConfigFromEnv } from '../../api/config';
import { connect, migrateLatest, type Db } from '../../db/connection';
import { createOrganization, createProject } from '../../db/seed';
import { ensureDatabase, ownedCluster, type OwnedCluster } from '../../devenv/postgres';
import { waitFor } from '../../devenv/wait';

const COOLDOWN_MS = 3000;
const ACQUIRE_TIMEOUT_MS = 5000;

/**
 * The pool's circuit breaker with Postgres (a cluster this file owns) stopped, then hung, under a
 * running api: once open, requests are refused with 503 + Retry-After at once instead of each
 * waiting for a connection, and the api serves again by itself once Postgres is back.
 */
describe('database circuit breaker', () => {
  let dir: string;
  let cluster: OwnedCluster;
  let admin: Db;
  let db: Db;
  let connection: Connection;
  let app: FastifyInstance;
  let url: string;
  let postmaster: number | undefined;
  const project = `circuit-${Date.now()}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'benchline-circuit-'));
    cluster = await ownedCluster(dir);
    const databaseUrl = await ensureDatabase(cluster.adminUrl, 'benchline');
    admin = connect(databaseUrl, { min: 0, max: 1 }, { breaker: false });
    await migrateLatest(admin);
    const org = await createOrganization(admin, { slug: `org-${project}`, plan: 'team' });
    await createProject(admin, { organizationId: org.id, slug: project, visibility: 'public' });
    await admin.destroy();
    db = connect(databaseUrl, { min: 0, max: 10 }, { breaker: { threshold: 3, cooldownMs: COOLDOWN_MS }, acquireTimeoutMs: ACQUIRE_TIMEOUT_MS });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    app = await buildApp({ db, temporal: new Client({ connection }), config: { ...apiConfigFromEnv(), databaseUrl }, logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    if (postmaster) process.kill(postmaster, 'SIGCONT');
    await app?.close();
    await connection?.close();
    await db?.destroy();
    await cluster?.stop('fast').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  /** A database-backed read, timed. */
  const read = async () => {
    const started = performance.now();
    const res = await fetch(`${url}/v0/projects/${project}`);
    await res.arrayBuffer();
    return { status: res.status, retryAfter: Number(res.headers.get('retry-after')), ms: performance.now() - started };
  };
  const circuitOpen = async () => Number(/^benchline_db_circuit_open (\d)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);

  /** Once open: every request of a burst is refused within the bound, each told when to retry. */
  const expectFastRefusals = async () => {
    const burst = await Promise.all(Array.from({ length: 20 }, read));
    for (const r of burst) {
      expect(r.status).toBe(503);
      expect(r.retryAfter).toBeGreaterThanOrEqual(1);
      expect(r.retryAfter).toBeLessThanOrEqual(Math.ceil(COOLDOWN_MS / 1000));
      expect(r.ms).toBeLessThan(2000);
    }
  };

  it('Postgres stopped: opens after the failures, refuses at once, and closes by itself once Postgres is back', async () => {
    expect(await read()).toMatchObject({ status: 200 });
    expect(await circuitOpen()).toBe(0);

    await cluster.stop('immediate');
    await waitFor('the breaker to open', async () => (await read()).status === 503 && (await circuitOpen()) === 1, 30000, 50);
    await expectFastRefusals();
    expect(await (await fetch(`${url}/ready`)).json()).toEqual({ status: 'unavailable', reason: 'database unreachable' });

    await cluster.start();
    // Same api process, same pool: the probe after a cooldown closes the breaker.
    await waitFor('reads to succeed again', async () => (await read()).status === 200, 30000, 100);
    expect(await circuitOpen()).toBe(0);
  });

  it('Postgres hung (connections never answered): only the first requests wait out the acquire timeout, the rest are refused at once', async () => {
    // Pooled connections would still work (their backends run): end them, then stop the postmaster
    // itself, so that every new connection is accepted by the kernel and never answered.
    await fetch(`${url}/v0/projects/${project}`);
    const adminUrl = new URL(cluster.adminUrl);
    const terminator = connect(adminUrl.toString(), { min: 0, max: 1 }, { breaker: false });
    await terminator.raw("select pg_terminate_backend(pid) from pg_stat_activity where datname = 'benchline'");
    await terminator.destroy();
    // The api's pooled clients see their backends end asynchronously; until knex has marked each one
    // disposed (it then replaces it on the next acquire), a read could fail fast on a dead one instead.
    const free = () => (db.client as unknown as { pool: { free: { resource: { __knex__disposed?: unknown } }[] } }).pool.free;
    await waitFor('the pool to notice its ended connections', async () => free().every((f) => f.resource.__knex__disposed) || undefined, 10000, 20);
    postmaster = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGSTOP');

    // These pile up as requests did before the breaker: each waits for a connection until the timeout.
    const first = await Promise.all(Array.from({ length: 3 }, read));
    for (const r of first) expect(r).toMatchObject({ status: 503 });
    expect(Math.min(...first.map((r) => r.ms))).toBeGreaterThanOrEqual(ACQUIRE_TIMEOUT_MS - 500);
    expect(await circuitOpen()).toBe(1);
    await expectFastRefusals();

    process.kill(postmaster, 'SIGCONT');
    postmaster = undefined;
    await waitFor('reads to succeed again', async () => (await read()).status === 200, 30000, 100);
    expect(await circuitOpen()).toBe(0);
  });
});
