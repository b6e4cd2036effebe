/**
 * The tiers' concurrency permits (migration 009): a gate (an organization, or a source IP, scoped
 * by the control queue: common/tiers.ts) lets `permits` of its jobs hold a permit at once; the
 * others wait in arrival order. Every change to a gate's rows is made under the gate's advisory
 * lock, so counting the holders and granting is one atomic step however many submissions and
 * releases race.
 */
import type { Knex } from 'knex';
import type { TierGate } from '../common/contracts';
import type { PermitRow } from './rows';

/** Seed 1 keeps gate locks apart from the job locks (seed 0) of holdJobUntilCommit. */
function lockGate(trx: Knex.Transaction, gate: string) {
  return trx.raw('select pg_advisory_xact_lock(hashtextextended(?::text, 1))', [gate]);
}

/**
 * Inside the submission's transaction: the job's permit, held when the gate has room and nobody
 * waits, else a place in the queue. True when admitted. The gate stays locked until COMMIT, so
 * submissions to one gate commit in the order they were admitted or queued.
 */
export async function takePermit(trx: Knex.Transaction, jobId: string, gate: TierGate): Promise<boolean> {
  // A statement of its own: the INSERT's snapshot is then taken once the lock is granted, and sees
  // the rows of the submission or release it waited for.
  await lockGate(trx, gate.id);
  const { rows } = await trx.raw<{ rows: { held: boolean }[] }>(
    `insert into tier_permit (job_id, gate, permits, held)
     select ?, ?, ?, (select count(*) from tier_permit where gate = ? and held) < ?
                     and not exists (select 1 from tier_permit where gate = ? and not held)
     returning held`,
    [jobId, gate.id, gate.permits, gate.id, gate.permits, gate.id],
  );
  return rows[0].held;
}

/** Grants free permits to the gate's oldest waiting jobs (the caller holds the gate's lock); the jobs granted. */
async function grantWaiting(trx: Knex.Transaction, gate: string, permits: number): Promise<string[]> {
  const { rows } = await trx.raw<{ rows: { job_id: string }[] }>(
    `update tier_permit set held = true where job_id in (
       select job_id from tier_permit where gate = ? and not held order by seq
       limit greatest(0, ? - (select count(*) from tier_permit where gate = ? and held)))
     returning job_id`,
    [gate, permits, gate],
  );
  return rows.map((r) => r.job_id);
}

/**
 * Gives the job's permit back (or its place in the queue) and hands what is free to the gate's
 * oldest waiting jobs, in one transaction. Returns the jobs granted, whose workflows must be told;
 * nothing when the job held nothing (already released).
 */
export async function releasePermit(db: Knex, jobId: string): Promise<string[]> {
  return db.transaction(async (trx) => {
    const row = await trx<PermitRow>('tier_permit').where({ job_id: jobId }).first('gate');
    if (!row) return [];
    await lockGate(trx, row.gate);
    const [deleted] = await trx<PermitRow>('tier_permit').where({ job_id: jobId }).delete().returning(['gate', 'permits']);
    // Released meanwhile by another caller (the reconciler and the job's own workflow may race).
    if (!deleted) return [];
    return grantWaiting(trx, deleted.gate, deleted.permits);
  });
}

/**
 * For a job waiting at `gate`: queues it if it has no row (a job whose workflow the api started
 * again: see resume in api/routes/run.ts), grants what is free to the oldest waiting jobs, and says
 * whether this job now holds a permit, with the other jobs granted (to be told).
 */
export async function checkPermit(db: Knex, jobId: string, gate: TierGate): Promise<{ held: boolean; granted: string[] }> {
  return db.transaction(async (trx) => {
    await lockGate(trx, gate.id);
    await trx('tier_permit').insert({ job_id: jobId, gate: gate.id, permits: gate.permits, held: false }).onConflict('job_id').ignore();
    const granted = await grantWaiting(trx, gate.id, gate.permits);
    const own = await trx<PermitRow>('tier_permit').where({ job_id: jobId }).first('held');
    return { held: own!.held, granted: granted.filter((id) => id !== jobId) };
  });
}

/** The jobs holding a permit of the gate. */
export function permitHolders(db: Knex, gate: string): Promise<string[]> {
  return db<PermitRow>('tier_permit').where({ gate, held: true }).pluck('job_id');
}
