import type { Knex } from 'knex';
import type { Moments } from '../results/thresholds';
import type { HistorySegment } from './reports';

/**
 * Running sums along each metric series, and its newest points on the series row
 * (migrations/013_series_sums.ts): kept as metrics are stored, read to judge a long window of a
 * series from a few rows and to give the change-point detector its view from one.
 */

/** A metric just stored, as its series' sums need it. */
export interface SummedMetric {
  id: string;
  benchmark_id: string;
  measure_id: string;
  value: number;
}

/**
 * Adds the report's metrics to their series' sums, creating the series on first sight: two
 * statements however many metrics there are. A metric is placed by its report's start time (then
 * creation, then id), like history, so one older than some already stored (a backdated local
 * report) goes before them and their sums shift. Writers of one branch + testbed take turns (a
 * transaction lock), so each adds to sums that include everything committed before it.
 *
 * The same statement keeps each series' newest `recent` points on its row (see recentPoints): the
 * new point appended when it is the newest, the row's points rebuilt when it has none (a new
 * series has none until its second report), dropped when the new point is not the newest, for the
 * next report to rebuild.
 */
export async function addToSeriesSums(
  trx: Knex.Transaction,
  report: { id: string; branch_id: string; testbed_id: string },
  metrics: readonly SummedMetric[],
  recent: number,
): Promise<void> {
  if (metrics.length === 0) return;
  await trx.raw('select pg_advisory_xact_lock(hashtextextended(?::text, 0))', [`benchline.series:${report.branch_id}:${report.testbed_id}`]);
  // A new statement: its snapshot includes whatever the previous holder of the lock committed.
  await trx.raw(
    `with r as (select id, branch_id, testbed_id, start_time, created_at, (extract(epoch from start_time) * 1000)::float8 as start_ms from report where id = ?),
     u as (select * from jsonb_to_recordset(?::jsonb) as u(id uuid, benchmark_id uuid, measure_id uuid, value float8)),
     added as (
       insert into series (branch_id, testbed_id, benchmark_id, measure_id)
       select r.branch_id, r.testbed_id, u.benchmark_id, u.measure_id from u cross join r
       on conflict do nothing
       returning id, benchmark_id, measure_id
     ),
     s as (
       select series.id, series.benchmark_id, series.measure_id from series join r on (series.branch_id, series.testbed_id) = (r.branch_id, r.testbed_id)
       union all select * from added
     ),
     n as (
       select s.id as series_id, u.id as metric_id, u.value as x, u.value::numeric as v,
         case when u.value > 0 then ln(u.value)::numeric else 0 end as l, (u.value <= 0)::int as np
       from u join s on (s.benchmark_id, s.measure_id) = (u.benchmark_id, u.measure_id)
     ),
     -- Stored points newer than the new one, probing the order index per series (offset 0 keeps the
     -- planner from flattening the probe into a scan of every series' sums): rare, usually none.
     later as (
       select n.series_id, n.v, n.l, n.np, q.metric_id from n cross join r
       cross join lateral (
         select metric_id from series_sum q
         where q.series_id = n.series_id and (q.start_time, q.created_at, q.report_id) > (r.start_time, r.created_at, r.id)
         offset 0
       ) q
     ),
     shifted as (
       update series_sum p
       set rank = p.rank + 1, value_sum = p.value_sum + later.v, square_sum = p.square_sum + later.v * later.v,
           log_sum = p.log_sum + later.l, log_square_sum = p.log_square_sum + later.l * later.l, nonpositive = p.nonpositive + later.np
       from later
       where p.metric_id = later.metric_id
     ),
     recent as (
       update series c
       set recent_values = case when o.newest then (b.vals || n.x)[cardinality(b.vals) + 2 - ?::int:] end,
           recent_ids = case when o.newest then (b.ids || n.metric_id)[cardinality(b.ids) + 2 - ?::int:] end,
           recent_times = case when o.newest then (b.times || r.start_ms)[cardinality(b.times) + 2 - ?::int:] end
       from n cross join r
       join series cur on cur.id = n.series_id
       cross join lateral (select not exists (select 1 from later where later.series_id = n.series_id) as newest) o
       left join lateral (
         select array_agg(m.value order by p.rank) as vals, array_agg(m.id order by p.rank) as ids,
           array_agg((extract(epoch from p.start_time) * 1000)::float8 order by p.rank) as times
         from (
           select * from series_sum p
           where cur.recent_values is null and p.series_id = n.series_id
           order by p.start_time desc, p.created_at desc, p.report_id desc limit ?::int - 1
         ) p join metric m on m.id = p.metric_id
       ) rebuilt on true
       cross join lateral (
         select coalesce(cur.recent_values, rebuilt.vals, '{}') as vals, coalesce(cur.recent_ids, rebuilt.ids, '{}') as ids, coalesce(cur.recent_times, rebuilt.times, '{}') as times
       ) b
       where c.id = n.series_id
     )
     insert into series_sum (metric_id, series_id, report_id, start_time, created_at, rank, value_sum, square_sum, log_sum, log_square_sum, nonpositive)
     select n.metric_id, n.series_id, r.id, r.start_time, r.created_at, coalesce(prev.rank, 0) + 1,
       coalesce(prev.value_sum, 0) + n.v, coalesce(prev.square_sum, 0) + n.v * n.v,
       coalesce(prev.log_sum, 0) + n.l, coalesce(prev.log_square_sum, 0) + n.l * n.l, coalesce(prev.nonpositive, 0) + n.np
     from n cross join r
     left join lateral (
       select * from series_sum p
       where p.series_id = n.series_id and (p.start_time, p.created_at, p.report_id) < (r.start_time, r.created_at, r.id)
       order by p.start_time desc, p.created_at desc, p.report_id desc limit 1
     ) prev on true`,
    [report.id, JSON.stringify(metrics.map(({ id, benchmark_id, measure_id, value }) => ({ id, benchmark_id, measure_id, value }))), recent, recent, recent, recent],
  );
}

