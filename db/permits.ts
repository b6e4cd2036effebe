/**
 * Concurrency permits (migrations 009 and 011). A gate (an organization or a source IP for a tier,
 * scoped by the control queue: common/tiers.ts; or a project's concurrency rule) lets `permits` of
 * its jobs hold a permit at once. A job may need several gates: it holds a permit of each or of
 * none, and waits at all of them otherwise. Every change to a gate's rows is made under the gate's
 * advisory lock, so counting the holders and granting is one atomic step however many submissions
 * and releases race.
 *
 * Order and deadlock: each gate is first come, first served in `seq` order (one seq per job, its
 * arrival), and a waiting job holds nothing. A job is granted only when every one of its gates has
 * room and it is the oldest waiting there, so the oldest waiting job of all is granted as soon as
 * its gates' holders end: no cycle of jobs can wait on each other. Locks are taken in gate order;
 * a release that finds waiting jobs with further gates locks those too, and should that ever
 * deadlock with another release, Postgres aborts one of them, which is tried again.
 */
import type { Knex } from 'knex';
import type { TierGate } from '../common/contracts';
import type { PermitRow } from './rows';

/**
 * Seed 1 keeps gate locks apart from the job locks (seed 0) of holdJobUntilCommit. One statement,
 * locking in sorted order whatever the caller passed.
 */
function lockGates(trx: Knex.Transaction, gates: string[]) {
  return trx.raw('select pg_advisory_xact_lock(hashtextextended(g, 1)) from (select distinct g from unnest(?::text[]) g order by g) s', [gates]);
}

const DEADLOCK = '40P01';

/** A transaction of permit changes, tried again when Postgres broke a deadlock between two of them by aborting it. */
export async function retryingDeadlock<T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (err) {
      if ((err as { code?: string }).code !== DEADLOCK || attempt >= 5) throw err;
    }
  }
}

/**
 * Inside the submission's transaction: the job's permits, held when each gate has room and nobody
 * waits there, else a place in every gate's queue. True when admitted. The gates stay locked until
 * COMMIT, so submissions to a gate commit in the order they were admitted or queued.
 */
export async function takePermits(trx: Knex.Transaction, jobId: string, gates: TierGate[]): Promise<boolean> {
  // A statement of its own: the INSERT's snapshot is then taken once the locks are granted, and
  // sees the rows of the submissions or releases it waited for.
  await lockGates(trx, gates.map((g) => g.id));
  const { rows } = await trx.raw<{ rows: { held: boolean }[] }>(
    `with g as (select * from unnest(?::text[], ?::int[]) as g(gate, permits)),
     room as (select bool_and((select count(*) from tier_permit p where p.gate = g.gate and p.held) < g.permits
                              and not exists (select 1 from tier_permit p where p.gate = g.gate and not p.held)) as held from g),
     arrival as (select nextval(pg_get_serial_sequence('tier_permit', 'seq')) as seq)
     insert into tier_permit (job_id, gate, permits, held, seq)
     select ?, g.gate, g.permits, room.held, arrival.seq from g, room, arrival
     returning held`,
    [gates.map((g) => g.id), gates.map((g) => g.permits), jobId],
  );
  return rows[0].held;
}

/**
 * Grants the waiting jobs at `gates` that now may run, oldest first (the caller holds those gates'
 * locks); the jobs granted. The other gates of those jobs are locked here too, since a job is
 * granted only when all its gates have room. A job granted leaves the head of its other gates'
 * queues, where the next job may now go: those gates are looked at in turn.
 */
async function grantWaiting(trx: Knex.Transaction, gates: string[]): Promise<string[]> {
  const granted: string[] = [];
  for (let at = gates; at.length; ) {
    const now = await grantPass(trx, at);
    granted.push(...now);
    at = now.length ? await trx<PermitRow>('tier_permit').distinct('gate').whereIn('job_id', now).pluck('gate') : [];
  }
  return granted;
}

async function grantPass(trx: Knex.Transaction, gates: string[]): Promise<string[]> {
  const locked = new Set(gates);
  const waitingGates = async () =>
    trx<PermitRow>('tier_permit')
      .distinct('gate')
      .whereIn('job_id', trx('tier_permit').whereIn('gate', gates).andWhere({ held: false }).select('job_id'))
      .pluck('gate') as Promise<string[]>;
  // Gates can only join while this runs (a job queued meanwhile at a gate locked here has waited for that lock).
  for (let more = (await waitingGates()).filter((g) => !locked.has(g)); more.length; more = (await waitingGates()).filter((g) => !locked.has(g))) {
    await lockGates(trx, more);
    more.forEach((g) => locked.add(g));
  }
  const rows = await trx<PermitRow>('tier_permit').whereIn('gate', [...locked]).select('job_id', 'gate', 'permits', 'held', 'seq');
  const holders = new Map<string, number>();
  const queues = new Map<string, typeof rows>();
  for (const row of rows) {
    if (row.held) holders.set(row.gate, (holders.get(row.gate) ?? 0) + 1);
    else queues.set(row.gate, [...(queues.get(row.gate) ?? []), row]);
  }
  queues.forEach((queue) => queue.sort((a, b) => Number(BigInt(a.seq) - BigInt(b.seq))));
  const candidates = [...new Set(gates.flatMap((g) => queues.get(g) ?? []).sort((a, b) => Number(BigInt(a.seq) - BigInt(b.seq))).map((r) => r.job_id))];
  const granted: string[] = [];
  for (const jobId of candidates) {
    const own = rows.filter((r) => r.job_id === jobId);
    // First come, first served at each gate: a job behind an older waiting one is not granted before it.
    if (!own.every((r) => queues.get(r.gate)![0].job_id === jobId && (holders.get(r.gate) ?? 0) < r.permits)) continue;
    for (const r of own) {
      queues.get(r.gate)!.shift();
      holders.set(r.gate, (holders.get(r.gate) ?? 0) + 1);
    }
    granted.push(jobId);
  }
  if (granted.length) await trx('tier_permit').whereIn('job_id', granted).update({ held: true });
  return granted;
}

