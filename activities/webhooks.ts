import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Knex } from 'knex';
import {
  WEBHOOK_ATTEMPT_FAILED,
  WEBHOOK_DELIVERY_WORKFLOW,
  webhookDeliveryWorkflowId,
  type WebhookActivities,
  type WebhookDeliveryInput,
  type WebhookEventType,
  type WebhookRetry,
} from '../common/contracts';
import { escapeNul } from '../common/postgres-text';
import { open, SecretOpenError } from '../common/secret-box';
import { DELIVERY_HEADER, EVENT_HEADER, interpolateHeaders, SIGNATURE_HEADER, signatureHeader, type TemplateValues } from '../common/webhook-headers';
import { alertsQuery } from '../db/alerts';
import { isDatabaseUnavailable } from '../db/unavailable';
import { deliveryToSend, endedJob, giveUpDelivery, endedPipeline, recordEventDeliveries, recordWebhookAttempt, subscribedWebhooks, type WebhookEvent } from '../db/webhooks';
import { OutboundError, type OutboundGuard } from '../net/outbound';

/** Where delivery workflows run (the orchestrator's queue) and how their attempts are retried. */
export interface WebhookSettings {
  taskQueue: string;
  retry: WebhookRetry;
}

/** One attempt's whole exchange; the activity's start-to-close timeout is well above it. */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** How much of a receiver's response is kept with the attempt, for the deliveries list. */
const EXCERPT_BYTES = 1024;

const JOB_EVENT = { processed: 'job.completed', failed: 'job.failed', canceled: 'job.canceled' } as const;

/**
 * Starts each delivery's workflow once: the workflow id is the delivery's, and a start for an id
 * that ever ran is refused (REJECT_DUPLICATE), so a retried activity or a repeated redelivery
 * request starts nothing twice.
 */
export async function startDeliveries(client: Client, settings: WebhookSettings, deliveryIds: string[]): Promise<void> {
  await Promise.all(
    deliveryIds.map(async (deliveryId) => {
      try {
        await client.workflow.start(WEBHOOK_DELIVERY_WORKFLOW, {
          taskQueue: settings.taskQueue,
          workflowId: webhookDeliveryWorkflowId(deliveryId),
          args: [{ deliveryId, retry: settings.retry } satisfies WebhookDeliveryInput],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }),
  );
}

/** The first `limit` bytes of a response body as text; the rest is never read (the socket closes). */
async function firstBytes(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= limit) break;
    }
  } catch {
    // Cut off or timed out mid-body: the status already said how the attempt went; keep what came.
  } finally {
    body.destroy();
  }
  return escapeNul(Buffer.concat(chunks).subarray(0, limit).toString('utf8'));
}

/** What one HTTP attempt got: a status and the start of the body, or why there was none. */
async function post(outbound: OutboundGuard, url: string, headers: Record<string, string>, body: string): Promise<{ statusCode: number | null; error: string | null; excerpt: string | null }> {
  try {
    // 'manual': a 3xx comes back as a failed attempt with its status stored; it is never followed.
    const response = await outbound.stream(url, { method: 'POST', headers, body, timeoutMs: ATTEMPT_TIMEOUT_MS, redirect: 'manual' });
    const excerpt = await firstBytes(response.body, EXCERPT_BYTES);
    if (response.status >= 200 && response.status < 300) return { statusCode: response.status, error: null, excerpt };
    const redirect = response.status >= 300 && response.status < 400 ? ': a redirect, which is not followed' : '';
    return { statusCode: response.status, error: `HTTP ${response.status}${redirect}`, excerpt };
  } catch (err) {
    // The guard's message names only the host the user gave (never the address it resolved to).
    return { statusCode: null, error: err instanceof OutboundError ? err.message : 'the request failed', excerpt: null };
  }
}

/** What the activities that settle jobs and pipelines call once they have (see withWebhookEvents). */
export interface WebhookEvents {
  /**
   * A job that ended (processed, failed, canceled): its event, and for a processed job one per alert
   * it raised, stored and delivered to the project's subscribed webhooks. Idempotent (event ids are
   * derived from the job, deliveries from event and webhook); a job not ended is a no-op.
   */
  jobEnded(jobId: string): Promise<void>;
  /** The same for a pipeline that ended: `pipeline.finished`. */
  pipelineEnded(pipelineId: string): Promise<void>;
}