/** One series' window: its newest `count` metrics in the history, none older than `since`. */
export interface WindowQuery {
  benchmark_id: string;
  measure_id: string;
  count: number;
  since: Date | null;
}

/**
 * The moments of each query's window of history (see db/results.ts: the branch's own metrics in
 * the first segment, then its start point's, up the chain), by index in `queries`, in one
 * statement: per series and segment, the newest point before the segment's end, the newest before
 * its start, and the point where the window cuts it, each one index probe.
 *
 * Taking the segments' newest in turn is the history's newest-first order only while the segments
 * do not overlap in time; a series whose do (a backdated report on a branch, older than its fork)
 * is left out of the map, for the caller to read point by point. A series with no history has
 * n = 0.
 */
export async function windowMoments(db: Knex, testbedId: string, segments: readonly HistorySegment[], queries: readonly WindowQuery[]): Promise<Map<number, Moments>> {
  const moments = new Map<number, Moments>();
  if (queries.length === 0) return moments;
  // As JSON: Postgres arrays of timestamps with nulls are not a binding knex's types allow.
  const bindings = [
    JSON.stringify(queries.map((q, k) => ({ k, ...q }))),
    JSON.stringify(segments.map((s, j) => ({ j, branch_id: s.branchId, since: s.since, until: s.until }))),
    testbedId,
    segments.length,
  ];
  const { rows }: { rows: { k: number; n: number; mean: number | null; sd: number | null; log_mean: number | null; log_sd: number | null; nonpositive: number; ordered: boolean }[] } = await db.raw(
    `with q as (
       select u.k, g.j, s.id as series_id, u.count, greatest(g.since, u.since) as since, g.until
       from jsonb_to_recordset(?::jsonb) as u(k int, benchmark_id uuid, measure_id uuid, count int, since timestamptz)
       cross join jsonb_to_recordset(?::jsonb) as g(j int, branch_id uuid, since timestamptz, until timestamptz)
       join series s on (s.branch_id, s.testbed_id, s.benchmark_id, s.measure_id) = (g.branch_id, ?, u.benchmark_id, u.measure_id)
     ),
     ends as (
       select q.*, hi.rank as hi_rank, hi.start_time as hi_time, coalesce(lo.rank, 0) as lo_rank, oldest.start_time as oldest_time
       from q
       join lateral (
         select rank, start_time from series_sum p where p.series_id = q.series_id and p.start_time < q.until
         order by p.start_time desc, p.created_at desc, p.report_id desc limit 1
       ) hi on true
       left join lateral (
         select rank from series_sum p where q.since is not null and p.series_id = q.series_id and p.start_time < q.since
         order by p.start_time desc, p.created_at desc, p.report_id desc limit 1
       ) lo on true
       -- Only where segments could overlap: the oldest point of this segment's part of the window.
       left join lateral (
         select start_time from series_sum p where ?::int > 1 and p.series_id = q.series_id and p.start_time >= coalesce(q.since, '-infinity') and p.start_time < q.until
         order by p.start_time, p.created_at, p.report_id limit 1
       ) oldest on true
       where hi.rank > coalesce(lo.rank, 0)
     ),
     taken as (
       select e.*,
         least(e.hi_rank - e.lo_rank, greatest(0, e.count - coalesce(sum(e.hi_rank - e.lo_rank) over (partition by e.k order by e.j rows between unbounded preceding and 1 preceding), 0))) as take,
         max(e.hi_time) over (partition by e.k order by e.j rows between 1 following and unbounded following) as later_newest
       from ends e
     ),
     sums as (
       select t.k, sum(t.take) as n,
         sum(hi.value_sum - coalesce(cut.value_sum, 0)) as s1, sum(hi.square_sum - coalesce(cut.square_sum, 0)) as s2,
         sum(hi.log_sum - coalesce(cut.log_sum, 0)) as l1, sum(hi.log_square_sum - coalesce(cut.log_square_sum, 0)) as l2,
         sum(hi.nonpositive - coalesce(cut.nonpositive, 0)) as nonpositive,
         bool_and(t.take = 0 or t.later_newest is null or t.oldest_time > t.later_newest) as ordered
       from taken t
       join series_sum hi on hi.series_id = t.series_id and hi.rank = t.hi_rank
       left join series_sum cut on cut.series_id = t.series_id and cut.rank = t.hi_rank - t.take
       where t.take > 0
       group by t.k
     )
     select k, n::int, nonpositive::int, ordered,
       (s1 / n)::float8 as mean,
       -- Exact up to the division; the square root in double precision, at a fraction of numeric's cost.
       case when n > 1 then sqrt((greatest(n * s2 - s1 * s1, 0) / (n * (n - 1)))::float8) end as sd,
       (l1 / n)::float8 as log_mean,
       sqrt((greatest(n * l2 - l1 * l1, 0) / (n * n))::float8) as log_sd
     from sums`,
    bindings,
  );
  queries.forEach((_, k) => moments.set(k, { n: 0, mean: Number.NaN, sd: Number.NaN, log: undefined }));
  for (const row of rows) {
    if (!row.ordered) moments.delete(row.k);
    else
      moments.set(row.k, {
        n: row.n,
        mean: row.mean!,
        sd: row.sd ?? Number.NaN,
        log: row.nonpositive > 0 ? undefined : { mean: row.log_mean!, sd: row.log_sd! },
      });
  }
  return moments;
}

