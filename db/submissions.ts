import type { Knex } from 'knex';
import type { NewRun } from '../common/schemas';
import type { AdmittedTo } from '../common/contracts';
import { effectiveTimeoutSeconds, jobGates, type TierPolicy } from '../common/tiers';
import { projectRules } from './concurrency-rules';
import { holdJobUntilCommit } from './jobs';
import { takePermits } from './permits';
import { createUnclaimedProject } from './projects';
import { createReports, reportRequestFrom } from './reports';
import type { JobRow, ProjectRow, SpecRow } from './rows';

export interface Submission {
  /** The project, or `'new'`: an anonymous submission's project, created in a new unclaimed organization. */
  project: ProjectRow | 'new';
  /** A single run's body, or a pipeline job's (the same fields). */
  body: NewRun;
  /** The spec resolved and checked for the job (explicit, the testbed's or the default). */
  spec: Pick<SpecRow, 'id'>;
  policy: TierPolicy;
  sourceIp: string;
  submittedBy: string | null;
  /** Where the tier's gates are scoped (the control task queue: see concurrencyGate). */
  gateScope: string;
  /** The image's digest, resolved at submission, and attempt 1's claim ticket (SHA-256): the job is ready to dispatch. */
  pinned?: { imageDigest: string; claimTicketHash: string };
  /** A delayed start still in the future: the job is written `scheduled` (common/start-after.ts). */
  startAfter?: Date;
}

/** Another submission with the same idempotency key was written first: return that one. */
export class DuplicateSubmission extends Error {
  /** The project both wrote to (for an anonymous submission to a new name, the one the other created). */
  constructor(readonly projectId: string) {
    super('another submission with this idempotency key was written first');
  }
}

/** Project of a claimed organization, found only inside the transaction (a concurrent claim). */
export class ProjectClaimed extends Error {}

export async function jobByIdempotencyKey(db: Knex, projectId: string, key: string | undefined): Promise<JobRow | undefined> {
  return key ? db<JobRow>('job').where({ project_id: projectId, idempotency_key: key }).first() : undefined;
}

/**
 * Writes a checked submission in one transaction: the unclaimed organization and project (for an
 * anonymous submission to a new slug), the testbed's current spec (when the body named one), the
 * report, the pending job and, for a job with concurrency limits (its tier's, its project's rules
 * its labels match), its permits or its place in the gates' queues (`admission`). `beforeCommit` runs last, inside the transaction: the api starts the
 * job's workflow there, so a failed start rolls everything back and a committed job always has its
 * workflow (whose first activity waits for the commit: holdJobUntilCommit).
 */
export async function writeSubmission(
  db: Knex,
  s: Submission,
  beforeCommit: (job: JobRow, admission: AdmittedTo | undefined) => Promise<void>,
): Promise<{ job: JobRow; claim?: { organization: string; claim_token: string } }> {
  return db.transaction(async (trx) => {
    const created = s.project === 'new' ? await createUnclaimedProject(trx, s.body.project) : undefined;
    if (s.project === 'new' && !created) throw new ProjectClaimed();
    const project = created?.project ?? (s.project as ProjectRow);
    // Against a concurrent submission with the same key, the unique index decides: this insert waits
    // for the other transaction and writes nothing if it committed.
    const pinned = s.pinned && { image_digest: s.pinned.imageDigest, claim_ticket_hash: s.pinned.claimTicketHash, claim_ticket_attempt: 1 };
    const [job] = await insertJobs(trx, project, [{ s, extra: { idempotency_key: s.body.idempotency_key ?? null, ...pinned } }]);
    if (!job) throw new DuplicateSubmission(project.id);
    await holdJobUntilCommit(trx, job.id);
    // Only labelled jobs can match a rule: an unlabelled submission reads none.
    const gates = jobGates(job, s.gateScope, Object.keys(job.labels).length ? await projectRules(trx, project.id) : []);
    // A delayed job queues at its gates only once its timer fires: waiting, it must not hold a permit
    // nor a place ahead of the jobs that run now.
    await beforeCommit(job, gates.length ? { gates, admitted: !s.startAfter && (await takePermits(trx, job.id, gates)) } : undefined);
    return { job, claim: created?.claim };
  });
}

/**
 * Writes checked jobs inside a submission's transaction (a single run's one, or a pipeline's), in
 * their order: each job's report, the testbed's current spec when the body named one, and the
 * job row (`pending`, or `scheduled` for a delayed start) with its `extra` columns (its idempotency
 * key, or its pipeline). A job the
 * idempotency key's unique index refused is undefined.
 */
export async function insertJobs(trx: Knex.Transaction, project: ProjectRow, jobs: { s: Omit<Submission, 'project' | 'gateScope'>; extra: Partial<JobRow> }[]): Promise<(JobRow | undefined)[]> {
  const reports = await createReports(trx, jobs.map(({ s }) => reportRequestFrom(project.id, s.body)));
  // An explicit spec becomes the testbed's current one: later runs without a spec follow it (the last job's, when several name one).
  const currentSpecs = new Map(jobs.flatMap(({ s }, i) => (s.body.job.spec !== undefined ? [[reports[i].testbed.id, s.spec.id] as const] : [])));
  for (const [testbedId, specId] of currentSpecs) await trx('testbed').where({ id: testbedId }).update({ spec_id: specId });
  const rows = await trx<JobRow>('job')
    .insert(
      jobs.map(({ s, extra }, i) => {
        const { spec: _spec, timeout, ...config } = s.body.job;
        // Files measured for their size are collected like any output file (but not parsed).
        if (s.body.file_size?.length) config.file_paths = [...new Set([...(config.file_paths ?? []), ...s.body.file_size])];
        return {
          report_id: reports[i].report.id,
          project_id: project.id,
          organization_id: project.organization_id,
          spec_id: s.spec.id,
          requested_spec_id: s.body.job.spec === undefined ? null : s.spec.id,
          status: s.startAfter ? ('scheduled' as const) : ('pending' as const),
          start_after: s.startAfter ?? null,
          tier: s.policy.tier,
          priority: s.policy.priorityKey,
          timeout_seconds: effectiveTimeoutSeconds(s.policy, timeout),
          config,
          labels: s.body.labels ?? {},
          source_ip: s.sourceIp,
          submitted_by: s.submittedBy,
          ...extra,
        };
      }),
    )
    .onConflict(['project_id', 'idempotency_key'])
    .ignore()
    .returning('*');
  const byReport = new Map(rows.map((row) => [row.report_id, row]));
  return reports.map((r) => byReport.get(r.report.id));
}