/** `secretsKey` opens each webhook's sealed signing secret, only to sign an attempt. */
export function createWebhookActivities(db: Knex, client: Client, outbound: OutboundGuard, settings: WebhookSettings, secretsKey: Buffer): { activities: WebhookActivities; events: WebhookEvents } {
  /** The webhook's signing secret; one sealed under another key fails the delivery at once (no retry opens it). */
  const openSecret = (sealed: string) => {
    try {
      return open(sealed, secretsKey);
    } catch (err) {
      if (err instanceof SecretOpenError) throw ApplicationFailure.nonRetryable(`the webhook's signing secret: ${err.message}`, 'SecretUnreadable');
      throw err;
    }
  };
  /** Stores the events with a delivery per subscribed webhook, then starts those deliveries. */
  async function emit(projectId: string, events: { event: WebhookEvent; type: WebhookEventType }[]): Promise<void> {
    const subscribers = new Map<WebhookEventType, string[]>();
    for (const { type } of events) if (!subscribers.has(type)) subscribers.set(type, await subscribedWebhooks(db, projectId, type));
    const deliveries = events.map(({ event, type }) => ({ event, webhookIds: subscribers.get(type)! })).filter((d) => d.webhookIds.length > 0);
    await startDeliveries(client, settings, await recordEventDeliveries(db, deliveries));
  }

  const events: WebhookEvents = {
    async jobEnded(jobId: string): Promise<void> {
      const job = await endedJob(db, jobId);
      if (!job) return;
      const fields: TemplateValues = {
        'project.slug': job.project, 'job.id': job.id, 'job.status': job.status, 'job.branch': job.branch, 'job.testbed': job.testbed,
        'job.spec': job.spec ?? '', 'job.pipeline': job.pipeline_id ?? '', 'pipeline.id': job.pipeline_id ?? '',
      };
      const jobData = {
        id: job.id, status: job.status, project: job.project, branch: job.branch, testbed: job.testbed, spec: job.spec,
        pipeline: job.pipeline_id, pipeline_key: job.pipeline_key, report: job.report_id, error: job.error, exit_code: job.exit_code,
        created: job.created_at.toISOString(), finished: job.finished_at?.toISOString() ?? null,
      };
      const type = JOB_EVENT[job.status];
      const events: { type: WebhookEventType; event: WebhookEvent }[] = [{ type, event: { id: `job-${job.id}-${job.status}`, projectId: job.project_id, type, data: { job: jobData }, fields } }];
      if (job.status === 'processed' && (await subscribedWebhooks(db, job.project_id, 'alert.raised')).length > 0) {
        for (const alert of await alertsQuery(db, job.project_id, { reportId: job.report_id })) {
          const data = {
            alert: { id: alert.id, benchmark: alert.benchmark, measure: alert.measure, units: alert.units, side: alert.side, limit: alert.limit, value: alert.value, baseline: alert.baseline },
            job: jobData,
          };
          events.push({ type: 'alert.raised', event: { id: `alert-${alert.id}`, projectId: job.project_id, type: 'alert.raised', data, fields } });
        }
      }
      await emit(job.project_id, events);
    },

    async pipelineEnded(pipelineId: string): Promise<void> {
      const pipeline = await endedPipeline(db, pipelineId);
      if (!pipeline) return;
      const data = {
        pipeline: { id: pipeline.id, status: pipeline.status, project: pipeline.project, counts: pipeline.counts, created: pipeline.created_at.toISOString(), finished: pipeline.finished_at?.toISOString() ?? null },
      };
      const fields: TemplateValues = { 'project.slug': pipeline.project, 'pipeline.id': pipeline.id, 'pipeline.status': pipeline.status };
      await emit(pipeline.project_id, [{ type: 'pipeline.finished', event: { id: `pipeline-${pipeline.id}-finished`, projectId: pipeline.project_id, type: 'pipeline.finished', data, fields } }]);
    },
  };

  const activities: WebhookActivities = {
    /**
     * One attempt: the stored event, signed now (a fresh timestamp per attempt, the same body and
     * event id), posted through the outbound guard; stored before this returns or throws for the
     * retry. The last attempt the policy allows gives the delivery up.
     */
    async deliverWebhook(deliveryId: string, maximumAttempts: number): Promise<'delivered' | 'gone'> {
      const { attempt } = Context.current().info;
      const delivery = await deliveryToSend(db, deliveryId);
      if (!delivery) return 'gone';
      // A retry after the attempt that delivered was stored (its completion was lost).
      if (delivery.status === 'delivered') return 'delivered';
      const { event } = delivery;
      const body = JSON.stringify({ id: event.id, type: event.type, created_at: event.created_at.toISOString(), data: event.data });
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = {
        ...interpolateHeaders(delivery.headers, { ...event.fields, 'event.id': event.id, 'event.type': event.type }),
        'content-type': 'application/json',
        'user-agent': 'Benchline-Webhooks/1',
        [EVENT_HEADER]: event.type,
        [DELIVERY_HEADER]: delivery.id,
        [SIGNATURE_HEADER]: signatureHeader(openSecret(delivery.secret), timestamp, body),
      };
      const startedAt = new Date();
      const start = performance.now();
      const result = await post(outbound, delivery.url, headers, body);
      const delivered = result.error === null;
      const last = attempt >= maximumAttempts;
      await recordWebhookAttempt(
        db,
        {
          delivery_id: deliveryId, attempt, started_at: startedAt, duration_ms: Math.round(performance.now() - start),
          status_code: result.statusCode, error: result.error, response_excerpt: result.excerpt, delivered,
        },
        delivered ? 'delivered' : last ? 'gave_up' : 'retrying',
      );
      if (!delivered) throw ApplicationFailure.create({ type: WEBHOOK_ATTEMPT_FAILED, message: `attempt ${attempt}: ${result.error}`, nonRetryable: last });
      return 'delivered';
    },

    giveUpDelivery: (deliveryId: string) => giveUpDelivery(db, deliveryId),
  };
  return { activities, events };
}

