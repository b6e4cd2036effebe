import { z } from 'zod';
import { JOB_STATUSES } from '../contracts';
import { ACCELERATORS, RUNNER_STATES } from '../contracts/runner-fleet';
import { buildInfoBody } from './build';
import { name, resourceRef, slug, timestamp } from './fields';
import { booleanFilter, paginationQuery } from './pagination';

const specRefs = z.array(resourceRef).max(64).describe('slugs or UUIDs of the specs the runner serves');

export const newRunner = z.strictObject({
  name,
  slug: slug.optional(),
  specs: specRefs.default([]),
  organization: resourceRef.optional().describe("a dedicated runner: it takes only this organization's jobs"),
});

export const runnerUpdate = z.strictObject({
  name: name.optional(),
  locked: z.boolean().optional().describe('a locked runner takes no new work'),
  archived: z.boolean().optional().describe('an archived runner is refused on every call'),
});

export const runnerSpecsUpdate = z.strictObject({ specs: specRefs });

export const runnerView = z.object({
  uuid: z.uuid(),
  slug: z.string(),
  name: z.string(),
  organization: z.string().nullable(),
  specs: z.array(z.string()),
  locked: timestamp.nullable(),
  archived: timestamp.nullable(),
  last_seen: timestamp.nullable(),
  version: z.string().nullable(),
  executor: z.string().nullable(),
  host: z.record(z.string(), z.unknown()).nullable(),
  current_job: z.object({ uuid: z.uuid(), project: z.string(), status: z.enum(JOB_STATUSES) }).nullable().describe('the job it holds (claimed or running)'),
  created: timestamp,
  state: z.enum(RUNNER_STATES).describe('locked (by an admin), offline (no daemon holds its lease), busy (holds a job) or idle'),
  build: buildInfoBody.nullable().describe("what its daemon last reported of its build"),
  drift: z.object({ reason: z.string() }).nullable().describe("set when a live runner runs another build than the api, or its spec's live runners run several"),
  daemon: z
    .object({ host: z.string(), pid: z.number(), since: timestamp, stopping: timestamp.nullable(), live: z.boolean() })
    .nullable()
    .describe("the daemon holding (or that last held) the runner's lease; live false once it expired"),
  accelerator: z.enum(ACCELERATORS).nullable().describe('how its jobs run: firecracker, kvm (QEMU), emulation (QEMU TCG) or none (sandbox)'),
  tuning_warnings: z.array(z.string()).describe('host settings that make results noisier (SMT or turbo on, governor not performance)'),
});
export type RunnerView = z.infer<typeof runnerView>;

/** The only responses that carry a runner token's plaintext. */
export const createdRunner = runnerView.extend({ token: z.string().describe('shown once: benchline_runner_<64 hex>') });
export const rotatedRunnerToken = z.object({ token: z.string().describe('shown once; the previous token no longer works') });

export const runnerListQuery = paginationQuery.extend({ archived: booleanFilter, locked: booleanFilter });
