import type { Knex } from 'knex';
import { generateToken, hashToken } from '../common/tokens';
import type { JobStatus } from '../common/contracts';
import { byRef } from './refs';
import { leaseColumns, type LeaseFields, type LeaseTimeouts } from './runner-lease';
import type { RunnerRow, SpecRow } from './rows';

/** A runner and the specs it serves; the plaintext token is returned once and stored only hashed. */
export function insertRunner(
  db: Knex,
  r: { slug: string; name?: string; specIds: string[]; organizationId?: string | null },
): Promise<{ runner: RunnerRow; token: string }> {
  const token = generateToken('runner');
  return db.transaction(async (trx) => {
    const [runner] = await trx<RunnerRow>('runner')
      .insert({ slug: r.slug, name: r.name ?? r.slug, token_hash: hashToken(token), organization_id: r.organizationId ?? null })
      .returning('*');
    await setRunnerSpecs(trx, runner.id, r.specIds);
    return { runner, token };
  });
}

/** Issues a fresh token for a runner; the old one stops working at once (auth looks tokens up by hash). */
export async function rotateRunnerToken(db: Knex, runnerId: string): Promise<string> {
  const token = generateToken('runner');
  await db('runner').where({ id: runnerId }).update({ token_hash: hashToken(token) });
  return token;
}

/** Replaces the set of specs a runner serves. */
export async function setRunnerSpecs(db: Knex, runnerId: string, specIds: string[]): Promise<void> {
  // Inside a caller's transaction this becomes a savepoint.
  await db.transaction(async (trx) => {
    await trx('runner_spec').where({ runner_id: runnerId }).delete();
    if (specIds.length) await trx('runner_spec').insert([...new Set(specIds)].map((spec_id) => ({ runner_id: runnerId, spec_id })));
  });
}

/** A runner as admins list it: with its dedicated organization's slug and its daemon's lease. */
export type ListedRunner = RunnerRow & { organization_slug: string | null } & LeaseFields;

/** Runners with their dedicated organization's slug and lease, only (un)archived or (un)locked ones where asked; sort and paginate it. */
export function runnersQuery(db: Knex, lease: LeaseTimeouts, filter: { archived?: boolean; locked?: boolean } = {}): Knex.QueryBuilder {
  const query = db('runner')
    .leftJoin('organization', 'organization.id', 'runner.organization_id')
    .leftJoin('runner_lease', 'runner_lease.runner_id', 'runner.id')
    .select('runner.*', 'organization.slug as organization_slug', ...leaseColumns(db, lease));
  for (const [flag, column] of [['archived', 'runner.archived_at'], ['locked', 'runner.locked_at']] as const) {
    const value = filter[flag];
    if (value !== undefined) query[value ? 'whereNotNull' : 'whereNull'](column);
  }
  return query;
}

/** A runner by UUID or slug, as admins list it. */
export function findListedRunner(db: Knex, lease: LeaseTimeouts, ref: string): Promise<ListedRunner | undefined> {
  return byRef(runnersQuery(db, lease), ref, { table: 'runner' }).first();
}

export interface RunnerDetails {
  specs: string[];
  currentJob: { uuid: string; project: string; status: JobStatus } | null;
}

/** Served spec slugs and the job each runner holds (claimed or running), for many runners in two queries. */
export async function runnerDetails(db: Knex, runnerIds: string[]): Promise<Map<string, RunnerDetails>> {
  const [specs, jobs] = await Promise.all([
    db('runner_spec').join('spec', 'spec.id', 'runner_spec.spec_id').whereIn('runner_spec.runner_id', runnerIds).orderBy('spec.slug').select('runner_spec.runner_id', 'spec.slug'),
    db('job')
      .join('project', 'project.id', 'job.project_id')
      .whereIn('job.runner_id', runnerIds)
      .whereIn('job.status', ['claimed', 'running'])
      // A runner runs one job at a time; should two ever show, the latest claim is the current one.
      .orderBy('job.claimed_at', 'asc')
      .select('job.runner_id', 'job.id', 'job.status', 'project.slug as project'),
  ]);
  const details = new Map<string, RunnerDetails>(runnerIds.map((id) => [id, { specs: [], currentJob: null }]));
  for (const s of specs) details.get(s.runner_id)!.specs.push(s.slug);
  for (const j of jobs) details.get(j.runner_id)!.currentJob = { uuid: j.id, project: j.project, status: j.status };
  return details;
}

/** Marks the runner seen, at most once per ten seconds: not a write on every upload and claim. */
export async function touchRunner(db: Knex, runnerId: string): Promise<void> {
  await db('runner')
    .where({ id: runnerId })
    .where((q) => q.whereNull('last_seen_at').orWhere('last_seen_at', '<', db.raw("now() - interval '10 seconds'")))
    .update({ last_seen_at: db.fn.now() });
}

/** The unarchived specs a runner serves, by slug. */
export function servedSpecs(db: Knex, runnerId: string): Promise<Pick<SpecRow, 'id' | 'slug'>[]> {
  return db<SpecRow>('spec')
    .join('runner_spec', 'runner_spec.spec_id', 'spec.id')
    .where('runner_spec.runner_id', runnerId)
    .whereNull('spec.archived_at')
    .orderBy('spec.slug')
    .select('spec.id', 'spec.slug');
}

export async function servesSpec(db: Knex, runnerId: string, specId: string): Promise<boolean> {
  return (await db('runner_spec').where({ runner_id: runnerId, spec_id: specId }).first()) !== undefined;
}

/** Changes a runner's own columns: an admin's edits, or what its daemon reports on registering. */
export async function updateRunner(db: Knex, runnerId: string, changes: Partial<RunnerRow>): Promise<void> {
  await db('runner').where({ id: runnerId }).update(changes);
}
