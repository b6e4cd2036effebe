import type { Knex } from 'knex';
import type { WebhookEventType } from '../common/contracts';
import type { TemplateValues } from '../common/webhook-headers';

/** A webhook as views show it: never its secret (that is only read to sign, by deliveryToSend). */
export interface WebhookRow {
  id: string; project_id: string; url: string; events: WebhookEventType[]; headers: Record<string, string>;
  created_by: string | null; created_at: Date;
}
export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'gave_up';
export interface WebhookDeliveryRow {
  id: string; webhook_id: string; event_id: string; event_type: WebhookEventType; redelivery_of: string | null;
  status: DeliveryStatus; created_at: Date; finished_at: Date | null;
}
export interface WebhookAttemptRow {
  delivery_id: string; attempt: number; started_at: Date; duration_ms: number; status_code: number | null;
  error: string | null; response_excerpt: string | null; delivered: boolean;
}
/** Something that happened, as it is stored once and sent (unchanged) in every delivery and retry. */
export interface WebhookEvent {
  id: string; projectId: string; type: WebhookEventType; data: Record<string, unknown>; fields: TemplateValues;
}

const WEBHOOK_COLUMNS = ['id', 'project_id', 'url', 'events', 'headers', 'created_by', 'created_at'];

export async function insertWebhook(
  db: Knex,
  webhook: { projectId: string; url: string; events: string[]; headers: Record<string, string>; secret: string; createdBy: string | null },
): Promise<WebhookRow> {
  const [row] = await db('webhook')
    .insert({ project_id: webhook.projectId, url: webhook.url, events: webhook.events, headers: webhook.headers, secret: webhook.secret, created_by: webhook.createdBy })
    .returning(WEBHOOK_COLUMNS);
  return row;
}

export function projectWebhooksQuery(db: Knex, projectId: string): Knex.QueryBuilder {
  return db('webhook').where({ project_id: projectId }).select(WEBHOOK_COLUMNS);
}

export function findWebhook(db: Knex, projectId: string, id: string): Promise<WebhookRow | undefined> {
  return db('webhook').where({ project_id: projectId, id }).first(WEBHOOK_COLUMNS);
}

/** Deletes the webhook with its deliveries and attempts (a delivery still retrying finds it gone and stops). */
export async function deleteWebhook(db: Knex, projectId: string, id: string): Promise<boolean> {
  return (await db('webhook').where({ project_id: projectId, id }).delete()) > 0;
}

export function deliveriesQuery(db: Knex, webhookId: string): Knex.QueryBuilder {
  return db('webhook_delivery as d')
    .join('webhook_event as e', 'e.id', 'd.event_id')
    .where('d.webhook_id', webhookId)
    .select('d.id', 'd.webhook_id', 'd.event_id', 'e.type as event_type', 'd.redelivery_of', 'd.status', 'd.created_at', 'd.finished_at');
}

export function findDelivery(db: Knex, webhookId: string, id: string): Promise<WebhookDeliveryRow | undefined> {
  return deliveriesQuery(db, webhookId).where('d.id', id).first();
}

/** Every attempt of these deliveries, in order. */
export function attemptsOf(db: Knex, deliveryIds: string[]): Promise<WebhookAttemptRow[]> {
  return db<WebhookAttemptRow>('webhook_attempt').whereIn('delivery_id', deliveryIds).orderBy(['delivery_id', 'attempt']);
}

/** A new delivery of the same event (same event id, so receivers can still deduplicate) to the same webhook. */
export async function insertRedelivery(db: Knex, of: WebhookDeliveryRow): Promise<WebhookDeliveryRow> {
  const [row] = await db('webhook_delivery').insert({ webhook_id: of.webhook_id, event_id: of.event_id, redelivery_of: of.id }).returning('*');
  return { ...row, event_type: of.event_type };
}

/** The project's webhooks subscribed to `type`. */
export async function subscribedWebhooks(db: Knex, projectId: string, type: WebhookEventType): Promise<string[]> {
  const rows = await db('webhook').where({ project_id: projectId }).whereRaw('? = ANY(events)', [type]).select('id');
  return rows.map((r) => r.id);
}

/**
 * Stores the events (the first write of an event id stands: its `created_at` and data are what every
 * retry sends) and one first delivery of each to each of `webhookIds`, in one transaction; returns
 * every such delivery's id, new or found again (a retried activity starts the same ones).
 */
export async function recordEventDeliveries(db: Knex, deliveries: { event: WebhookEvent; webhookIds: string[] }[]): Promise<string[]> {
  if (deliveries.length === 0) return [];
  return db.transaction(async (trx) => {
    const ids: string[] = [];
    for (const { event, webhookIds } of deliveries) {
      await trx('webhook_event')
        .insert({ id: event.id, project_id: event.projectId, type: event.type, data: event.data, fields: event.fields })
        .onConflict('id')
        .ignore();
      const rows = webhookIds.map((webhookId) => ({ webhook_id: webhookId, event_id: event.id }));
      await trx.raw(`${trx('webhook_delivery').insert(rows).toQuery()} ON CONFLICT (webhook_id, event_id) WHERE redelivery_of IS NULL DO NOTHING`);
      const found = await trx('webhook_delivery').where({ event_id: event.id }).whereNull('redelivery_of').whereIn('webhook_id', webhookIds).select('id');
      ids.push(...found.map((r) => r.id));
    }
    return ids;
  });
}

/** What one attempt of a delivery sends, and where; undefined when the webhook was deleted. */
export interface DeliveryToSend {
  id: string; status: DeliveryStatus; url: string; headers: Record<string, string>; secret: string;
  event: { id: string; type: WebhookEventType; data: Record<string, unknown>; fields: TemplateValues; created_at: Date };
}

