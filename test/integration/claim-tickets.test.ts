import { randomUUID } from 'node:crypto';
import { CLAIM_TICKET_HEADER } from '../../common/schemas';
import { JOB_WORKFLOW, jobWorkflowId, runnerTaskQueue, type JobWorkflowInput, type RunJobInput } from '../../common/contracts';
import { hashToken } from '../../common/tokens';
import { holdJobUntilCommit, issueClaimTicket } from '../../db/jobs';
import { createRunner } from '../../db/seed';
import { RunnerApi } from '../../runner/api-client';
import type { Knex } from 'knex';
import type { JobRow } from '../../db/rows';
import { Stack } from '../harness/stack';

/** Claims only dispatch can hand out: the claim ticket of the runJob attempt Temporal delivered. */
describe('claim tickets', () => {
  let stack: Stack;
  let image: string;
  beforeAll(async () => {
    stack = await Stack.start();
    image = await stack.pushImage('bmf', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] });
  });
  afterAll(() => stack?.stop());

  /** A runner with a valid token of the stack's spec, calling the api by hand. */
  async function runnerCalls(name: string) {
    const slug = `${name}-${stack.id}`;
    const { token } = await createRunner(stack.db, { slug, specIds: [stack.spec.id], seen: true });
    const call = async (method: string, jobId: string, path: string, options: { ticket?: string; body?: unknown } = {}) => {
      const binary = Buffer.isBuffer(options.body);
      const response = await fetch(`${stack.apiUrl}/v0/runners/${slug}/jobs/${jobId}/${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(options.ticket ? { [CLAIM_TICKET_HEADER]: options.ticket } : {}),
          ...(options.body === undefined ? {} : { 'content-type': binary ? 'application/octet-stream' : 'application/json' }),
        },
        body: options.body === undefined ? undefined : binary ? new Uint8Array(options.body as Buffer) : JSON.stringify(options.body),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
    };
    return {
      slug,
      api: new RunnerApi(stack.apiUrl, slug, token),
      claim: (jobId: string, ticket?: string, body?: unknown) => call('POST', jobId, 'claim', { ticket, body }),
      running: (jobId: string, ticket?: string) => call('POST', jobId, 'running', { ticket, body: { executor: 'sandbox' } }),
      upload: (jobId: string, ticket?: string) => call('PUT', jobId, 'outputs?kind=stdout', { ticket, body: Buffer.from('{"forged": {"latency": {"value": 1}}}') }),
    };
  }

  /** A refusal carries an error and nothing of the job: no config, no credentials. */
  const refused = (status: number) => ({ status, body: { error: expect.any(String), message: expect.any(String) } });

  it('only the runner a job was dispatched to can claim it, mark it running or upload for it', async () => {
    const intruder = await runnerCalls('intruder');
    let delivered!: (input: RunJobInput) => void;
    const delivery = new Promise<RunJobInput>((resolve) => (delivered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // The dispatched runner holds its task until the intruder has had its go (well within the heartbeat timeout).
    const dispatched = await stack.startRunner({
      wrap: (activities) => ({
        async runJob(input) {
          delivered(input);
          await released;
          return activities.runJob(input);
        },
      }),
    });
    const { job: jobId } = await stack.submit({ image });
    const input = await delivery;
    expect(input).toEqual({ jobId, attempt: 1, ticket: expect.any(String) });

    // Not dispatched: no ticket, a guessed one, or a huge attempt number claim nothing.
    expect(await intruder.claim(jobId)).toEqual(refused(403));
    expect(await intruder.claim(jobId, randomUUID())).toEqual(refused(403));
    expect(await intruder.claim(jobId, undefined, { attempt: 2147483647 })).toEqual(refused(403));
    expect(await intruder.running(jobId)).toEqual(refused(403));
    expect(await intruder.upload(jobId, randomUUID())).toEqual(refused(403));
    expect(await stack.db('job').where({ id: jobId }).first('status', 'runner_id', 'attempt')).toEqual({ status: 'pending', runner_id: null, attempt: 0 });

    // The dispatched runner claims with the delivered ticket and gets the job's configuration.
    const claimed = await dispatched.api.claim(jobId, input);
    expect(claimed).toMatchObject({ uuid: jobId, attempt: 1, image: { digest: expect.stringMatching(/^sha256:/) } });

    // The ticket is spent: even presented by another runner (leaked), it claims and authorises nothing.
    expect(await intruder.claim(jobId, input.ticket)).toEqual(refused(403));
    expect(await intruder.running(jobId, input.ticket)).toEqual(refused(403));
    expect(await intruder.upload(jobId, input.ticket)).toEqual(refused(403));

    // The real activity claims again with the same ticket (as after a lost answer) and runs the job.
    release();
    const job = await stack.waitForJob(jobId);
    expect(job).toMatchObject({ status: 'processed', runner: dispatched.slug, attempt: 1 });
    const stdout = await stack.db('job_output').where({ job_id: jobId, kind: 'stdout' }).first('content');
    expect(stdout.content.toString()).not.toContain('forged');
  });

  /**
   * A ready job's row (report included), as a submission writes it (in `trx`: held until its COMMIT);
   * the workflow's part is played by hand.
   */
  async function readyJob(trx: Knex.Transaction, branchSlug: string, extra: Partial<JobRow> = {}): Promise<string> {
    const branch = (await trx('branch').insert({ project_id: stack.project.id, slug: branchSlug, name: branchSlug }).returning('id'))[0].id;
    const testbed = (await trx('testbed').where({ project_id: stack.project.id, slug: 'ci' }).first()).id;
    const [report] = await trx('report').insert({ project_id: stack.project.id, branch_id: branch, testbed_id: testbed, adapter: 'json' }).returning('id');
    const [{ id }] = await trx('job')
      .insert({
        report_id: report.id, project_id: stack.project.id, organization_id: stack.project.organization_id, spec_id: stack.spec.id,
        status: 'pending', tier: 'paid', priority: 1, timeout_seconds: 60, source_ip: '127.0.0.1',
        config: { image: `${stack.registry}/x/y:1` }, image_digest: `sha256:${'0'.repeat(64)}`, ...extra,
      })
      .returning('id');
    await holdJobUntilCommit(trx, id);
    return id;
  }

  it('a runner of an earlier attempt loses the job to the next attempt’s ticket, never by attempt number', async () => {
    const [first, second] = [await runnerCalls('first'), await runnerCalls('second')];
    const jobId = await stack.db.transaction((trx) => readyJob(trx, 'tickets'));
    const [ticket1, ticket2] = [randomUUID(), randomUUID()];
    await issueClaimTicket(stack.db, jobId, 1, hashToken(ticket1));
    expect((await first.claim(jobId, ticket1)).status).toBe(200);
    expect((await first.claim(jobId, ticket1)).body).toMatchObject({ attempt: 1 });

    // The first runner vanished; the workflow's second attempt gets a new ticket (a late retry of
    // issuing the first one changes nothing).
    await issueClaimTicket(stack.db, jobId, 2, hashToken(ticket2));
    await issueClaimTicket(stack.db, jobId, 1, hashToken(ticket1));
    expect(await first.running(jobId, ticket1)).toEqual(refused(403));
    expect(await second.claim(jobId, ticket1)).toEqual(refused(403));
    expect((await second.claim(jobId, ticket2)).body).toMatchObject({ attempt: 2 });
    expect(await first.claim(jobId, ticket2)).toEqual(refused(403));

    // Marking running is the holder's alone, and repeating it (a retry after a lost answer) is fine.
    expect((await second.running(jobId, ticket2)).status).toBe(204);
    expect((await second.running(jobId, ticket2)).status).toBe(204);
    expect(await first.upload(jobId, ticket1)).toEqual(refused(403));
    expect((await second.upload(jobId, ticket2)).status).toBe(204);
    expect((await second.upload(jobId, ticket2)).status).toBe(204);
    expect(await stack.db('job').where({ id: jobId }).first('status', 'attempt')).toEqual({ status: 'running', attempt: 2 });
  });

  /**
   * A pinned submission's workflow dispatches from its first task, which the api starts just before
   * COMMIT: a runner's claim that arrives first waits for the submission, and is answered by it.
   */
  it('a claim that comes before its submission commits waits for the commit; after a rollback it finds no job', async () => {
    const runner = await runnerCalls('early');
    const lockWaits = () => stack.db('pg_locks').where({ locktype: 'advisory', granted: false }).whereRaw('database = (select oid from pg_database where datname = current_database())').count<{ count: string }[]>({ count: '*' }).then(([r]) => Number(r.count));
    const waitingForLock = async () => {
      while ((await lockWaits()) === 0) await new Promise((r) => setImmediate(r));
    };
    for (const outcome of ['commit', 'rollback'] as const) {
      const ticket = randomUUID();
      let claim!: Promise<{ status: number; body?: Record<string, unknown> }>;
      let jobId!: string;
      const submission = stack.db.transaction(async (trx) => {
        jobId = await readyJob(trx, `early-${outcome}`, { claim_ticket_hash: hashToken(ticket), claim_ticket_attempt: 1 });
        claim = runner.claim(jobId, ticket);
        await waitingForLock();
        if (outcome === 'rollback') throw new Error('rolled back');
      });
      if (outcome === 'commit') {
        await submission;
        expect(await claim).toMatchObject({ status: 200, body: { uuid: jobId, attempt: 1 } });
      } else {
        await expect(submission).rejects.toThrow('rolled back');
        expect(await claim).toEqual(refused(404));
      }
    }
  });

  it('a pinned workflow whose submission never committed ends quietly once the runner finds no job', async () => {
    const runner = await stack.startRunner();
    try {
      const jobId = randomUUID();
      const input: JobWorkflowInput = { jobId, spec: { slug: stack.spec.slug, taskQueue: runnerTaskQueue(stack.spec.slug) }, priorityKey: 1, timeoutSeconds: 10, firstClaimTicket: randomUUID() };
      const outcome = await stack.client.workflow.execute<(i: JobWorkflowInput) => Promise<unknown>>(JOB_WORKFLOW, { workflowId: jobWorkflowId(jobId), taskQueue: stack.app.config.controlTaskQueue, args: [input] });
      expect(outcome).toEqual({ status: 'not_committed' });
      expect(await stack.db('job').where({ id: jobId }).first()).toBeUndefined();
      const events = (await stack.client.workflow.getHandle(jobWorkflowId(jobId)).fetchHistory()).events!;
      expect(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name)).toEqual(['runJob']);
    } finally {
      await runner.stop();
    }
  });
});
