import type { Knex } from 'knex';
import { criticalPath, type TimedJob } from '../common/critical-path';
import type { CriticalPathView } from '../common/schemas/pipelines';
import { pipelineJobTimings, recentRunSeconds, type JobTimingRow } from '../db/critical-path';
import { pipelineEdges } from '../db/pipelines';
import type { PipelineRow } from '../db/rows';

/**
 * The chain of jobs that set a pipeline's wall time, from its jobs' real timestamps: a job could
 * start once its needs had ended and its start_after passed; it then waited in the queue until its
 * first claim and ran until it ended. A job that has not ended is estimated: its run time is the
 * median of the project's recent processed jobs on the same spec running the same command (image
 * repository, entrypoint, cmd: db/critical-path.ts), and at least
 * what it has run so far; its queue wait is what it waited so far (none before it could start).
 */
export async function pipelineCriticalPath(db: Knex, pipeline: PipelineRow, now = Date.now()): Promise<CriticalPathView> {
  const [jobs, edges] = await Promise.all([pipelineJobTimings(db, pipeline.id), pipelineEdges(db, pipeline.id)]);
  const index = new Map(jobs.map((j, i) => [j.id, i]));
  const needs = jobs.map(() => [] as number[]);
  for (const e of edges) needs[index.get(e.job_id)!].push(index.get(e.needs_job_id)!);
  const t0 = pipeline.created_at.getTime();
  const seconds = (at: Date | number) => (typeof at === 'number' ? at : at.getTime()) / 1000 - t0 / 1000;
  const estimates = await historyOf(db, pipeline.project_id, jobs.filter((j) => j.finished_at === null));

  const timed = jobs.map((job, i) => {
    const earliest = job.start_after ? Math.max(0, seconds(job.start_after)) : 0;
    // Known once every need has ended: the latest of those ends and the job's own earliest time.
    const ready = needs[i].every((n) => jobs[n].finished_at !== null) ? Math.max(earliest, ...needs[i].map((n) => seconds(jobs[n].finished_at!))) : undefined;
    const claimed = job.first_claimed_at && seconds(job.first_claimed_at);
    let wait: number;
    let run: number;
    if (job.finished_at !== null) {
      const end = seconds(job.finished_at);
      wait = Math.max(0, (claimed ?? end) - (ready ?? earliest));
      run = claimed !== null ? Math.max(0, end - claimed) : 0;
    } else {
      const estimate = estimates.get(historyKey(job))!;
      const elapsed = seconds(now);
      wait = ready === undefined ? 0 : Math.max(0, (claimed ?? elapsed) - ready);
      run = Math.max(estimate.median ?? 0, claimed !== null ? elapsed - claimed : 0);
    }
    return { wait, run, timed: { earliest, duration: wait + run, needs: needs[i] } satisfies TimedJob };
  });

  const { path, start, end } = criticalPath(timed.map((t) => t.timed));
  const round = (s: number) => Math.round(s * 1000) / 1000;
  return {
    pipeline: pipeline.id,
    status: pipeline.status,
    estimated: pipeline.status === 'running',
    wall_seconds: round(path.length ? end[path[path.length - 1]] : 0),
    path: path.map((i) => {
      const job = jobs[i];
      const estimated = job.finished_at === null;
      return {
        key: job.pipeline_key,
        job: job.id,
        status: job.status,
        start_seconds: round(start[i]),
        queue_wait_seconds: round(timed[i].wait),
        run_seconds: round(timed[i].run),
        end_seconds: round(end[i]),
        estimated,
        samples: estimated ? estimates.get(historyKey(job))!.samples : null,
      };
    }),
  };
}

const historyKey = (job: Pick<JobTimingRow, 'spec_id' | 'image' | 'entrypoint' | 'cmd'>) => JSON.stringify([job.spec_id, job.image, job.entrypoint, job.cmd]);

/** The run-time history of each distinct spec and command among `jobs`, one query each. */
async function historyOf(db: Knex, projectId: string, jobs: JobTimingRow[]) {
  const distinct = new Map(jobs.map((j) => [historyKey(j), j]));
  const found = await Promise.all([...distinct].map(async ([key, job]) => [key, await recentRunSeconds(db, projectId, job)] as const));
  return new Map(found);
}
