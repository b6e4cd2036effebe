import type { Knex } from 'knex';
import type { JobStatus } from '../common/contracts';

/** A job's first claim: an earlier attempt's when it was retried (a retry's wait counts as its run). */
const FIRST_CLAIM = 'LEAST(job.claimed_at, (SELECT min(a.claimed_at) FROM job_attempt a WHERE a.job_id = job.id))';

/** An image reference without its tag or digest: the same benchmark program across builds (`bench:sha-1`, `bench:sha-2`). */
const repository = (ref: string) => `regexp_replace(regexp_replace(${ref}, '@.*$', ''), ':[^/:]*$', '')`;

/** A pipeline job's timestamps as its critical path reads them. */
export interface JobTimingRow {
  id: string;
  pipeline_key: string;
  status: JobStatus;
  spec_id: string | null;
  image: string;
  entrypoint: string[] | null;
  cmd: string[] | null;
  start_after: Date | null;
  first_claimed_at: Date | null;
  finished_at: Date | null;
}

export async function pipelineJobTimings(db: Knex, pipelineId: string): Promise<JobTimingRow[]> {
  return db('job')
    .where('job.pipeline_id', pipelineId)
    .orderBy('job.pipeline_key')
    .select(
      'job.id', 'job.pipeline_key', 'job.status', 'job.spec_id', 'job.start_after', 'job.finished_at',
      db.raw("config->>'image' AS image"),
      db.raw("config->'entrypoint' AS entrypoint"),
      db.raw("config->'cmd' AS cmd"),
      db.raw(`${FIRST_CLAIM} AS first_claimed_at`),
    );
}

/**
 * The median run time (first claim to end, seconds) of the project's latest `limit` processed jobs
 * on the same spec running the same command (image repository, whatever its tag, entrypoint and
 * cmd), and how many there were.
 */
export async function recentRunSeconds(
  db: Knex,
  projectId: string,
  job: Pick<JobTimingRow, 'spec_id' | 'image' | 'entrypoint' | 'cmd'>,
  limit = 20,
): Promise<{ median: number | null; samples: number }> {
  const json = (v: string[] | null) => (v === null ? null : JSON.stringify(v));
  const { rows } = await db.raw(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median, count(*)::int AS samples FROM (
       SELECT extract(epoch FROM job.finished_at - ${FIRST_CLAIM})::float8 AS seconds FROM job
        WHERE job.project_id = ? AND job.spec_id IS NOT DISTINCT FROM ? AND job.status = 'processed' AND job.claimed_at IS NOT NULL
          AND ${repository("job.config->>'image'")} = ${repository('?::text')}
          AND job.config->'entrypoint' IS NOT DISTINCT FROM ?::jsonb AND job.config->'cmd' IS NOT DISTINCT FROM ?::jsonb
        ORDER BY job.finished_at DESC
        LIMIT ?
     ) recent`,
    [projectId, job.spec_id, job.image, json(job.entrypoint), json(job.cmd), limit],
  );
  return { median: rows[0].median === null ? null : Number(rows[0].median), samples: rows[0].samples };
}
