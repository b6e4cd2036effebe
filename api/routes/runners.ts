import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseImageRef } from '../../common/image-ref';
import { CLAIM_TICKET_HEADER, claimedJob, claimTicketHeaders, errorBody, jobStarted, outputUploadQuery, resourceRef, runnerRegistered, runnerRegistration, runnerRelease } from '../../common/schemas';
import { RUNNER_LEASE_HELD, runnerTaskQueue, SPEC_PAUSED_CODE } from '../../common/contracts';
import { openCredentials } from '../../common/secret-box';
import { hashToken } from '../../common/tokens';
import { claimJob, getJob, holdsClaim, markJobRunning, type ClaimRequest } from '../../db/jobs';
import { putOutput } from '../../db/outputs';
import type { FastifyRequest } from 'fastify';
import type { JobRow, RunnerRow } from '../../db/rows';
import { leaseExpiry, releaseLease, takeLease, type LeaseRow } from '../../db/runner-lease';
import { servedSpecs, servesSpec, updateRunner } from '../../db/runners';
import { getSpec, specPauseOf } from '../../db/specs';
import { isUuid, slugById } from '../../db/refs';
import { conflict, forbidden, HttpError, notFound } from '../errors';

/** Largest single upload: the output cap plus room for framing. */
const MAX_UPLOAD_BYTES = 26 * 1024 * 1024;

