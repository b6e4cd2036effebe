import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What a webhook request carries beyond its body: the header templates a webhook's creator wrote,
 * interpolated per event, and the signature. Shared by the api (templates are checked at creation)
 * and the orchestrator (interpolated and signed at each attempt).
 */

/**
 * The values `{{…}}` may name. A small fixed set, so a template can neither read arbitrary job data
 * nor run code; a field an event lacks (job.* on pipeline.finished) interpolates as "".
 */
export const TEMPLATE_FIELDS = [
  'event.id',
  'event.type',
  'project.slug',
  'job.id',
  'job.status',
  'job.branch',
  'job.testbed',
  'job.spec',
  'job.pipeline',
  'pipeline.id',
  'pipeline.status',
] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];
export type TemplateValues = Partial<Record<TemplateField, string>>;

export const MAX_TEMPLATE_HEADERS = 16;
export const MAX_HEADER_VALUE_LENGTH = 1024;
/** An RFC 9110 field name (a token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
/** Visible ASCII and spaces only: no CR/LF (header injection), no other control characters. */
const HEADER_VALUE = /^[\x20-\x7e]*$/;
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
/**
 * Set by the delivery itself: a template may not replace the signature, the event's identity, or
 * what the HTTP client manages (length, framing, host).
 */
const RESERVED = /^(benchline-.*|content-type|content-length|content-encoding|transfer-encoding|host|connection|keep-alive|upgrade|te|trailer|expect|proxy-.*)$/i;

/** Why the header templates are refused (a field name and a reason for a 400), or undefined when they are fine. */
export function headerTemplatesProblem(headers: Record<string, string>): { field: string; reason: string } | undefined {
  const names = Object.keys(headers);
  if (names.length > MAX_TEMPLATE_HEADERS) return { field: 'headers', reason: `at most ${MAX_TEMPLATE_HEADERS} headers` };
  const seen = new Set<string>();
  for (const name of names) {
    const field = `headers.${name}`;
    if (!HEADER_NAME.test(name)) return { field, reason: 'a header name is 1–128 letters, digits and !#$%&\'*+.^_`|~-' };
    if (RESERVED.test(name)) return { field, reason: `${name} is set by the delivery itself` };
    if (seen.has(name.toLowerCase())) return { field, reason: 'given twice (header names are case-insensitive)' };
    seen.add(name.toLowerCase());
    const value = headers[name];
    if (value.length > MAX_HEADER_VALUE_LENGTH) return { field, reason: `at most ${MAX_HEADER_VALUE_LENGTH} characters` };
    if (!HEADER_VALUE.test(value)) return { field, reason: 'printable ASCII only (no control characters or line breaks)' };
    for (const [, placeholder] of value.matchAll(PLACEHOLDER)) {
      if (!(TEMPLATE_FIELDS as readonly string[]).includes(placeholder)) {
        return { field, reason: `unknown placeholder {{${placeholder}}}; known: ${TEMPLATE_FIELDS.join(', ')}` };
      }
    }
  }
  return undefined;
}

/**
 * The headers with their placeholders filled in. Values come from slugs and ids, but are cleaned
 * anyway: whatever a value holds, the header stays one printable line.
 */
export function interpolateHeaders(headers: Record<string, string>, values: TemplateValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(headers)) {
    const filled = template.replace(PLACEHOLDER, (_match, field: string) => values[field as TemplateField] ?? '');
    out[name] = filled.replace(/[^\x20-\x7e]/g, '').slice(0, MAX_HEADER_VALUE_LENGTH * 2);
  }
  return out;
}

export const SIGNATURE_HEADER = 'Benchline-Signature';
export const EVENT_HEADER = 'Benchline-Event';
export const DELIVERY_HEADER = 'Benchline-Delivery';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs. */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does (README "Webhooks"): recompute the HMAC over the raw body, compare in constant
 * time, and refuse a timestamp older than `toleranceSeconds` (a replayed request).
 */
export function verifySignature(secret: string, header: string, body: string, nowSeconds = Date.now() / 1000, toleranceSeconds = 300): boolean {
  const parts = new Map(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isFinite(timestamp) || !given || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signatureHeader(secret, timestamp, body).split('v1=')[1], 'hex');
  const actual = Buffer.from(given, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
