import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { JOB_STATUSES, isTerminal } from '../common/contracts';
import { within } from '../common/within';
import { finishedJobCounts, jobsFinishedSince, specQueues, type FinishedCount, type SpecQueue } from '../db/observability';

/** Final statuses, and the outcome label each is reported under: `processed` is a completed job (results stored). */
const FINAL_STATUSES = JOB_STATUSES.filter(isTerminal);
const outcome = (status: string) => (status === 'processed' ? 'completed' : status);

/**
 * How far back each scrape re-reads finished jobs: finished_at is written by the orchestrator's clock
 * and a row can commit a little after a later one, so the reader looks back this far and skips the
 * ids it has already observed.
 */
const LOOKBACK_MS = 5 * 60 * 1000;

/** A scrape must answer within Prometheus' scrape timeout (10 s by default) even while Postgres hangs. */
const READ_TIMEOUT_MS = 3000;

/** Seconds a runner may go without calling the api and still count as online (its pings come every few seconds). */
export const ONLINE_WITHIN_SECONDS = 60;

/** Buckets for waits and runs that span a second to hours. */
const SECONDS_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/**
 * Job metrics read from Postgres when Prometheus scrapes, so they need no writer process and survive
 * restarts; every api replica reports the same values (aggregate them with max, not sum). Dispatch
 * latency is the exception: observed by the replica the runner reports to (sum across replicas).
 */
export function registerJobMetrics(registry: Registry, db: Knex, log: { warn(obj: object, msg: string): void }) {
  // One read per scrape for all the series that share it (prom-client calls each collect separately);
  // the next scrape (beginScrape) reads afresh, however soon it comes.
  let snapshot: Promise<{ queues: SpecQueue[]; finished: FinishedCount[] } | undefined> | undefined;
  const read = () => {
    if (!snapshot) {
      snapshot = within(Promise.all([specQueues(db, ONLINE_WITHIN_SECONDS), finishedJobCounts(db, FINAL_STATUSES)]), READ_TIMEOUT_MS, 'job metrics read').then(
        ([queues, finished]) => ({ queues, finished }),
        (err) => {
          // A scrape during a database outage still answers (process metrics, request durations); these series are absent.
          log.warn({ err }, 'job metrics: database read failed');
          return undefined;
        },
      );
    }
    return snapshot;
  };

  /** A per-spec gauge set from the scrape's queue read. */
  const specGauge = (name: string, help: string, value: (q: SpecQueue) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['spec'] as const,
      registers: [registry],
      async collect() {
        const data = await read();
        this.reset();
        for (const q of data?.queues ?? []) this.set({ spec: q.spec }, value(q));
      },
    });
  specGauge('benchline_queue_depth', 'Jobs waiting for a runner (pending), per spec', (q) => q.queued);
  specGauge(
    'benchline_queue_oldest_age_seconds',
    'How long the longest-waiting pending job of each spec has waited since it became runnable (0 when none waits)',
    (q) => q.oldest_queued_seconds ?? 0,
  );
  specGauge('benchline_spec_runners_online', 'Unlocked runners serving each spec that called the api within the last minute', (q) => q.runners_online);
  new Counter({
    name: 'benchline_jobs_finished_total',
    help: 'Jobs that reached a final status, by outcome (completed, failed, canceled, skipped), tier and spec; counted in Postgres',
    labelNames: ['outcome', 'tier', 'spec'] as const,
    registers: [registry],
    async collect() {
      const data = await read();
      this.reset();
      for (const f of data?.finished ?? []) this.inc({ outcome: outcome(f.status), tier: f.tier, spec: f.spec }, f.count);
    },
  });
  new Counter({
    name: 'benchline_runner_jobs_finished_total',
    help: 'Jobs that reached a final status, by the runner of their last attempt and outcome; counted in Postgres',
    labelNames: ['runner', 'outcome'] as const,
    registers: [registry],
    async collect() {
      const data = await read();
      this.reset();
      for (const f of data?.finished ?? []) if (f.runner !== null) this.inc({ runner: f.runner, outcome: outcome(f.status) }, f.count);
    },
  });

  // Jobs finishing from this replica's start on: a histogram cannot be rebuilt from old rows cheaply,
  // and Prometheus reads a restart as a counter reset.
  const startedAt = Date.now();
  let since = new Date(startedAt);
  const observed = new Map<string, number>();
  new Histogram({
    name: 'benchline_job_duration_seconds',
    help: 'Command started to final status, per outcome and spec (jobs that never started are not observed)',
    labelNames: ['outcome', 'spec'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
    async collect() {
      const rows = await within(jobsFinishedSince(db, FINAL_STATUSES, new Date(since.getTime() - LOOKBACK_MS)), READ_TIMEOUT_MS, 'job duration read').catch((err) => {
        log.warn({ err }, 'job duration metrics: database read failed');
        return [];
      });
      for (const row of rows) {
        if (observed.has(row.id)) continue;
        observed.set(row.id, row.finished_at.getTime());
        // Jobs that ended before this replica started were observed by its predecessor, if by anyone.
        if (row.duration_seconds !== null && row.finished_at.getTime() >= startedAt) this.observe({ outcome: outcome(row.status), spec: row.spec }, Math.max(0, row.duration_seconds));
        if (row.finished_at > since) since = row.finished_at;
      }
      // Ids older than the look-back can no longer be read again.
      for (const [id, at] of observed) if (at < since.getTime() - LOOKBACK_MS) observed.delete(id);
    },
  });

  return {
    beginScrape: () => (snapshot = undefined),
    dispatchLatency: new Histogram({
      name: 'benchline_dispatch_latency_seconds',
      help: "Submission (or a delayed job's start time) to its command starting on a runner, per spec; first start of each job",
      labelNames: ['spec'] as const,
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    }),
  };
}
