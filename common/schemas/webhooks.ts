import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../contracts/webhooks';
import { MAX_TEMPLATE_HEADERS, TEMPLATE_FIELDS } from '../webhook-headers';
import { timestamp } from './fields';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export const newWebhook = z.strictObject({
  url: z
    .string()
    .min(1)
    .max(MAX_WEBHOOK_URL_LENGTH)
    .describe('http(s) URL the events are POSTed to; its host must resolve to public addresses (private ones only on a development server)'),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .max(WEBHOOK_EVENTS.length)
    .refine((e) => new Set(e).size === e.length, 'each event at most once')
    .describe('the events delivered'),
  headers: z
    .record(z.string().max(128), z.string().max(1024))
    .optional()
    .describe(
      `up to ${MAX_TEMPLATE_HEADERS} extra request headers; values may hold {{field}} placeholders, one of ${TEMPLATE_FIELDS.join(', ')} (empty when the event has no such field)`,
    ),
});
export type NewWebhook = z.infer<typeof newWebhook>;

export const webhookView = z.object({
  uuid: z.uuid(),
  project: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)),
  headers: z.record(z.string(), z.string()),
  created: timestamp,
});
export type WebhookView = z.infer<typeof webhookView>;

export const createdWebhook = webhookView.extend({
  secret: z.string().describe('the HMAC-SHA256 key deliveries are signed with (Benchline-Signature); shown only in this response'),
});

export const webhookAttemptView = z.object({
  attempt: z.number().int(),
  started: timestamp,
  duration_ms: z.number().int(),
  status_code: z.number().int().nullable().describe('the HTTP status the receiver answered; null when there was no answer'),
  error: z.string().nullable().describe('why the attempt did not deliver; null when it did'),
  response: z.string().nullable().describe("the first 1024 bytes of the receiver's response body"),
  delivered: z.boolean(),
});

export const webhookDeliveryView = z.object({
  uuid: z.uuid(),
  webhook: z.uuid(),
  event: z.object({ id: z.string().describe('the payload id receivers deduplicate on'), type: z.enum(WEBHOOK_EVENTS) }),
  redelivery_of: z.uuid().nullable(),
  status: z.enum(['pending', 'retrying', 'delivered', 'gave_up']),
  created: timestamp,
  finished: timestamp.nullable(),
  attempts: z.array(webhookAttemptView),
});
export type WebhookDeliveryView = z.infer<typeof webhookDeliveryView>;
