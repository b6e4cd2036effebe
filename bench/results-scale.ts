/**
 * Results at scale (issue 9, item 4): one report of BENCHMARKS benchmarks × 3 measures whose series
 * each have HISTORY earlier metrics, with a t_test threshold on every measure, stored, judged and
 * change-point-checked by storeResults (db/results.ts) end to end on the real Postgres, with the
 * statements it sends counted (knex 'query' events) and the time of each stage. Each run is rolled
 * back, so every run judges the same history.
 *
 * `npx tsx bench/results-scale.ts` runs it alone, on Postgres only (a fresh database, dropped after).
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { connect, migrateLatest } from '../db/connection';
import { getOrCreateBranch } from '../db/projects';
import { createReport } from '../db/reports';
import { resolveSeries } from '../db/metrics';
import { type StageTimes, storeResults, type StoredResults } from '../db/results';
import { createOrganization, createProject, createSpec } from '../db/seed';
import { type ModelInput, setThreshold } from '../db/thresholds';
import { DATA_DIR } from '../devenv/paths';
import { backfillSeriesSums } from '../migrations/013_series_sums';
import { dropDatabase, ensureDatabase, postgresServer } from '../devenv/postgres';
import type { BenchmarkResults } from '../results/types';
import { printRows, summary } from './stats';

const BENCHMARKS = Number(process.env.BENCH_RESULTS_BENCHMARKS ?? 1000);
const HISTORY = Number(process.env.BENCH_RESULTS_HISTORY ?? 1000);
const RUNS = Number(process.env.BENCH_RESULTS_RUNS ?? 5);
const MEASURES = ['latency', 'throughput', 'instructions'];
const BRANCH = 'results-scale';

/** The figures for the code before this change (one boundary insert per metric, change points per metric, whole-history detection). */
const BASELINE = { ms: '500–1,700 ms (+ ~5 s detection)', statements: '1,000–2,100' };
/**
 * This bench on the code before this work (aaeceed), p50 end to end: the previous session's
 * figures on a quieter machine, and this session's under a load average of 5–10 on two cores with
 * its stage split (mean ms).
 */
const BEFORE: Record<string, string> = {
  't_test, max sample size 64': '2.1 s quiet; 3.0 s loaded: history read 1,384, metrics written 232, judged 723, judging written 507',
  't_test over all 1000 points': '12.6 s quiet; 33.9 s loaded: history read 28,230, metrics written 2,799, judged 2,732, judging written 621',
};
const TARGET_MS = 1000;

/** Thresholds measured in turn: one that reads a bounded sample, then one that reads the whole history. */
const SCENARIOS: { label: string; model: ModelInput }[] = [
  { label: 't_test, max sample size 64', model: { test: 't_test', upper_boundary: 0.99, max_sample_size: 64 } },
  { label: `t_test over all ${HISTORY} points`, model: { test: 't_test', upper_boundary: 0.99 } },
];

/** A database with a project whose testbed is `ci`: all this benchmark needs of a stack. */
export interface ResultsScaleTarget {
  db: Knex;
  project: { id: string };
}