export async function deliveryToSend(db: Knex, deliveryId: string): Promise<DeliveryToSend | undefined> {
  const row = await db('webhook_delivery as d')
    .join('webhook as w', 'w.id', 'd.webhook_id')
    .join('webhook_event as e', 'e.id', 'd.event_id')
    .where('d.id', deliveryId)
    .first('d.id', 'd.status', 'w.url', 'w.headers', 'w.secret', 'e.id as event_id', 'e.type', 'e.data', 'e.fields', 'e.created_at');
  if (!row) return undefined;
  return {
    id: row.id, status: row.status, url: row.url, headers: row.headers, secret: row.secret,
    event: { id: row.event_id, type: row.type, data: row.data, fields: row.fields, created_at: row.created_at },
  };
}

/**
 * Stores one attempt and moves the delivery on, in one transaction. The attempt's first write
 * stands (a retried activity whose first try committed writes nothing new); a delivery already
 * delivered stays so.
 */
export async function recordWebhookAttempt(db: Knex, attempt: WebhookAttemptRow, status: Exclude<DeliveryStatus, 'pending'>): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('webhook_attempt').insert(attempt).onConflict(['delivery_id', 'attempt']).ignore();
    await trx('webhook_delivery')
      .where({ id: attempt.delivery_id })
      .whereNot({ status: 'delivered' })
      .update({ status, finished_at: status === 'retrying' ? null : trx.fn.now() });
  });
}

/**
 * Gives a delivery up once its workflow has run out of attempts, whatever the last one failed of (its
 * own write may not have happened: the database, a timeout). A delivered one stays so.
 */
export async function giveUpDelivery(db: Knex, deliveryId: string): Promise<void> {
  await db('webhook_delivery').where({ id: deliveryId }).whereNotIn('status', ['delivered', 'gave_up']).update({ status: 'gave_up', finished_at: db.fn.now() });
}

/** A redelivery whose workflow could not be started: nothing will ever attempt it. */
export async function dropDelivery(db: Knex, deliveryId: string): Promise<void> {
  await db('webhook_delivery').where({ id: deliveryId, status: 'pending' }).delete();
}

/** Counts for benchline_webhook_deliveries_total: attempts that delivered or failed, and deliveries given up. */
export async function webhookOutcomeCounts(db: Knex): Promise<{ delivered: number; failed_attempt: number; gave_up: number }> {
  const [attempts, gaveUp] = await Promise.all([
    db('webhook_attempt').select(db.raw('count(*) FILTER (WHERE delivered) AS delivered'), db.raw('count(*) FILTER (WHERE NOT delivered) AS failed')).first(),
    db('webhook_delivery').where({ status: 'gave_up' }).count<{ count: string }[]>({ count: '*' }),
  ]);
  return { delivered: Number(attempts.delivered), failed_attempt: Number(attempts.failed), gave_up: Number(gaveUp[0].count) };
}

/**
 * Webhooks attempted in the last hour, each with whether its newest attempt failed: an endpoint
 * that keeps failing stays 1 across its retries, and drops to 0 once one attempt gets through.
 */
export async function webhookEndpointsFailing(db: Knex): Promise<{ webhook_id: string; failing: boolean }[]> {
  const { rows } = await db.raw(
    `SELECT DISTINCT ON (d.webhook_id) d.webhook_id, NOT a.delivered AS failing
       FROM webhook_attempt a
       JOIN webhook_delivery d ON d.id = a.delivery_id
      WHERE a.started_at > now() - interval '1 hour'
      ORDER BY d.webhook_id, a.started_at DESC`,
  );
  return rows;
}

/** A job that ended, with what its events carry. */
export interface EndedJobRow {
  id: string; status: 'processed' | 'failed' | 'canceled'; project_id: string; project: string; branch: string; testbed: string; spec: string | null;
  pipeline_id: string | null; pipeline_key: string | null; report_id: string; error: string | null; exit_code: number | null; created_at: Date; finished_at: Date | null;
}

/** The job with its project's, branch's, testbed's and spec's slugs; undefined unless it is processed, failed or canceled. */
export async function endedJob(db: Knex, jobId: string): Promise<EndedJobRow | undefined> {
  const { rows } = await db.raw(
    `SELECT job.id, job.status, job.project_id, project.slug AS project, branch.slug AS branch, testbed.slug AS testbed, spec.slug AS spec,
            job.pipeline_id, job.pipeline_key, job.report_id, job.error, job.exit_code, job.created_at, job.finished_at
       FROM job
       JOIN project ON project.id = job.project_id
       JOIN report ON report.id = job.report_id
       JOIN branch ON branch.id = report.branch_id
       JOIN testbed ON testbed.id = report.testbed_id
       LEFT JOIN spec ON spec.id = job.spec_id
      WHERE job.id = ? AND job.status IN ('processed', 'failed', 'canceled')`,
    [jobId],
  );
  return rows[0];
}

/** A pipeline that ended, with its project's slug; undefined while it runs. */
export async function endedPipeline(db: Knex, pipelineId: string) {
  return db('pipeline')
    .join('project', 'project.id', 'pipeline.project_id')
    .where('pipeline.id', pipelineId)
    .whereNot('pipeline.status', 'running')
    .first<{ id: string; status: string; counts: Record<string, number> | null; project_id: string; project: string; created_at: Date; finished_at: Date | null } | undefined>(
      'pipeline.id', 'pipeline.status', 'pipeline.counts', 'pipeline.project_id', 'project.slug as project', 'pipeline.created_at', 'pipeline.finished_at',
    );
}
