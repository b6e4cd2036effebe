import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { startDeliveries } from '../../activities/webhooks';
import { headerTemplatesProblem } from '../../common/webhook-headers';
import { resourceRef } from '../../common/schemas/fields';
import { paginationQuery } from '../../common/schemas/pagination';
import { createdWebhook, newWebhook, webhookDeliveryView, webhookView, type WebhookDeliveryView, type WebhookView } from '../../common/schemas/webhooks';
import { seal } from '../../common/secret-box';
import type { ProjectRow } from '../../db/rows';
import {
  attemptsOf,
  deleteWebhook,
  dropDelivery,
  deliveriesQuery,
  findDelivery,
  findWebhook,
  insertRedelivery,
  insertWebhook,
  projectWebhooksQuery,
  type WebhookAttemptRow,
  type WebhookDeliveryRow,
  type WebhookRow,
} from '../../db/webhooks';
import { OutboundError, OutboundGuard } from '../../net/outbound';
import { badRequest, HttpError, notFound } from '../errors';
import { paginate } from '../pagination';
import { errorResponses, iso, writableProject } from '../resources';

const projectParams = z.object({ project: resourceRef });
const webhookParams = projectParams.extend({ webhook: z.uuid() });
const deliveryParams = webhookParams.extend({ delivery: z.uuid() });
const tags = ['webhooks'];
/** How long creation waits for the URL's host to resolve before answering 400. */
const RESOLVE_BUDGET_MS = 5000;

const toView = (webhook: WebhookRow, project: ProjectRow): WebhookView => ({
  uuid: webhook.id, project: project.slug, url: webhook.url, events: webhook.events, headers: webhook.headers, created: webhook.created_at.toISOString(),
});

const toDeliveryView = (delivery: WebhookDeliveryRow, attempts: WebhookAttemptRow[]): WebhookDeliveryView => ({
  uuid: delivery.id,
  webhook: delivery.webhook_id,
  event: { id: delivery.event_id, type: delivery.event_type },
  redelivery_of: delivery.redelivery_of,
  status: delivery.status,
  created: delivery.created_at.toISOString(),
  finished: iso(delivery.finished_at),
  attempts: attempts
    .filter((a) => a.delivery_id === delivery.id)
    .map((a) => ({ attempt: a.attempt, started: a.started_at.toISOString(), duration_ms: a.duration_ms, status_code: a.status_code, error: a.error, response: a.response_excerpt, delivered: a.delivered })),
});

/**
 * The URL a webhook may be created with: http(s), no credentials, and a host that resolves, now, to
 * addresses the outbound guard allows. Every attempt checks again (a name may be re-pointed later).
 */
