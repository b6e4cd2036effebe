import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { apiConfigFromEnv } from '../../api/config';
import { generateToken } from '../../common/tokens';
import { connect, type Db } from '../../db/connection';
import { freePort } from '../../devenv/wait';
import { registrationBody } from '../harness/fleet';

/**
 * Postgres unreachable: the api answers every database-backed route 503 + Retry-After in the one
 * error shape (clients and runners retry), while liveness stays up and readiness says why not.
 */
describe('database down', () => {
  let db: Db;
  let connection: Connection;
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    // A port nothing listens on: every connection attempt is refused, as when Postgres is stopped.
    const databaseUrl = `postgres://postgres@127.0.0.1:${await freePort()}/benchline`;
    db = connect(databaseUrl);
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    app = await buildApp({ db, temporal: new Client({ connection }), config: { ...apiConfigFromEnv(), databaseUrl }, logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await connection?.close();
    await db?.destroy();
  });

  const json = { 'content-type': 'application/json' };
  const requests: [string, string, RequestInit][] = [
    ['an anonymous read', '/v0/projects/some-project', {}],
    ['a token holder (the token lookup needs the database)', '/v0/tokens', { headers: { authorization: `Bearer ${generateToken('user')}` } }],
    ['a submission', '/v0/run', { method: 'POST', headers: json, body: JSON.stringify({ project: 'p', branch: 'main', testbed: 'ci', job: { image: 'registry.example/x:1' } }) }],
    ['a runner call', '/v0/runners/r/register', { method: 'POST', headers: { ...json, authorization: `Bearer ${generateToken('runner')}` }, body: JSON.stringify(registrationBody()) }],
  ];

  it.each(requests)('%s: 503 with Retry-After', async (_name, path, init) => {
    const res = await fetch(`${url}${path}`, init);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await res.json()).toEqual({ error: 'unavailable', message: 'database unavailable, retry later' });
  });

  it('liveness stays up; readiness reports the database', async () => {
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', reason: 'database unreachable' });
  });
});