export async function resultsScaleBenchmark(stack: ResultsScaleTarget): Promise<void> {
  const db = stack.db;
  const results: BenchmarkResults = Object.fromEntries(
    Array.from({ length: BENCHMARKS }, (_, b) => [`bench-${b}`, Object.fromEntries(MEASURES.map((m, k) => [m, { value: 100 * (k + 1) + (b % 7) }]))]),
  );
  const seeded = performance.now();
  const { branchId, testbedId, measureIds } = await seedHistory(db, stack.project.id, results);
  console.log(`\nResults at scale: seeded ${BENCHMARKS} × ${MEASURES.length} series of ${HISTORY} points in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

  const rows: [string, ReturnType<typeof summary>][] = [];
  const notes: string[] = [];
  const split: Record<string, StageTimes> = {};
  for (const { label, model } of SCENARIOS) {
    await db.transaction(async (trx) => {
      for (const measureId of measureIds) await setThreshold(trx, { projectId: stack.project.id, branchId, testbedId, measureId }, model);
    });
    const times: number[] = [];
    const counts: number[] = [];
    const stages: StageTimes = {};
    let stored: StoredResults | undefined;
    for (let run = 0; run < RUNS; run++) {
      const rollback = new Error('rollback');
      await db
        .transaction(async (trx) => {
          const { report } = await createReport(trx, { projectId: stack.project.id, branch: BRANCH, testbed: 'ci', adapter: 'json', settings: {} });
          let statements = 0;
          const count = () => statements++;
          db.on('query', count);
          const started = performance.now();
          try {
            stored = await storeResults(trx, report, results, stages);
          } finally {
            times.push(performance.now() - started);
            db.off('query', count);
          }
          counts.push(statements);
          throw rollback;
        })
        .catch((err) => {
          if (err !== rollback) throw err;
        });
    }
    rows.push([label, summary(times)]);
    split[label] = stages;
    notes.push(`  ${label}: ${[...new Set(counts)].join(', ')} statements per report; stored ${JSON.stringify(stored)}`);
    if (BEFORE[label]) notes.push(`    before (aaeceed): ${BEFORE[label]}`);
  }
  printRows(`storeResults end to end: ${BENCHMARKS} benchmarks × ${MEASURES.length} measures, ${HISTORY}-point histories, a threshold on every measure (${RUNS} runs each)`, rows);
  printStages(split);
  for (const note of notes) console.log(note);
  console.log(`  baseline (issue 9's figures, same machine): ${BASELINE.ms}, ${BASELINE.statements} statements`);
  console.log(`  target: ≤ ${TARGET_MS} ms end to end, statements independent of the number of metrics`);
}

/** Where the time goes: mean ms per run of each stage of storeResults, a column per scenario. */
function printStages(split: Record<string, StageTimes>): void {
  const labels = Object.keys(split);
  const stages = [...new Set(labels.flatMap((l) => Object.keys(split[l])))];
  const width = Math.max(...stages.map((s) => s.length)) + 2;
  console.log(`\n  ${'stage (mean ms)'.padEnd(width)}${labels.map((l) => l.padStart(30)).join('')}`);
  for (const stage of stages) console.log(`  ${stage.padEnd(width)}${labels.map((l) => (split[l][stage] / RUNS).toFixed(0).padStart(30)).join('')}`);
}

/**
 * HISTORY reports on BRANCH, one a minute, each with a metric for every series of `results` (values
 * around each series' level, 2 % noise), and their running sums, in set-based SQL.
 */
async function seedHistory(db: Knex, projectId: string, results: BenchmarkResults): Promise<{ branchId: string; testbedId: string; measureIds: string[] }> {
  return db.transaction(async (trx) => {
    const branch = await getOrCreateBranch(trx, projectId, BRANCH);
    const testbed = await trx('testbed').where({ project_id: projectId, slug: 'ci' }).first('id');
    const series = await resolveSeries(trx, projectId, results);
    await trx.raw(
      `insert into report (project_id, branch_id, testbed_id, adapter, start_time)
       select ?, ?, ?, 'json', now() - make_interval(mins => ? - g) from generate_series(1, ?) g`,
      [projectId, branch.id, testbed.id, HISTORY + 1, HISTORY],
    );
    await trx.raw(
      `insert into metric (report_id, benchmark_id, measure_id, value)
       select r.id, s.benchmark_id, s.measure_id, s.level * (1 + 0.02 * (random() + random() + random() - 1.5))
       from report r cross join jsonb_to_recordset(?::jsonb) as s(benchmark_id uuid, measure_id uuid, level double precision)
       where r.branch_id = ?`,
      [JSON.stringify(series.map((s) => ({ benchmark_id: s.benchmark_id, measure_id: s.measure_id, level: s.measurement.value }))), branch.id],
    );
    // The running sums storing each report would have kept.
    await backfillSeriesSums(trx, branch.id);
    // What autovacuum would have done after such a bulk load: without statistics the planner takes
    // the fresh tables for empty and picks nested loops.
    await trx.raw('analyze report, metric, series, series_sum');
    return { branchId: branch.id, testbedId: testbed.id, measureIds: [...new Set(series.map((s) => s.measure_id))] };
  });
}

/** Alone: a fresh database on the Postgres the tests would use, with just what the benchmark needs. */
async function standalone(): Promise<void> {
  const postgres = await postgresServer(DATA_DIR);
  const name = `benchline_bench_${Date.now()}_${process.pid}`;
  const db = connect(await ensureDatabase(postgres.adminUrl, name));
  try {
    await migrateLatest(db);
    const id = randomBytes(4).toString('hex');
    const org = await createOrganization(db, { slug: `org-${id}`, plan: 'team' });
    const project = await createProject(db, { organizationId: org.id, slug: `project-${id}` });
    const spec = await createSpec(db, { slug: `spec-${id}` });
    await db('testbed').insert({ project_id: project.id, slug: 'ci', name: 'ci', spec_id: spec.id });
    await resultsScaleBenchmark({ db, project });
  } finally {
    await db.destroy();
    await dropDatabase(postgres.adminUrl, name);
    await postgres.stop?.();
  }
}

if (require.main === module) {
  standalone().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
