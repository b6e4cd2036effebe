import type { Knex } from 'knex';

/** How long a lease outlives its last renewal: `staleSeconds`, or `stoppingSeconds` once its daemon said it is draining. */
export interface LeaseTimeouts {
  staleSeconds: number;
  stoppingSeconds: number;
}

export interface LeaseRow {
  runner_id: string;
  instance_id: string;
  host: string;
  pid: number;
  started_at: Date;
  renewed_at: Date;
  stopping_at: Date | null;
}

/** A daemon asking for (or renewing) its runner's lease. */
export interface LeaseClaim {
  runnerId: string;
  instanceId: string;
  host: string;
  pid: number;
  stopping: boolean;
}

/** SQL for "this lease row has outlived its last renewal", on the database's clock. */
function expired(row: string, t: LeaseTimeouts): string {
  return `${row}.renewed_at < now() - make_interval(secs => CASE WHEN ${row}.stopping_at IS NULL THEN ${Number(t.staleSeconds)} ELSE ${Number(t.stoppingSeconds)} END)`;
}

/**
 * Takes or renews the runner's lease in one statement: inserted when there is none, renewed when
 * this instance holds it, taken over when the holder's has expired, else left alone. Postgres
 * serialises concurrent upserts of one key, so of daemons racing for one runner exactly one wins,
 * whatever host they run on. Returns the lease when this instance holds it now, else the holder's.
 */
export async function takeLease(db: Knex, claim: LeaseClaim, timeouts: LeaseTimeouts, tries = 2): Promise<{ held: boolean; taken: boolean; lease: LeaseRow }> {
  const { rows } = await db.raw<{ rows: LeaseRow[] }>(
    `INSERT INTO runner_lease AS l (runner_id, instance_id, host, pid, started_at, renewed_at, stopping_at)
     VALUES (:runnerId, :instanceId, :host, :pid, now(), now(), CASE WHEN :stopping THEN now() END)
     ON CONFLICT (runner_id) DO UPDATE SET
       instance_id = excluded.instance_id, host = excluded.host, pid = excluded.pid, renewed_at = now(),
       started_at = CASE WHEN l.instance_id = excluded.instance_id THEN l.started_at ELSE now() END,
       -- Once draining, a daemon stays draining; a new holder starts afresh.
       stopping_at = CASE WHEN l.instance_id = excluded.instance_id THEN coalesce(l.stopping_at, excluded.stopping_at) ELSE excluded.stopping_at END
     WHERE l.instance_id = excluded.instance_id OR ${expired('l', timeouts)}
     RETURNING *`,
    { ...claim },
  );
  // Taken now (not renewed): a new holder's start and renewal are the same statement's now().
  if (rows[0]) return { held: true, taken: rows[0].started_at.getTime() === rows[0].renewed_at.getTime(), lease: rows[0] };
  const holder = await db<LeaseRow>('runner_lease').where({ runner_id: claim.runnerId }).first();
  if (holder) return { held: false, taken: false, lease: holder };
  // Released between the two statements: the row is gone, so the upsert inserts now (a daemon
  // that raced in meanwhile is the holder the second try reports).
  if (tries > 1) return takeLease(db, claim, timeouts, tries - 1);
  throw new Error(`the lease of runner ${claim.runnerId} kept changing hands; try again`);
}

/** A daemon exiting cleanly gives its lease back, so the next one need not wait for it to expire. */
export async function releaseLease(db: Knex, runnerId: string, instanceId: string): Promise<boolean> {
  return (await db('runner_lease').where({ runner_id: runnerId, instance_id: instanceId }).delete()) > 0;
}

/** When a lease expires unless renewed. */
export function leaseExpiry(lease: Pick<LeaseRow, 'renewed_at' | 'stopping_at'>, t: LeaseTimeouts): Date {
  return new Date(lease.renewed_at.getTime() + 1000 * (lease.stopping_at ? t.stoppingSeconds : t.staleSeconds));
}

/** Columns a runner listing adds for its lease: the holder, and whether it is live on the database's clock. */
export function leaseColumns(db: Knex, t: LeaseTimeouts): (string | Knex.Raw)[] {
  return [
    'runner_lease.host as lease_host',
    'runner_lease.pid as lease_pid',
    'runner_lease.started_at as lease_started_at',
    'runner_lease.stopping_at as lease_stopping_at',
    db.raw(`(runner_lease.runner_id IS NOT NULL AND NOT (${expired('runner_lease', t)})) as lease_live`),
  ];
}

/** The lease columns leaseColumns adds to a runner row. */
export interface LeaseFields {
  lease_host: string | null;
  lease_pid: number | null;
  lease_started_at: Date | null;
  lease_stopping_at: Date | null;
  lease_live: boolean;
}

/** The builds the live runners of each spec run (unarchived runners only): drift is a spec with more than one. */
export async function liveBuildsBySpec(db: Knex, t: LeaseTimeouts): Promise<Map<string, Set<string>>> {
  const rows: { spec: string; build: string }[] = await db('runner_spec')
    .join('runner', 'runner.id', 'runner_spec.runner_id')
    .join('spec', 'spec.id', 'runner_spec.spec_id')
    .join('runner_lease', 'runner_lease.runner_id', 'runner.id')
    .whereNull('runner.archived_at')
    .whereRaw(`NOT (${expired('runner_lease', t)})`)
    .whereRaw("runner.build->>'id' IS NOT NULL")
    .distinct('spec.slug as spec', db.raw("runner.build->>'id' as build"));
  const builds = new Map<string, Set<string>>();
  for (const r of rows) builds.set(r.spec, (builds.get(r.spec) ?? new Set()).add(r.build));
  return builds;
}