/** How many attempts of a settling activity an event that cannot be stored or started holds it back. */
const EVENT_ATTEMPTS = 5;

type Settling = (first: unknown, ...rest: never[]) => Promise<unknown>;

/**
 * Wraps the activities that settle jobs or a pipeline, so that once one has, its webhook events are
 * emitted in the same activity: retried with it (events and deliveries are idempotent), never in
 * workflow code, so job and pipeline histories are unchanged. Each activity named in `settle` maps
 * its first argument to what it settled: a job id (`jobs`), a list of `{jobId}` (`jobLists`: a
 * pipeline's jobs that never started), a pipeline id (`pipelines`). An event that still fails after
 * EVENT_ATTEMPTS attempts is logged and dropped: webhooks must never change how a job ends.
 */
export function withWebhookEvents<T extends Record<string, unknown>>(
  activities: T,
  events: WebhookEvents,
  settle: { jobs: (keyof T)[]; jobLists: (keyof T)[]; pipelines: (keyof T)[] },
): T {
  const wrap = (name: keyof T, emit: (first: never) => Promise<void>) => {
    const settleIt = activities[name] as unknown as Settling;
    return [
      name,
      async (first: never, ...rest: never[]) => {
        const result = await settleIt(first, ...rest);
        try {
          await emit(first);
        } catch (err) {
          const { attempt } = Context.current().info;
          // An unreachable database is waited out like any (withOutageWindow decides when to stop).
          if (attempt < EVENT_ATTEMPTS || isDatabaseUnavailable(err)) throw err;
          log.error('webhook events dropped', { activity: String(name), attempt, error: (err as Error).message });
        }
        return result;
      },
    ];
  };
  const eachJob = async (jobs: { jobId: string }[]) => {
    for (const { jobId } of jobs) await events.jobEnded(jobId);
  };
  return {
    ...activities,
    ...Object.fromEntries([
      ...settle.jobs.map((name) => wrap(name, events.jobEnded)),
      ...settle.jobLists.map((name) => wrap(name, eachJob)),
      ...settle.pipelines.map((name) => wrap(name, events.pipelineEnded)),
    ]),
  };
}