/** A series' newest points as its row keeps them (addToSeriesSums), oldest first. */
export interface RecentPoint {
  metric_id: string;
  start_ms: number;
  value: number;
}

/**
 * The newest points each series of the branch + testbed keeps on its row, by index in `pairs`; a
 * series whose row keeps none (new, or just given a backdated metric) is left out. One statement,
 * one row per series, where reading the points from the metrics reads one row per point.
 */
export async function recentPoints(
  db: Knex,
  branchId: string,
  testbedId: string,
  pairs: readonly { benchmark_id: string; measure_id: string }[],
): Promise<Map<number, RecentPoint[]>> {
  const recent = new Map<number, RecentPoint[]>();
  if (pairs.length === 0) return recent;
  // As JSON: one native parse instead of Postgres's array text, element by element.
  const { rows }: { rows: { k: number; values: number[]; ids: string[]; times: number[] }[] } = await db.raw(
    `select u.k, array_to_json(s.recent_values) as values, array_to_json(s.recent_ids) as ids, array_to_json(s.recent_times) as times
     from jsonb_to_recordset(?::jsonb) as u(k int, benchmark_id uuid, measure_id uuid)
     join series s on (s.branch_id, s.testbed_id, s.benchmark_id, s.measure_id) = (?, ?, u.benchmark_id, u.measure_id)
     where s.recent_values is not null`,
    [JSON.stringify(pairs.map((p, k) => ({ k, benchmark_id: p.benchmark_id, measure_id: p.measure_id }))), branchId, testbedId],
  );
  for (const row of rows) recent.set(row.k, row.values.map((value, i) => ({ metric_id: row.ids[i], start_ms: row.times[i], value })));
  return recent;
}
