import type { Knex } from 'knex';

/**
 * Running sums along each metric series, so a threshold whose model needs only moments (t_test,
 * z_score, log_normal, percentage) judges a long window from a few rows per series instead of
 * reading the whole window (issue 9: 3,000 series × 1,000 points read 3,000,000 metrics per report).
 *
 * - series: one per branch + testbed + benchmark + measure, the branch's own metrics only (a start
 *   point's metrics are in the start point's series), with its newest points kept on the row, so
 *   the change-point detector's view of 3,000 series is 3,000 rows rather than 300,000.
 * - series_sum: per metric, its rank in its series (1 = oldest, in history order: report start
 *   time, creation time, id) and the sums of value, value², ln value and (ln value)² over the
 *   series up to and including it, with the count of values ≤ 0 (whose logarithm is left out).
 *   The sums of any stretch are the difference of two rows. numeric, not double: the difference of
 *   two large running sums keeps every digit, where doubles would lose the variance of a long
 *   series to cancellation.
 *
 * Metrics are never deleted one by one (only with their project, and the series with them), so the
 * sums only ever grow at a point: a metric inserted before newer ones shifts theirs (db/series-sums).
 */

/** How many points a series keeps on its row: db/results.ts RECENT_POINTS when this was written. */
const RECENT_POINTS = 99;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('series', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('branch_id').notNullable().references('branch.id').onDelete('CASCADE');
    t.uuid('testbed_id').notNullable().references('testbed.id').onDelete('CASCADE');
    t.uuid('benchmark_id').notNullable().references('benchmark.id').onDelete('CASCADE');
    t.uuid('measure_id').notNullable().references('measure.id').onDelete('CASCADE');
    t.unique(['branch_id', 'testbed_id', 'benchmark_id', 'measure_id']);
    // The series' newest RECENT_POINTS points (value, metric id, report start time in epoch ms),
    // oldest first: the change-point detector's view of a branch without a start point, read as one
    // row instead of a row per point. Null where a report is to rebuild them.
    t.specificType('recent_values', 'float8[]');
    t.specificType('recent_ids', 'uuid[]');
    t.specificType('recent_times', 'float8[]');
  });
  await knex.schema.createTable('series_sum', (t) => {
    // No foreign key to metric: metrics go only with their branch (report, project), whose series
    // take these rows with them, and one key checked per row is enough of the write's time.
    t.uuid('metric_id').primary();
    t.uuid('series_id').notNullable().references('series.id').onDelete('CASCADE');
    // The metric's report's ordering key, copied: the newest point before a time is one index probe.
    t.uuid('report_id').notNullable();
    t.timestamp('start_time', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.integer('rank').notNullable();
    t.specificType('value_sum', 'numeric').notNullable();
    t.specificType('square_sum', 'numeric').notNullable();
    t.specificType('log_sum', 'numeric').notNullable();
    t.specificType('log_square_sum', 'numeric').notNullable();
    t.integer('nonpositive').notNullable();
    // Not unique: shifting the ranks after an out-of-order insert passes through duplicates.
    t.index(['series_id', 'rank']);
  });
  await knex.raw('CREATE INDEX series_sum_series_order ON series_sum (series_id, start_time, created_at, report_id) INCLUDE (rank)');
  await backfillSeriesSums(knex);
}

/**
 * The series and running sums of every metric already stored (or, with `branchId`, of one
 * branch's), as storing each in turn would have made them. Exported for the results-scale bench,
 * which loads its history in bulk SQL as an existing database would have it.
 */
export async function backfillSeriesSums(knex: Knex, branchId?: string): Promise<void> {
  const branch = [branchId ?? null, branchId ?? null];
  await knex.raw(
    `insert into series (branch_id, testbed_id, benchmark_id, measure_id)
     select distinct r.branch_id, r.testbed_id, m.benchmark_id, m.measure_id from metric m join report r on r.id = m.report_id
     where ?::uuid is null or r.branch_id = ?
     on conflict do nothing`,
    branch,
  );
  await knex.raw(
    `insert into series_sum (metric_id, series_id, report_id, start_time, created_at, rank, value_sum, square_sum, log_sum, log_square_sum, nonpositive)
     select m.id, s.id, r.id, r.start_time, r.created_at,
       row_number() over w,
       sum(m.value::numeric) over w,
       sum(m.value::numeric * m.value::numeric) over w,
       sum(case when m.value > 0 then ln(m.value)::numeric else 0 end) over w,
       sum(case when m.value > 0 then ln(m.value)::numeric * ln(m.value)::numeric else 0 end) over w,
       count(*) filter (where m.value <= 0) over w
     from metric m
     join report r on r.id = m.report_id
     join series s on (s.branch_id, s.testbed_id, s.benchmark_id, s.measure_id) = (r.branch_id, r.testbed_id, m.benchmark_id, m.measure_id)
     where ?::uuid is null or r.branch_id = ?
     window w as (partition by s.id order by r.start_time, r.created_at, r.id rows between unbounded preceding and current row)`,
    branch,
  );
  await knex.raw(
    `update series s
     set recent_values = k.vals, recent_ids = k.ids, recent_times = k.times
     from series x
     cross join lateral (
       select array_agg(m.value order by p.rank) as vals, array_agg(m.id order by p.rank) as ids,
         array_agg((extract(epoch from p.start_time) * 1000)::float8 order by p.rank) as times
       from (select * from series_sum p where p.series_id = x.id order by p.rank desc limit ?) p
       join metric m on m.id = p.metric_id
     ) k
     where s.id = x.id and (?::uuid is null or x.branch_id = ?)`,
    [RECENT_POINTS, ...branch],
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('series_sum');
  await knex.schema.dropTable('series');
}
