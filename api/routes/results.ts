import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { resourceRef } from '../../common/schemas/fields';
import { paginationQuery } from '../../common/schemas/pagination';
import {
  alertListQuery,
  alertUpdate,
  alertView,
  benchmarkView,
  changePointListQuery,
  changePointView,
  measureView,
  metricHistoryQuery,
  metricPoint,
  newThreshold,
  thresholdDetail,
  thresholdListQuery,
  thresholdModelBody,
  thresholdView,
  type MetricPoint,
} from '../../common/schemas/results';
import { alertsQuery, findAlert, setAlertStatus, type AlertListRow } from '../../db/alerts';
import { benchmarksQuery, findBenchmark, findMeasure, getOrCreateMeasure, measuresQuery } from '../../db/metrics';
import { branchHistory } from '../../db/reports';
import { findProjectChild, type ProjectChild } from '../../db/resources';
import type { ProjectRow } from '../../db/rows';
import { isUuid } from '../../db/refs';
import { changePointsQuery, seriesHistoryQuery, type ChangePointListRow } from '../../db/series';
import {
  deleteThreshold, findThreshold, lockThreshold, modelsById, setThreshold, thresholdIdFor, thresholdModels, thresholdsQuery, type ThresholdListRow,
} from '../../db/thresholds';
import { badRequest, conflict, notFound } from '../errors';
import { paginate } from '../pagination';
import { readableProject, seriesPlace } from '../project-access';
import { errorResponses, iso, writableProject } from '../resources';
import { toAlertSummary, toAlertView, toChangePointView, toModelView, toThresholdView } from '../views';

const projectParams = z.object({ project: resourceRef });
const thresholdParams = z.object({ project: resourceRef, threshold: z.uuid() });
const alertParams = z.object({ project: resourceRef, alert: z.uuid() });

/**
 * Thresholds, alerts, change points, and metric history (the data a plot needs). Reads follow the
 * project's visibility (readableProject); writes are for members of its organization.
 */
const resultRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.db;

  async function child(project: ProjectRow, table: ProjectChild, ref: string, field: string) {
    const row = await findProjectChild(db, table, project.id, ref);
    if (!row) throw badRequest(field, `${table} "${ref}" does not exist in project "${project.slug}"`);
    return row;
  }

  async function thresholdDetailOf(project: ProjectRow, thresholdId: string) {
    const row = await findThreshold(db, project.id, thresholdId);
    if (!row) throw notFound(`threshold "${thresholdId}"`);
    const models = await thresholdModels(db, row.id);
    return { ...toThresholdView(project, row, models.find((m) => m.id === row.model_id)), models: models.map(toModelView) };
  }

  // --- Thresholds ---------------------------------------------------------------------------------

  app.get(
    '/v0/projects/:project/thresholds',
    {
      preHandler: app.optionalUser,
      schema: { summary: "List a project's thresholds", tags: ['thresholds'], params: projectParams, querystring: thresholdListQuery, response: { 200: z.array(thresholdView), ...errorResponses } },
    },
    async (request, reply) => {
      const { project } = await readableProject(db, request, request.params.project);
      const { branch, testbed, measure, ...page } = request.query;
      const query = thresholdsQuery(db, project.id, { branch, testbed, measure });
      const rows = await paginate<ThresholdListRow>(db, reply, query, page, [{ column: 'branch.slug' }, { column: 'testbed.slug' }, { column: 'measure.slug' }, { column: 'threshold.id' }]);
      const models = await modelsById(db, rows.map((r) => r.model_id));
      return rows.map((r) => toThresholdView(project, r, r.model_id ? models.get(r.model_id) : undefined));
    },
  );

  app.post(
    '/v0/projects/:project/thresholds',
    {
      preHandler: app.requireUser,
      schema: { summary: 'Create a threshold for a branch + testbed + measure (members)', tags: ['thresholds'], params: projectParams, body: newThreshold, response: { 201: thresholdDetail, ...errorResponses } },
    },
    async (request, reply) => {
      const project = await writableProject(db, request, request.params.project, 'member');
      const { branch: branchRef, testbed: testbedRef, measure: measureRef, ...model } = request.body;
      const branch = await child(project, 'branch', branchRef, 'body.branch');
      const testbed = await child(project, 'testbed', testbedRef, 'body.testbed');
      const id = await db.transaction(async (trx) => {
        const measure = isUuid(measureRef) ? await findMeasure(trx, project.id, measureRef) : await getOrCreateMeasure(trx, project.id, measureRef);
        if (!measure) throw badRequest('body.measure', `measure "${measureRef}" does not exist`);
        const exists = await thresholdIdFor(trx, branch.id, testbed.id, measure.id);
        if (exists) throw conflict(`a threshold for ${branch.slug} + ${testbed.slug} + ${measure.slug} already exists (${exists}): change its model with PUT`);
        const set = await setThreshold(trx, { projectId: project.id, branchId: branch.id, testbedId: testbed.id, measureId: measure.id }, model);
        return set.threshold.id;
      });
      return reply.status(201).send(await thresholdDetailOf(project, id));
    },
  );

  app.get(
    '/v0/projects/:project/thresholds/:threshold',
    { preHandler: app.optionalUser, schema: { summary: 'View a threshold and every model it has had', tags: ['thresholds'], params: thresholdParams, response: { 200: thresholdDetail, ...errorResponses } } },
    async (request) => {
      const { project } = await readableProject(db, request, request.params.project);
      return thresholdDetailOf(project, request.params.threshold);
    },
  );

  app.put(
    '/v0/projects/:project/thresholds/:threshold',
    {
      preHandler: app.requireUser,
      schema: {
        summary: "Give a threshold a new model (members); the old one's active alerts are silenced",
        tags: ['thresholds'],
        params: thresholdParams,
        body: thresholdModelBody,
        response: { 200: thresholdDetail, ...errorResponses },
      },
    },
    async (request) => {
      const project = await writableProject(db, request, request.params.project, 'member');
      await db.transaction(async (trx) => {
        const threshold = await lockThreshold(trx, project.id, request.params.threshold);
        if (!threshold) throw notFound(`threshold "${request.params.threshold}"`);
        await setThreshold(trx, { projectId: project.id, branchId: threshold.branch_id, testbedId: threshold.testbed_id, measureId: threshold.measure_id }, request.body);
      });
      return thresholdDetailOf(project, request.params.threshold);
    },
  );

  app.delete(
    '/v0/projects/:project/thresholds/:threshold',
    {
      preHandler: app.requireUser,
      schema: { summary: 'Delete a threshold (members), with its models, boundaries and alerts', tags: ['thresholds'], params: thresholdParams, response: { 204: z.null(), ...errorResponses } },
    },
    async (request, reply) => {
      const project = await writableProject(db, request, request.params.project, 'member');
      if (!(await deleteThreshold(db, project.id, request.params.threshold))) throw notFound(`threshold "${request.params.threshold}"`);
      return reply.status(204).send(null);
    },
  );

  // --- Alerts -------------------------------------------------------------------------------------

  async function alertViews(project: ProjectRow, rows: AlertListRow[]) {
    const models = await modelsById(db, rows.map((r) => r.model_id));
    return rows.map((r) => toAlertView(project, r, models.get(r.model_id)!));
  }

  app.get(
    '/v0/projects/:project/alerts',
    {
      preHandler: app.optionalUser,
      schema: { summary: "List a project's alerts, newest first", tags: ['alerts'], params: projectParams, querystring: alertListQuery, response: { 200: z.array(alertView), ...errorResponses } },
    },
    async (request, reply) => {
      const { project } = await readableProject(db, request, request.params.project);
      const { status, branch, testbed, benchmark, measure, report, ...page } = request.query;
      const query = alertsQuery(db, project.id, { statuses: status ? [status].flat() : undefined, branch, testbed, benchmark, measure, reportId: report });
      const rows = await paginate<AlertListRow>(db, reply, query, page, [{ column: 'alert.created_at', order: 'desc' }, { column: 'alert.id' }]);
      return alertViews(project, rows);
    },
  );

  app.get(
    '/v0/projects/:project/alerts/:alert',
    { preHandler: app.optionalUser, schema: { summary: 'View an alert', tags: ['alerts'], params: alertParams, response: { 200: alertView, ...errorResponses } } },
    async (request) => {
      const { project } = await readableProject(db, request, request.params.project);
      const row = await findAlert(db, project.id, request.params.alert);
      if (!row) throw notFound(`alert "${request.params.alert}"`);
      return (await alertViews(project, [row]))[0];
    },
  );

  app.patch(
    '/v0/projects/:project/alerts/:alert',
    {
      preHandler: app.requireUser,
      schema: {
        summary: "Change an alert's status (members): dismiss it, silence it, or make it active again",
        tags: ['alerts'],
        params: alertParams,
        body: alertUpdate,
        response: { 200: alertView, ...errorResponses },
      },
    },
    async (request) => {
      const project = await writableProject(db, request, request.params.project, 'member');
      const updated = await setAlertStatus(db, project.id, request.params.alert, request.body.status);
      if (!updated) throw notFound(`alert "${request.params.alert}"`);
      const row = (await findAlert(db, project.id, updated.id))!;
      return (await alertViews(project, [row]))[0];
    },
  );

  // --- Change points ------------------------------------------------------------------------------

  app.get(
    '/v0/projects/:project/change-points',
    {
      preHandler: app.optionalUser,
      schema: {
        summary: 'List where metric series shifted (E-divisive means, newest first)',
        tags: ['change points'],
        params: projectParams,
        querystring: changePointListQuery,
        response: { 200: z.array(changePointView), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { project } = await readableProject(db, request, request.params.project);
      const { branch, testbed, benchmark, measure, ...page } = request.query;
      const query = changePointsQuery(db, project.id, { branch, testbed, benchmark, measure });
      const rows = await paginate<ChangePointListRow>(db, reply, query, page, [{ column: 'report.start_time', order: 'desc' }, { column: 'change_point.id' }]);
      return rows.map(toChangePointView);
    },
  );

  // --- Metric history -----------------------------------------------------------------------------

  app.get(
    '/v0/projects/:project/metrics',
    {
      preHandler: app.optionalUser,
      schema: {
        summary: 'The history of one series (benchmark + measure on a branch and testbed), oldest first, with boundaries, alerts and change points',
        description:
          "By default the series is the history thresholds judge the branch by: its own metrics since its last reset, then its start point's metrics before the fork (each point names its branch). `start_point=false` gives all of the branch's own metrics only.",
        tags: ['metrics'],
        params: projectParams,
        querystring: metricHistoryQuery,
        response: { 200: z.array(metricPoint), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { project } = await readableProject(db, request, request.params.project);
      const q = request.query;
      const { branch, testbed } = await seriesPlace(db, project, q);
      const benchmark = await findBenchmark(db, project.id, q.benchmark);
      if (!benchmark) throw notFound(`benchmark "${q.benchmark}"`);
      const measure = await findMeasure(db, project.id, q.measure);
      if (!measure) throw notFound(`measure "${q.measure}"`);
      const segments = await branchHistory(db, branch.id, q.start_point !== false);
      const query = seriesHistoryQuery(db, {
        branchId: branch.id,
        testbedId: testbed.id,
        benchmarkId: benchmark.id,
        measureId: measure.id,
        segments,
        startTime: q.start_time ? new Date(q.start_time) : undefined,
        endTime: q.end_time ? new Date(q.end_time) : undefined,
      });
      const rows = await paginate<Record<string, never>>(db, reply, query, { page: q.page, per_page: q.per_page }, [
        { column: 'report.start_time' },
        { column: 'report.created_at' },
        { column: 'metric.id' },
      ]);
      return rows.map(
        (r): MetricPoint => ({
          metric: r.metric,
          report: r.report,
          job: r.job,
          branch: r.branch,
          start_time: iso(r.start_time)!,
          value: r.value,
          lower_value: r.lower_value,
          upper_value: r.upper_value,
          boundary: r.threshold_id
            ? { threshold: r.threshold_id, model: r.model_id, baseline: r.baseline, lower_limit: r.lower_limit, upper_limit: r.upper_limit, skipped: r.skipped }
            : null,
          alert: r.alert_id ? toAlertSummary({ id: r.alert_id, side: r.alert_side, status: r.alert_status, limit: r.alert_limit, value: r.alert_value } as never) : null,
          change_point: r.change_point_id ? { uuid: r.change_point_id, percent_change: r.percent_change, pvalue: r.pvalue } : null,
        }),
      );
    },
  );

  app.get(
    '/v0/projects/:project/benchmarks',
    { preHandler: app.optionalUser, schema: { summary: "List a project's benchmarks", tags: ['metrics'], params: projectParams, querystring: paginationQuery, response: { 200: z.array(benchmarkView), ...errorResponses } } },
    async (request, reply) => {
      const { project } = await readableProject(db, request, request.params.project);
      const rows = await paginate<{ id: string; name: string; created_at: Date }>(db, reply, benchmarksQuery(db, project.id), request.query, [{ column: 'name' }, { column: 'id' }]);
      return rows.map((b) => ({ uuid: b.id, name: b.name, created: b.created_at.toISOString() }));
    },
  );

  app.get(
    '/v0/projects/:project/measures',
    { preHandler: app.optionalUser, schema: { summary: "List a project's measures", tags: ['metrics'], params: projectParams, querystring: paginationQuery, response: { 200: z.array(measureView), ...errorResponses } } },
    async (request, reply) => {
      const { project } = await readableProject(db, request, request.params.project);
      const rows = await paginate<{ id: string; slug: string; name: string; units: string }>(db, reply, measuresQuery(db, project.id), request.query, [{ column: 'slug' }, { column: 'id' }]);
      return rows.map((m) => ({ uuid: m.id, slug: m.slug, name: m.name, units: m.units }));
    },
  );
};

export default resultRoutes;
