import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseImageRef } from '../../common/image-ref';
import { claimedJob, errorBody, jobClaim, jobStarted, outputUploadQuery, resourceRef, runnerRegistered, runnerRegistration } from '../../common/schemas';
import { runnerTaskQueue } from '../../common/contracts';
import { claimJob, getJob, transitionJob } from '../../db/jobs';
import { putOutput } from '../../db/outputs';
import type { JobRow, RunnerRow, SpecRow } from '../../db/rows';
import { isUuid } from '../../db/refs';
import { conflict, forbidden, notFound } from '../errors';

/** Largest single upload: the output cap plus room for framing. */
const MAX_UPLOAD_BYTES = 26 * 1024 * 1024;

const runnerParams = z.object({ runner: resourceRef });
const runnerJobParams = z.object({ runner: resourceRef, job: z.string() });
const responses = { 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

/**
 * The runner-facing half of the API. Every route takes the runner token of the runner named in the
 * path (see auth.ts), and job routes only act on a job that runner holds.
 */
const runnerRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_UPLOAD_BYTES }, (_req, body, done) => done(null, body));

  app.post(
    '/v0/runners/:runner/register',
    { preHandler: app.requireRunner, schema: { summary: 'A runner daemon starts', tags: ['runners'], params: runnerParams, body: runnerRegistration, response: { 200: runnerRegistered, ...responses } } },
    async (request) => {
      const runner = request.runner!;
      await app.db('runner').where({ id: runner.id }).update({ version: request.body.version, executor: request.body.executor, host: request.body.host });
      const org = runner.organization_id ? await app.db('organization').where({ id: runner.organization_id }).first('slug') : undefined;
      const specs = await app.db<SpecRow>('spec')
        .join('runner_spec', 'runner_spec.spec_id', 'spec.id')
        .where('runner_spec.runner_id', runner.id)
        .whereNull('spec.archived_at')
        .orderBy('spec.slug')
        .select('spec.id', 'spec.slug');
      return {
        uuid: runner.id,
        slug: runner.slug,
        specs: specs.map((s) => ({ uuid: s.id, slug: s.slug, task_queue: runnerTaskQueue(s.slug, org?.slug) })),
      };
    },
  );

  app.post(
    '/v0/runners/:runner/jobs/:job/claim',
    { preHandler: app.requireRunner, schema: { summary: 'Claim a job (exactly one runner wins)', tags: ['runners'], params: runnerJobParams, body: jobClaim, response: { 200: claimedJob, ...responses } } },
    async (request) => {
      const runner = request.runner!;
      const jobId = request.params.job;
      const job = isUuid(jobId) ? await claimJob(app.db, { jobId, runnerId: runner.id, attempt: request.body.attempt }) : undefined;
      if (!job) throw await claimRefusal(runner, jobId);
      const spec = await app.db<SpecRow>('spec').where({ id: job.spec_id! }).first();
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
        image_credentials: job.config.image_credentials,
      };
    },
  );

  /** Says why a claim failed, in the most specific words the state allows. */
  async function claimRefusal(runner: RunnerRow, jobId: string) {
    const job = isUuid(jobId) ? await getJob(app.db, jobId) : undefined;
    if (!job) return notFound(`job "${jobId}"`);
    if (!job.image_digest || !job.spec_id) return conflict(`job ${jobId} is not ready to run yet`);
    const serves = await app.db('runner_spec').where({ runner_id: runner.id, spec_id: job.spec_id }).first();
    if (!serves) return forbidden(`runner ${runner.slug} does not serve this job's spec`);
    return conflict(`job ${jobId} is ${job.status}${job.runner_id && job.runner_id !== runner.id ? ' by another runner' : ''}; it cannot be claimed`);
  }

  /** The job this runner holds, or the reason it may not act on it. */
  async function heldJob(runner: RunnerRow, jobId: string): Promise<JobRow> {
    const job = isUuid(jobId) ? await getJob(app.db, jobId) : undefined;
    if (!job) throw notFound(`job "${jobId}"`);
    if (job.runner_id !== runner.id) throw forbidden(`job ${jobId} is not held by runner ${runner.slug}`);
    return job;
  }

  app.post(
    '/v0/runners/:runner/jobs/:job/running',
    { preHandler: app.requireRunner, schema: { summary: 'The benchmark is starting', tags: ['runners'], params: runnerJobParams, body: jobStarted, response: { 204: z.null(), ...responses } } },
    async (request, reply) => {
      const job = await heldJob(request.runner!, request.params.job);
      await transitionJob(app.db, job.id, 'running', {
        started_at: new Date(),
        execution: { executor: request.body.executor, ...request.body.execution },
      });
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
        response: { 204: z.null(), ...responses },
      },
    },
    async (request, reply) => {
      const job = await heldJob(request.runner!, request.params.job);
      if (job.status !== 'claimed' && job.status !== 'running') throw conflict(`job ${job.id} is ${job.status}; outputs can no longer change`);
      const content = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      await putOutput(app.db, job.id, request.query.kind, request.query.kind === 'file' ? request.query.path : '', content);
      return reply.status(204).send(null);
    },
  );
};

export default runnerRoutes;