async function checkTargetUrl(outbound: OutboundGuard, given: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw badRequest('body.url', 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('body.url', `only http and https URLs are allowed, not ${url.protocol}`);
  if (url.username || url.password) throw badRequest('body.url', 'credentials in the URL are not accepted (views show the URL); send them in a header');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  try {
    await outbound.checkTarget(url.hostname, port, RESOLVE_BUDGET_MS);
  } catch (err) {
    if (err instanceof OutboundError) throw badRequest('body.url', err.message);
    throw err;
  }
  return url.toString();
}

/** The webhook named in the path, of a project the caller may act on as `need`; 404 otherwise. */
async function projectWebhook(app: FastifyInstance, request: Parameters<typeof writableProject>[1], params: { project: string; webhook: string }, need: 'member' | 'leader') {
  const project = await writableProject(app.db, request, params.project, need);
  const webhook = await findWebhook(app.db, project.id, params.webhook);
  if (!webhook) throw notFound(`webhook ${params.webhook}`);
  return { project, webhook };
}

/**
 * A project's webhooks: HTTP callbacks for job, alert and pipeline events, delivered durably by the
 * orchestrator (activities/webhooks.ts). Project settings holding a signing secret: members read
 * them and their deliveries, leaders create, delete and redeliver.
 */
const webhookRoutes: FastifyPluginAsyncZod = async (app) => {
  const outbound = new OutboundGuard(app.config.outbound);

  app.post(
    '/v0/projects/:project/webhooks',
    {
      preHandler: app.requireUser,
      schema: {
        summary: 'Create a webhook; its signing secret is in this response only (organization leaders)',
        tags,
        params: projectParams,
        body: newWebhook,
        response: { 201: createdWebhook, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const project = await writableProject(app.db, request, request.params.project, 'leader');
      const headers = body.headers ?? {};
      const problem = headerTemplatesProblem(headers);
      if (problem) throw badRequest(`body.${problem.field}`, problem.reason);
      const url = await checkTargetUrl(outbound, body.url);
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const webhook = await insertWebhook(app.db, {
        projectId: project.id, url, events: body.events, headers, createdBy: request.user!.id,
        // Stored sealed (the orchestrator opens it to sign); the plaintext is in this response only.
        secret: seal(secret, app.config.secretsKey),
      });
      return reply.status(201).send({ ...toView(webhook, project), secret });
    },
  );

  app.get(
    '/v0/projects/:project/webhooks',
    {
      preHandler: app.requireUser,
      schema: { summary: "List a project's webhooks, oldest first (members)", tags, params: projectParams, querystring: paginationQuery, response: { 200: z.array(webhookView), ...errorResponses } },
    },
    async (request, reply) => {
      const project = await writableProject(app.db, request, request.params.project, 'member');
      const rows = await paginate<WebhookRow>(app.db, reply, projectWebhooksQuery(app.db, project.id), request.query, [{ column: 'created_at' }, { column: 'id' }]);
      return rows.map((webhook) => toView(webhook, project));
    },
  );

  app.get(
    '/v0/projects/:project/webhooks/:webhook',
    { preHandler: app.requireUser, schema: { summary: 'A webhook (members)', tags, params: webhookParams, response: { 200: webhookView, ...errorResponses } } },
    async (request) => {
      const { project, webhook } = await projectWebhook(app, request, request.params, 'member');
      return toView(webhook, project);
    },
  );

  app.delete(
    '/v0/projects/:project/webhooks/:webhook',
    {
      preHandler: app.requireUser,
      schema: { summary: 'Delete a webhook, its deliveries and their attempts; retries in flight stop (organization leaders)', tags, params: webhookParams, response: { 204: z.null(), ...errorResponses } },
    },
    async (request, reply) => {
      const project = await writableProject(app.db, request, request.params.project, 'leader');
      if (!(await deleteWebhook(app.db, project.id, request.params.webhook))) throw notFound(`webhook ${request.params.webhook}`);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v0/projects/:project/webhooks/:webhook/deliveries',
    {
      preHandler: app.requireUser,
      schema: {
        summary: "A webhook's deliveries, newest first, each with every attempt: time, status code, duration, error, the start of the response (members)",
        tags,
        params: webhookParams,
        querystring: paginationQuery,
        response: { 200: z.array(webhookDeliveryView), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { webhook } = await projectWebhook(app, request, request.params, 'member');
      const rows = await paginate<WebhookDeliveryRow>(app.db, reply, deliveriesQuery(app.db, webhook.id), request.query, [
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ]);
      const attempts = await attemptsOf(app.db, rows.map((d) => d.id));
      return rows.map((d) => toDeliveryView(d, attempts));
    },
  );

  app.post(
    '/v0/projects/:project/webhooks/:webhook/deliveries/:delivery/redeliver',
    {
      preHandler: app.requireUser,
      schema: {
        summary: 'Deliver the same event again (same event id and body, new delivery and attempts) (organization leaders)',
        tags,
        params: deliveryParams,
        response: { 202: webhookDeliveryView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { webhook } = await projectWebhook(app, request, request.params, 'leader');
      const original = await findDelivery(app.db, webhook.id, request.params.delivery);
      if (!original) throw notFound(`delivery ${request.params.delivery}`);
      const delivery = await insertRedelivery(app.db, original);
      try {
        await startDeliveries(app.temporal, { taskQueue: app.config.controlTaskQueue, retry: app.config.webhookRetry }, [delivery.id]);
      } catch (err) {
        // Nothing would ever attempt it: no row that says otherwise.
        await dropDelivery(app.db, delivery.id);
        request.log.warn({ err }, 'redelivery not started');
        throw new HttpError(503, 'unavailable', 'the delivery could not be started (Temporal unavailable); retry later');
      }
      return reply.status(202).send(toDeliveryView(delivery, []));
    },
  );
};

export default webhookRoutes;