const runnerParams = z.object({ runner: resourceRef });
const runnerJobParams = z.object({ runner: resourceRef, job: z.string() });
type JobRequest = Pick<FastifyRequest, 'headers' | 'runner'> & { params: { job: string } };
const responses = { 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

/**
 * The runner-facing half of the API. Every route takes the runner token of the runner named in the
 * path (see auth.ts), and job routes act only for the runner Temporal dispatched the job's current
 * attempt to, proven by that attempt's claim ticket.
 */
const runnerRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_UPLOAD_BYTES }, (_req, body, done) => done(null, body));

  app.post(
    '/v0/runners/:runner/register',
    { preHandler: app.requireRunner, schema: { summary: 'A runner daemon starts', tags: ['runners'], params: runnerParams, body: runnerRegistration, response: { 200: runnerRegistered, ...responses } } },
    async (request) => {
      const runner = request.runner!;
      const { instance, hostname, pid, stopping, build, version, executor, host } = request.body;
      // The lease and what the daemon reports change together: a refused daemon changes nothing.
      const taken = await app.db.transaction(async (trx) => {
        const lease = await takeLease(trx, { runnerId: runner.id, instanceId: instance, host: hostname, pid, stopping }, app.config.runnerLease);
        if (lease.held) await updateRunner(trx, runner.id, { version, executor, host, build });
        return lease;
      });
      if (!taken.held) {
        app.metrics.leaseConflicts.inc({ runner: runner.slug });
        throw leaseHeld(runner, taken.lease);
      }
      if (taken.taken) app.metrics.daemonStarts.inc({ runner: runner.slug });
      const org = runner.organization_id ? await slugById(app.db, 'organization', runner.organization_id) : undefined;
      const specs = await servedSpecs(app.db, runner.id);
      return {
        uuid: runner.id,
        slug: runner.slug,
        specs: specs.map((s) => ({ uuid: s.id, slug: s.slug, task_queue: runnerTaskQueue(s.slug, org) })),
      };
    },
  );

  /** Names the daemon that holds the runner, so the refused one's operator knows where to look. */
  function leaseHeld(runner: RunnerRow, lease: LeaseRow) {
    const expires = leaseExpiry(lease, app.config.runnerLease);
    const holder = { host: lease.host, pid: lease.pid, since: lease.started_at.toISOString(), stopping: lease.stopping_at?.toISOString() ?? null, expires: expires.toISOString() };
    return new HttpError(
      409,
      RUNNER_LEASE_HELD,
      `runner ${runner.slug} already has an active daemon: host ${holder.host}, pid ${holder.pid}, since ${holder.since}${holder.stopping ? ` (stopping since ${holder.stopping})` : ''}; ` +
        `its lease expires at ${holder.expires} unless renewed`,
      { holder },
    );
  }

  app.post(
    '/v0/runners/:runner/release',
    {
      preHandler: app.requireRunner,
      schema: { summary: "A daemon exiting cleanly gives back the runner's lease (a no-op unless it holds it)", tags: ['runners'], params: runnerParams, body: runnerRelease, response: { 204: z.null(), ...responses } },
    },
    async (request, reply) => {
      await releaseLease(app.db, request.runner!.id, request.body.instance);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v0/runners/:runner/jobs/:job/claim',
    {
      preHandler: app.requireRunner,
      schema: {
        summary: 'Claim a job with the ticket of the runJob attempt Temporal dispatched to this runner (single use; repeating it returns the same claim)',
        tags: ['runners'],
        params: runnerJobParams,
        headers: claimTicketHeaders,
        response: { 200: claimedJob, ...responses },
      },
    },
    async (request) => {
      const claim = claimOf(request);
      let job = claim ? await claimJob(app.db, claim) : undefined;
      if (!job) {
        const refusal = await claimRefusal(request.runner!, request.params.job, claim);
        // Nothing refuses it now: its spec was resumed between the claim and these reads. Once more.
        if (!refusal) job = await claimJob(app.db, claim!);
        if (!job) throw refusal ?? conflict(`job ${request.params.job} cannot be claimed yet`);
      }
      const spec = await getSpec(app.db, job.spec_id!);
      const image = parseImageRef(job.config.image);
      return {
        uuid: job.id,
        attempt: job.attempt,
        image: { registry: image.registry, repository: image.repository, digest: job.image_digest! },
        entrypoint: job.config.entrypoint,
        cmd: job.config.cmd,
        env: job.config.env ?? {},
        file_paths: job.config.file_paths ?? [],
        timeout_seconds: job.timeout_seconds,
        spec: { slug: spec!.slug, cpus: spec!.cpus, memory_mib: spec!.memory_mib },
        // Opened for the claiming runner only (it pulls with them); stored sealed, never shown in views.
        image_credentials: openCredentials(job.config.image_credentials, app.config.secretsKey),
      };
    },
  );

  /** The runner, job and ticket a job route acts for; undefined when no ticket was presented. */
  function claimOf(request: JobRequest): ClaimRequest | undefined {
    const ticket = request.headers[CLAIM_TICKET_HEADER];
    if (typeof ticket !== 'string' || !ticket || !isUuid(request.params.job)) return undefined;
    return { jobId: request.params.job, runnerId: request.runner!.id, ticketHash: hashToken(ticket) };
  }

  /**
   * Says why a claim failed, in the most specific words the state allows; undefined when nothing
   * refuses it any more (a pending job, its ticket valid and its spec no longer paused).
   */
  async function claimRefusal(runner: RunnerRow, jobId: string, claim: ClaimRequest | undefined) {
    const job = isUuid(jobId) ? await getJob(app.db, jobId) : undefined;
    if (!job) return notFound(`job "${jobId}"`);
    if (!claim || job.claim_ticket_hash !== claim.ticketHash) {
      return forbidden(`runner ${runner.slug} was not dispatched job ${jobId}: no valid claim ticket in ${CLAIM_TICKET_HEADER}`);
    }
    if (job.attempt === job.claim_ticket_attempt && job.runner_id !== runner.id) return forbidden(`job ${jobId}'s claim ticket was already used by another runner`);
    if (!job.image_digest || !job.spec_id) return conflict(`job ${jobId} is not ready to run yet`);
    if (!(await servesSpec(app.db, runner.id, job.spec_id))) return forbidden(`runner ${runner.slug} does not serve this job's spec`);
    const paused = job.status === 'pending' ? await specPauseOf(app.db, job.id) : null;
    if (paused !== null) return new HttpError(409, SPEC_PAUSED_CODE, `job ${jobId}'s spec is paused (${paused}); it waits until the spec is resumed`);
    if (job.status === 'pending' && claim) return undefined;
    return conflict(`job ${jobId} is ${job.status}; it cannot be claimed`);
  }

  /** The job whose current attempt's claim this runner holds (ticket included), or why it may not act on it. */
  async function heldJob(request: JobRequest): Promise<{ job: JobRow; claim: ClaimRequest }> {
    const jobId = request.params.job;
    const job = isUuid(jobId) ? await getJob(app.db, jobId) : undefined;
    if (!job) throw notFound(`job "${jobId}"`);
    const claim = claimOf(request);
    if (!claim || !holdsClaim(job, claim.runnerId, claim.ticketHash)) throw forbidden(`runner ${request.runner!.slug} holds no claim on job ${jobId} for its current attempt`);
    return { job, claim };
  }

  app.post(
    '/v0/runners/:runner/jobs/:job/running',
    {
      preHandler: app.requireRunner,
      schema: { summary: 'The benchmark is starting (repeating it changes nothing)', tags: ['runners'], params: runnerJobParams, headers: claimTicketHeaders, body: jobStarted, response: { 204: z.null(), ...responses } },
    },
    async (request, reply) => {
      const { job, claim } = await heldJob(request);
      const moved = await markJobRunning(app.db, claim, {
        started_at: new Date(),
        execution: { executor: request.body.executor, ...request.body.execution },
      });
      if (!moved) throw conflict(`job ${job.id} is ${(await getJob(app.db, job.id))?.status}; it cannot start`);
      // Once per job, when its command first starts: a retry's wait would include the earlier attempt's run.
      if (moved === 'started' && job.started_at === null) {
        const runnable = Math.max(job.created_at.getTime(), job.start_after?.getTime() ?? 0);
        const spec = (job.spec_id && (await slugById(app.db, 'spec', job.spec_id))) || '';
        app.metrics.dispatchLatency.observe({ spec }, Math.max(0, Date.now() - runnable) / 1000);
      }
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/v0/runners/:runner/jobs/:job/outputs',
    {
      preHandler: app.requireRunner,
      schema: {
        summary: "Upload one of a job's outputs (stdout, stderr or a file), as application/octet-stream",
        tags: ['runners'],
        params: runnerJobParams,
        querystring: outputUploadQuery,
        headers: claimTicketHeaders,
        response: { 204: z.null(), ...responses },
      },
    },
    async (request, reply) => {
      const { job } = await heldJob(request);
      if (job.status !== 'claimed' && job.status !== 'running') throw conflict(`job ${job.id} is ${job.status}; outputs can no longer change`);
      const content = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      await putOutput(app.db, job.id, request.query.kind, request.query.kind === 'file' ? request.query.path : '', content);
      return reply.status(204).send(null);
    },
  );
};

export default runnerRoutes;
