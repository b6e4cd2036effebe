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