/**
 * Gives the job's permits back (or its places in the queues) and hands what is free to the oldest
 * waiting jobs of its gates, in one transaction. Returns the jobs granted, whose workflows must be
 * told; nothing when the job held nothing (already released).
 */
export async function releasePermit(db: Knex, jobId: string): Promise<string[]> {
  return retryingDeadlock(db, async (trx) => {
    const gates = await trx<PermitRow>('tier_permit').where({ job_id: jobId }).pluck('gate');
    if (!gates.length) return [];
    await lockGates(trx, gates);
    const deleted = await trx<PermitRow>('tier_permit').where({ job_id: jobId }).delete().returning('gate');
    // Released meanwhile by another caller (the reconciler and the job's own workflow may race).
    if (!deleted.length) return [];
    return grantWaiting(trx, deleted.map((r) => r.gate));
  });
}

/**
 * For a job waiting at `gates`: queues it if it has no rows (a pipeline's job, or a job whose
 * workflow the api started again: see resume in api/routes/run.ts), skipping rules deleted
 * meanwhile; grants what is free to the oldest waiting jobs, and says whether this job now holds its
 * permits, with the other jobs granted (to be told).
 */
export async function checkPermit(db: Knex, jobId: string, gates: TierGate[]): Promise<{ held: boolean; granted: string[] }> {
  return retryingDeadlock(db, async (trx) => {
    await lockGates(trx, gates.map((g) => g.id));
    if (!(await trx<PermitRow>('tier_permit').where({ job_id: jobId }).first('gate'))) {
      const rules = new Set(await trx('concurrency_rule').whereIn('id', gates.flatMap((g) => (g.rule ? [g.rule] : []))).pluck('id'));
      const live = gates.filter((g) => !g.rule || rules.has(g.rule));
      // Nothing left to wait for: every gate it had was a rule since deleted.
      if (!live.length) return { held: true, granted: [] };
      const seq = trx.raw("nextval(pg_get_serial_sequence('tier_permit', 'seq'))");
      const [{ nextval }] = (await trx.select(seq)) as { nextval: string }[];
      await trx('tier_permit').insert(live.map((g) => ({ job_id: jobId, gate: g.id, permits: g.permits, held: false, seq: nextval })));
    }
    const own = await trx<PermitRow>('tier_permit').where({ job_id: jobId }).pluck('gate');
    const granted = await grantWaiting(trx, own);
    const held = (await trx<PermitRow>('tier_permit').where({ job_id: jobId, held: true }).count<{ count: string }[]>('*'))[0].count !== '0';
    return { held, granted: granted.filter((id) => id !== jobId) };
  });
}

/** The jobs holding a permit of one of the gates. */
export function permitHolders(db: Knex, gates: string[]): Promise<string[]> {
  return db<PermitRow>('tier_permit').distinct('job_id').whereIn('gate', gates).andWhere({ held: true }).pluck('job_id');
}

/**
 * A deleted concurrency rule's gate: its rows go (holders keep running; their other permits are
 * released as usual) and the jobs that waited there are granted if their other gates have room,
 * at once if it was their only one. Runs inside the deletion's transaction (see retryingDeadlock);
 * the jobs granted, to be told.
 */
export async function dropGate(trx: Knex.Transaction, gate: string): Promise<string[]> {
  await lockGates(trx, [gate]);
  const waiting = await trx<PermitRow>('tier_permit').where({ gate, held: false }).pluck('job_id');
  await trx<PermitRow>('tier_permit').where({ gate }).delete();
  if (!waiting.length) return [];
  const left = await trx<PermitRow>('tier_permit').whereIn('job_id', waiting).select('job_id', 'gate');
  const free = waiting.filter((id) => !left.some((r) => r.job_id === id));
  if (!left.length) return free;
  const others = [...new Set(left.map((r) => r.gate))];
  await lockGates(trx, others);
  return [...free, ...(await grantWaiting(trx, others))];
}

/**
 * The gates a job waits at (its permit rows not held): each with its capacity and, for a concurrency
 * rule's gate, the rule, or `deleted` when the rule went meanwhile (its gate is being dropped).
 */
export async function waitedGates(db: Knex, jobId: string): Promise<{ permits: number; rule?: { match: Record<string, string>; max: number } | 'deleted' }[]> {
  const rows = await db<PermitRow>('tier_permit').where({ job_id: jobId, held: false }).select('gate', 'permits');
  const gates = rows.map((r) => ({ permits: r.permits, ruleId: RULE_GATE.exec(r.gate)?.[1] }));
  const ruleIds = gates.flatMap((g) => (g.ruleId ? [g.ruleId] : []));
  const rules = ruleIds.length ? await db('concurrency_rule').whereIn('id', ruleIds).select('id', 'match', 'max') : [];
  return gates.map(({ permits, ruleId }) => ({ permits, rule: ruleId ? (rules.find((rule) => rule.id === ruleId) ?? 'deleted') : undefined }));
}

/** A concurrency rule's gate id (common/tiers.ts ruleGateId), with the rule's id. */
const RULE_GATE = /\/rule-([0-9a-f-]{36})$/;
