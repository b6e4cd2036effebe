import { z } from 'zod';
import { INT4_MAX, name, slug, timestamp } from './fields';
import { booleanFilter, paginationQuery } from './pagination';

const hardware = {
  architecture: z.string().regex(/^[a-z0-9_]{1,32}$/, 'e.g. x86_64 or aarch64'),
  cpus: z.number().int().min(1).max(4096),
  // Postgres integer columns.
  memory_mib: z.number().int().min(1).max(INT4_MAX),
  disk_mib: z.number().int().min(1).max(INT4_MAX),
  network: z.boolean().describe('whether the benchmark may reach the network'),
};

export const newSpec = z.strictObject({
  name,
  slug: slug.optional(),
  ...hardware,
  architecture: hardware.architecture.default('x86_64'),
  network: hardware.network.default(false),
  default: z.boolean().default(false).describe('make this the server default (moves it from the current default)'),
});

// No slug change: runner task queues are named after it (common/task-queues.ts).
export const specUpdate = z.strictObject({
  name: name.optional(),
  ...z.object(hardware).partial().shape,
  // There is always exactly one default once set: it moves by making another spec the default.
  default: z.literal(true).optional().describe('make this the server default; to unset, make another spec the default'),
  archived: z.boolean().optional(),
});

export const specView = z.object({
  uuid: z.uuid(),
  slug: z.string(),
  name: z.string(),
  ...hardware,
  default: z.boolean(),
  archived: timestamp.nullable(),
  paused: timestamp.nullable().describe('since when dispatch is paused (its pending jobs wait, holding no runner); null when it is not'),
  pause_reason: z.string().nullable(),
  created: timestamp,
});
export type SpecView = z.infer<typeof specView>;

export const specPause = z.strictObject({
  reason: z.string().trim().min(1).max(500).optional().describe('shown on the waiting jobs: `spec paused: <reason>`'),
});

export const specListQuery = paginationQuery.extend({ archived: booleanFilter });
