import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, migrateLatest } from '../../db/connection';
import { ensureDatabase, ownedCluster, type OwnedCluster } from '../../devenv/postgres';
import { busyQueue } from '../harness/outage';
import { registrationBody } from '../harness/fleet';
import { Stack } from '../harness/stack';

/**
 * Postgres stopped (as by a crash) for 20 s under a running job and a queue: the api answers 503,
 * runners and control activities retry, nothing fails and no run attempt is spent.
 */
describe('postgres outage', () => {
  let dir: string;
  let cluster: OwnedCluster | undefined;
  let stack: Stack | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'benchline-pg-'));
    cluster = await ownedCluster(dir);
    const databaseUrl = await ensureDatabase(cluster.adminUrl, 'benchline');
    const db = connect(databaseUrl);
    await migrateLatest(db);
    await db.destroy();
    stack = await Stack.start({ databaseUrl });
  });
  afterAll(async () => {
    await stack?.stop();
    // Already stopped when the test failed during the outage.
    await cluster?.stop('fast').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('every job ends processed when Postgres is down for 20 s while 20 jobs are queued and one runs', async () => {
    const s = stack!;
    // The running job is short enough to finish (and upload) while Postgres is down.
    const { runner, running, allProcessed } = await busyQueue(s, { queued: 20, runningSeconds: 4 });

    await cluster!.stop('immediate');
    const refused = await fetch(`${s.apiUrl}/v0/runners/${runner.slug}/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${runner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(registrationBody()),
    });
    expect({ status: refused.status, retryAfter: refused.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: expect.any(String) });
    // The outage itself: its length is the point, not a wait for some state.
    await sleep(20_000);
    // The running job's benchmark ended during the outage; its runner is still trying to upload (and heartbeating).
    expect(await s.heartbeatPhase(running.job)).toBe('uploading');
    await cluster!.start();

    await allProcessed();
  });
});
