import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { minMaxBuckets } from '../../common/downsample';
import { resourceRef } from '../../common/schemas/fields';
import { TOTAL_COUNT_HEADER, pageWindow } from '../../common/schemas/pagination';
import { MAX_PLOT_SERIES, benchmarkTableQuery, benchmarkTableRow, perfData, perfQuery, perfSvgQuery, type BenchmarkTableRow, type PerfData, type PerfQuery, type PerfSeries } from '../../common/schemas/perf';
import { renderPerfSvg } from '../perf-svg';
import { benchmarkTable, plotPoints, seriesParts, type PlotPointRow } from '../../db/perf';
import { branchHistory } from '../../db/reports';
import type { ProjectRow } from '../../db/rows';
import { badRequest } from '../errors';
import { readableProject, seriesPlace } from '../project-access';
import { errorResponses } from '../resources';

const projectParams = z.object({ project: resourceRef });

/**
 * What the console's benchmarks table and perf plot read, shaped on the server so a page fetches
 * only what it shows: one page of series with their sparklines, and plot series thinned to the
 * plot's width. Reads follow the project's visibility, as every results read does.
 */
const perfRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.db;

  app.get(
    '/v0/projects/:project/benchmark-table',
    {
      preHandler: app.optionalUser,
      schema: {
        summary: 'Every benchmark × measure of a branch + testbed: newest value, change against its baseline, sparkline, alert and change-point state (paged, sortable)',
        tags: ['metrics'],
        params: projectParams,
        querystring: benchmarkTableQuery,
        response: { 200: z.array(benchmarkTableRow), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { project } = await readableProject(db, request, request.params.project);
      const q = request.query;
      const { branch, testbed } = await seriesPlace(db, project, q);
      const { rows, total } = await benchmarkTable(db, { branchId: branch.id, testbedId: testbed.id, reports: q.reports, q: q.q, sort: q.sort, order: q.order, ...pageWindow(q) });
      reply.header(TOTAL_COUNT_HEADER, total);
      return rows.map(
        (r): BenchmarkTableRow => ({
          benchmark: r.benchmark,
          measure: r.measure,
          units: r.units,
          value: r.value,
          report: r.report_id,
          start_time: r.start_time.toISOString(),
          baseline: r.baseline,
          change_percent: r.change_percent,
          lower_limit: r.lower_limit,
          upper_limit: r.upper_limit,
          sparkline: r.sparkline,
          alert: r.alert_side && r.alert_status ? { side: r.alert_side, status: r.alert_status } : null,
          active_alerts: r.active_alerts,
          change_point: r.change_point_report && r.change_point_percent !== null ? { report: r.change_point_report, percent_change: r.change_point_percent } : null,
        }),
      );
    },
  );

  /** The ids `refs` name in the project, in the order given; a 400 naming the parameter for one that names nothing. */
  async function resolve(project: ProjectRow, table: 'branch' | 'testbed' | 'benchmark' | 'measure', refs: string[]) {
    const found = await seriesParts(db, table, project.id, refs);
    return [...new Set(refs)].map((ref) => {
      const row = found.find((f) => f.id === ref || f.name === ref);
      if (!row) throw badRequest(`querystring.${table}`, `${table} "${ref}" does not exist in project "${project.slug}"`);
      return row;
    });
  }

  app.get(
    '/v0/projects/:project/perf',
    {
      preHandler: app.optionalUser,
      schema: {
        summary: 'Plot data: each branch × testbed × benchmark × measure series over a time range, with boundaries, alerts and change points, downsampled to max_points',
        description: `Each branch's history: by default its own reports since its last reset and its start point's before the fork (start_point=false: its own reports only). At most ${MAX_PLOT_SERIES} series. Series with more points than max_points are thinned by min/max buckets (each bucket of the time range keeps its lowest and highest point; alerts, change points and the first and last points are always kept).`,
        tags: ['metrics'],
        params: projectParams,
        querystring: perfQuery,
        response: { 200: perfData, ...errorResponses },
      },
    },
    async (request) => {
      const { project } = await readableProject(db, request, request.params.project);
      return plotData(project, request.query);
    },
  );

  app.get(
    '/v0/projects/:project/perf.svg',
    {
      preHandler: app.optionalUser,
      schema: {
        summary: 'The perf plot as an SVG image, at a stable URL for READMEs and pull-request comments',
        description: 'The same series, limits, alerts and change points as GET …/perf, drawn server-side; each series is downsampled to the image width.',
        tags: ['metrics'],
        params: projectParams,
        querystring: perfSvgQuery,
        response: { 200: { description: 'the plot', content: { 'image/svg+xml': { schema: z.string() } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { project } = await readableProject(db, request, request.params.project);
      const { width, height, log, ...q } = request.query;
      const data = await plotData(project, { ...q, max_points: width });
      // Shared through caches and image proxies (a README's camo): fresh for a minute.
      return reply.type('image/svg+xml').header('cache-control', 'public, max-age=60').send(renderPerfSvg(data, { width, height, log: log ?? false }));
    },
  );

  async function plotData(project: ProjectRow, q: PerfQuery): Promise<PerfData> {
    const count = q.branch.length * q.testbed.length * q.benchmark.length * q.measure.length;
    if (count > MAX_PLOT_SERIES) throw badRequest('querystring', `${count} series asked for; a plot holds at most ${MAX_PLOT_SERIES} (branches × testbeds × benchmarks × measures)`);
    const [branches, testbeds, benchmarks, measures] = await Promise.all([
      resolve(project, 'branch', q.branch),
      resolve(project, 'testbed', q.testbed),
      resolve(project, 'benchmark', q.benchmark),
      resolve(project, 'measure', q.measure),
    ]);
    const rows = await plotPoints(db, {
      branches: await Promise.all(branches.map(async (b) => ({ id: b.id, segments: await branchHistory(db, b.id, q.start_point !== false) }))),
      testbedIds: testbeds.map((t) => t.id),
      benchmarkIds: benchmarks.map((b) => b.id),
      measureIds: measures.map((m) => m.id),
      startTime: q.start_time ? new Date(q.start_time) : undefined,
      endTime: q.end_time ? new Date(q.end_time) : undefined,
    });
    const bySeries = new Map<string, PlotPointRow[]>();
    for (const r of rows) {
      const key = `${r.branch_id}/${r.testbed_id}/${r.benchmark_id}/${r.measure_id}`;
      bySeries.get(key)?.push(r) ?? bySeries.set(key, [r]);
    }
    const reports = new ReportTable();
    const series: PerfSeries[] = [];
    for (const branch of branches) for (const testbed of testbeds) for (const benchmark of benchmarks) for (const measure of measures) {
      const points = bySeries.get(`${branch.id}/${testbed.id}/${benchmark.id}/${measure.id}`) ?? [];
      series.push(toSeries({ branch: branch.name, testbed: testbed.name, benchmark: benchmark.name, measure: measure.name, units: measure.units ?? '' }, points, q.max_points, reports));
    }
    return { reports: reports.data, series };
  }
};

/** The reports plot points come from, each once, by index. */
class ReportTable {
  readonly data: PerfData['reports'] = { uuids: [], times: [], jobs: [], versions: [] };
  private readonly index = new Map<string, number>();

  indexOf(p: PlotPointRow): number {
    let i = this.index.get(p.report_id);
    if (i === undefined) {
      i = this.data.uuids.push(p.report_id) - 1;
      this.data.times.push(p.start_time.getTime());
      this.data.jobs.push(p.job_id);
      this.data.versions.push(p.image_digest);
      this.index.set(p.report_id, i);
    }
    return i;
  }
}

/** A series' points as parallel arrays, thinned to `maxPoints` (markers kept), with its alerts and change points by index. */
function toSeries(names: Pick<PerfSeries, 'branch' | 'testbed' | 'benchmark' | 'measure' | 'units'>, all: PlotPointRow[], maxPoints: number, reports: ReportTable): PerfSeries {
  const kept = minMaxBuckets(all.map((p) => p.start_time.getTime()), all.map((p) => p.value), maxPoints, (i) => all[i].alert_id !== null || all[i].change_point_id !== null).map((i) => all[i]);
  return {
    ...names,
    total_points: all.length,
    reports: kept.map((p) => reports.indexOf(p)),
    values: kept.map((p) => p.value),
    lower_limits: kept.map((p) => p.lower_limit),
    upper_limits: kept.map((p) => p.upper_limit),
    alerts: kept.flatMap((p, index) => (p.alert_id ? [{ index, uuid: p.alert_id, side: p.alert_side!, status: p.alert_status!, limit: p.alert_limit! }] : [])),
    change_points: kept.flatMap((p, index) => (p.change_point_id ? [{ index, uuid: p.change_point_id, percent_change: p.percent_change! }] : [])),
  };
}

export default perfRoutes;
