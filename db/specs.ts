import type { Knex } from 'knex';
import { runnerTaskQueue } from '../common/contracts';
import { byRef } from './refs';
import type { SpecRow, TestbedRow } from './rows';

/** Why the job's spec is paused (an operator's reason, or a default), or null when it is not. */
export async function specPauseOf(db: Knex, jobId: string): Promise<string | null> {
  const row = await db('job').join('spec', 'spec.id', 'job.spec_id').where('job.id', jobId).first('spec.paused_at', 'spec.pause_reason');
  return row?.paused_at ? (row.pause_reason ?? 'paused by an operator') : null;
}

/**
 * How long after a resume a job's own periodic check still waits: the resume tells the waiting jobs
 * oldest first, and a check that let a younger job go meanwhile would overtake them.
 */
const RESUME_SETTLE_SECONDS = 30;

/** For a job's periodic check while its spec is paused: why it still waits, or null when it may dispatch. */
export async function specHoldOf(db: Knex, jobId: string): Promise<string | null> {
  const row = await db('job')
    .join('spec', 'spec.id', 'job.spec_id')
    .where('job.id', jobId)
    .first('spec.paused_at', 'spec.pause_reason', db.raw(`spec.resumed_at > now() - interval '${RESUME_SETTLE_SECONDS} seconds' as settling`));
  if (row?.paused_at) return row.pause_reason ?? 'paused by an operator';
  return row?.settling ? 'resuming: the older jobs go first' : null;
}

/**
 * Pauses or resumes dispatch for a spec (the reason shown on its waiting jobs); the spec as it now
 * is. A repeated pause keeps its first time and takes the new reason.
 */
export async function setSpecPaused(db: Knex, specId: string, pause: { reason: string | null } | null): Promise<SpecRow> {
  const [row] = await db<SpecRow>('spec')
    .where({ id: specId })
    .update(pause ? { paused_at: db.raw('coalesce(paused_at, now())') as unknown as Date, pause_reason: pause.reason } : { paused_at: null, pause_reason: null, resumed_at: db.fn.now() as unknown as Date })
    .returning('*');
  return row;
}

/** The spec's jobs not yet claimed, oldest first: on resume, those waiting are told in this order. */
export function pendingJobsOfSpec(db: Knex, specId: string): Promise<string[]> {
  return db('job').where({ spec_id: specId, status: 'pending' }).orderBy([{ column: 'created_at' }, { column: 'id' }]).pluck('id');
}

export function getSpec(db: Knex, specId: string): Promise<SpecRow | undefined> {
  return db<SpecRow>('spec').where({ id: specId }).first();
}

export async function findSpec(db: Knex, ref: string): Promise<SpecRow | undefined> {
  return byRef(db<SpecRow>('spec'), ref).first();
}

/** Specs, all of them or only the archived (true) or unarchived (false) ones; sort and paginate it. */
export function specsQuery(db: Knex, archived: boolean | undefined): Knex.QueryBuilder {
  return db('spec').modify((q) => (archived === undefined ? q : archived ? q.whereNotNull('archived_at') : q.whereNull('archived_at')));
}

export class SpecResolutionError extends Error {}

/**
 * The spec a job runs on: the explicit one, else the testbed's current spec, else the server's
 * default. Archived specs are refused, naming the spec; whether a runner takes it is jobRoute's.
 */
export async function resolveSpec(db: Knex, explicit: string | undefined, testbed: Pick<TestbedRow, 'spec_id'> | undefined): Promise<SpecRow> {
  let spec: SpecRow | undefined;
  if (explicit !== undefined) {
    spec = await findSpec(db, explicit);
    if (!spec) throw new SpecResolutionError(`spec "${explicit}" does not exist`);
  } else if (testbed?.spec_id) {
    spec = await getSpec(db, testbed.spec_id);
  }
  spec ??= await db<SpecRow>('spec').where({ is_default: true }).first();
  if (!spec) throw new SpecResolutionError('no spec given, the testbed has none and no default spec is configured');
  if (spec.archived_at) throw new SpecResolutionError(`spec "${spec.slug}" is archived`);
  return spec;
}

/**
 * The runner task queue a job of `organization` on `spec` goes to, or undefined when no runner
 * may take it. Eligible runners are active (not archived, not locked, their daemon seen within
 * `activeSeconds`), and either shared or the organization's own; the organization's dedicated
 * queue is chosen only when one of its own is eligible, so the job never waits on a queue that
 * only locked, archived or long-gone runners would poll. One query decides both, so what is
 * accepted and where it is sent cannot disagree.
 */
export async function jobRoute(
  db: Knex,
  spec: Pick<SpecRow, 'id' | 'slug'>,
  organization: { id: string; slug: string } | undefined,
  activeSeconds: number,
): Promise<string | undefined> {
  const pools: { dedicated: boolean }[] = await db('runner')
    .join('runner_spec', 'runner_spec.runner_id', 'runner.id')
    .where('runner_spec.spec_id', spec.id)
    .whereNull('runner.archived_at')
    .whereNull('runner.locked_at')
    .where('runner.last_seen_at', '>', db.raw('now() - make_interval(secs => ?)', [activeSeconds]))
    .where((q) => (organization ? q.whereNull('runner.organization_id').orWhere('runner.organization_id', organization.id) : q.whereNull('runner.organization_id')))
    .distinct(db.raw('runner.organization_id is not null as dedicated'));
  if (pools.length === 0) return undefined;
  return runnerTaskQueue(spec.slug, pools.some((p) => p.dedicated) ? organization!.slug : undefined);
}
