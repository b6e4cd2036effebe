import { z } from 'zod';

/**
 * Field rules shared by every resource's schemas. A leaf module (no imports from ./index), so
 * ./index and the per-resource schema files can all import it without a cycle.
 */
export const slug = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" and "-"');
/** A UUID or a slug. */
export const resourceRef = z.string().min(1).max(64);
/** Every created resource takes a display name; its slug is derived from the name when not given. */
export const name = z.string().trim().min(1).max(255);
export const timestamp = z.string().describe('ISO 8601 date-time');
/** The largest value a Postgres `integer` column holds: larger numbers are a 400, not a database error. */
export const INT4_MAX = 2 ** 31 - 1;

/** The most labels a job (or pairs a concurrency rule's match) may have. */
export const MAX_LABELS = 16;
const labelKey = z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'letters, digits, ".", "_", "/" and "-"');
const labelValue = z.string().min(1).max(128).regex(/^[^\u0000]*$/, 'no NUL characters');
/** A job's labels, `{suite: "db"}`: what concurrency rules match. */
export const labels = z.record(labelKey, labelValue).refine((l) => Object.keys(l).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`);
