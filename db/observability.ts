import type { Knex } from 'knex';

/** One bind marker per value: knex spreads an array bound to a single `?` into a list. */
const marks = (values: readonly unknown[]) => values.map(() => '?').join(', ');

/** One unarchived spec's queue and the runners serving it, as /v0/status and the metrics show them. */
export interface SpecQueue {
  spec: string;
  paused: boolean;
  /** Jobs waiting for a runner (pending; a delayed job counts once its start time has come). */
  queued: number;
  /** Seconds the longest-waiting of them has waited since it became runnable; null when none waits. */
  oldest_queued_seconds: number | null;
  /** Unlocked, unarchived runners serving the spec that called the api within the window. */
  runners_online: number;
}

/**
 * Every unarchived spec's queue depth, oldest wait and online runners, in one statement however
 * many specs there are. A job waits from when it became runnable: its start time when delayed.
 */
export async function specQueues(db: Knex, onlineWithinSeconds: number): Promise<SpecQueue[]> {
  const { rows } = await db.raw<{ rows: SpecQueue[] }>(
    `with queued as (
       select spec_id, count(*)::int as queued,
              greatest(extract(epoch from now() - min(greatest(created_at, start_after)))::float8, 0) as oldest
         from job where status = 'pending' and spec_id is not null group by spec_id
     ), online as (
       select rs.spec_id, count(*)::int as runners
         from runner r join runner_spec rs on rs.runner_id = r.id
        where r.archived_at is null and r.locked_at is null and r.last_seen_at > now() - make_interval(secs => ?)
        group by rs.spec_id
     )
     select s.slug as spec, s.paused_at is not null as paused, coalesce(q.queued, 0) as queued,
            q.oldest as oldest_queued_seconds, coalesce(o.runners, 0) as runners_online
       from spec s left join queued q on q.spec_id = s.id left join online o on o.spec_id = s.id
      where s.archived_at is null
      order by s.slug`,
    [onlineWithinSeconds],
  );
  return rows;
}

/** An unarchived runner as the status page shows it to server admins. */
export interface RunnerStatusRow {
  slug: string;
  specs: string[];
  online: boolean;
  locked: boolean;
  last_seen_at: Date | null;
  version: string | null;
  executor: string | null;
  /** The job it holds (claimed or running), if any. */
  current_job: string | null;
}

/** Every unarchived runner with its specs and current job, in one statement. */
export async function runnerStatuses(db: Knex, onlineWithinSeconds: number): Promise<RunnerStatusRow[]> {
  const { rows } = await db.raw<{ rows: RunnerStatusRow[] }>(
    `select r.slug,
            coalesce((select array_agg(s.slug order by s.slug) from runner_spec rs join spec s on s.id = rs.spec_id
                       where rs.runner_id = r.id and s.archived_at is null), '{}') as specs,
            (r.locked_at is null and coalesce(r.last_seen_at > now() - make_interval(secs => ?), false)) as online,
            r.locked_at is not null as locked, r.last_seen_at, r.version, r.executor,
            (select j.id from job j where j.runner_id = r.id and j.status in ('claimed', 'running') order by j.claimed_at limit 1) as current_job
       from runner r
      where r.archived_at is null
      order by r.slug`,
    [onlineWithinSeconds],
  );
  return rows;
}

/**
 * Finished jobs counted by final status, tier, spec and the runner of their last attempt (null when
 * none ran it): what benchline_jobs_finished_total and benchline_runner_jobs_finished_total report.
 */
export interface FinishedCount {
  status: string;
  tier: string;
  spec: string;
  runner: string | null;
  count: number;
}

/** Counts every finished job in one grouped scan of the status index, for both metrics. */
export async function finishedJobCounts(db: Knex, statuses: readonly string[]): Promise<FinishedCount[]> {
  const { rows } = await db.raw<{ rows: FinishedCount[] }>(
    `select j.status, j.tier, coalesce(s.slug, '') as spec, r.slug as runner, count(*)::int as count
       from job j left join spec s on s.id = j.spec_id left join runner r on r.id = j.runner_id
      where j.status in (${marks(statuses)})
      group by 1, 2, 3, 4`,
    [...statuses],
  );
  return rows;
}

/** A job that reached its final status, with how long its benchmark took to the end. */
export interface FinishedJob {
  id: string;
  status: string;
  spec: string;
  finished_at: Date;
  /** Command started → final status; null when the benchmark never started. */
  duration_seconds: number | null;
}

/** Jobs whose final status was written at or after `since` (finished_at), oldest first. */
export async function jobsFinishedSince(db: Knex, statuses: readonly string[], since: Date): Promise<FinishedJob[]> {
  const { rows } = await db.raw<{ rows: FinishedJob[] }>(
    `select j.id, j.status, coalesce(s.slug, '') as spec, j.finished_at,
            extract(epoch from j.finished_at - j.started_at)::float8 as duration_seconds
       from job j left join spec s on s.id = j.spec_id
      where j.status in (${marks(statuses)}) and j.finished_at >= ?
      order by j.finished_at`,
    [...statuses, since],
  );
  return rows;
}
