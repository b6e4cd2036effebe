import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Service } from '../../bench/chaos-services';
import { polling } from '../../bench/chaos-stack';
import { webhookDeliveryWorkflowId, type WebhookRetry } from '../../common/contracts';
import type { RunAccepted } from '../../common/schemas';
import type { WebhookDeliveryView, WebhookView } from '../../common/schemas/webhooks';
import { verifySignature } from '../../common/webhook-headers';
import { ROOT } from '../../devenv/paths';
import { waitFor } from '../../devenv/wait';
import { RECONCILE_SCHEDULE_ID } from '../../orchestrator/schedules';
import { Stack } from '../harness/stack';

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP server standing in for a webhook's receiver: records every request, answers as `answer` says. */
class Receiver {
  readonly requests: Received[] = [];
  private server!: Server;
  url!: string;
  port!: number;

  constructor(private readonly answer: (n: number) => { status: number; body?: string; headers?: Record<string, string> } = () => ({ status: 200, body: 'ok' })) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const { status, body, headers } = this.answer(this.requests.length);
        res.writeHead(status, headers);
        res.end(body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    this.url = `http://127.0.0.1:${this.port}/hook`;
    return this;
  }

  received(n: number, timeoutMs = 60000): Promise<Received[]> {
    return waitFor(`${n} request(s) at ${this.url}`, async () => (this.requests.length >= n ? this.requests : undefined), timeoutMs, 50);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

type Created = WebhookView & { secret: string };
const FAST_RETRY: WebhookRetry = { maximumAttempts: 4, initialIntervalMs: 700, backoffCoefficient: 2, maximumIntervalMs: 10_000 };

async function createWebhook(stack: Stack, body: Record<string, unknown>, token?: string | null) {
  return stack.request<Created & { message: string; details: { field: string } }>('POST', `/v0/projects/${stack.project.slug}/webhooks`, body, token);
}

async function deliveries(stack: Stack, webhook: string): Promise<WebhookDeliveryView[]> {
  const res = await stack.request<WebhookDeliveryView[]>('GET', `/v0/projects/${stack.project.slug}/webhooks/${webhook}/deliveries`);
  expect(res.status).toBe(200);
  return res.body;
}

function deliveryWhere(stack: Stack, webhook: string, check: (d: WebhookDeliveryView[]) => boolean, timeoutMs = 60000): Promise<WebhookDeliveryView[]> {
  return waitFor(`the deliveries of ${webhook}`, async () => {
    const list = await deliveries(stack, webhook);
    return check(list) ? list : undefined;
  }, timeoutMs, 200);
}

/** A job held `scheduled` for an hour, then canceled: a job.canceled event with no runner involved. */
async function canceledJob(stack: Stack, image: string): Promise<string> {
  const accepted = await stack.request<RunAccepted>('POST', '/v0/run', {
    project: stack.project.slug, branch: 'main', testbed: 'ci', adapter: 'json', start_after: new Date(Date.now() + 3600_000).toISOString(), job: { image },
  });
  expect([accepted.status, accepted.status === 202 || accepted.body]).toEqual([202, true]);
  await waitFor('the start timer', async () => {
    const history = await stack.client.workflow.getHandle(accepted.body.workflow_id).fetchHistory();
    return history.events!.some((e) => e.timerStartedEventAttributes) || undefined;
  });
  expect((await stack.request('POST', `/v0/projects/${stack.project.slug}/jobs/${accepted.body.job}/cancel`, {})).status).toBe(202);
  return accepted.body.job;
}

describe('webhooks on a development server', () => {
  let stack: Stack;
  let image: string;
  const receivers: Receiver[] = [];
  const receiver = async (answer?: ConstructorParameters<typeof Receiver>[0]) => {
    const r = await new Receiver(answer).start();
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    stack = await Stack.start({ webhookRetry: FAST_RETRY });
    image = await stack.pushImage('hooked', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 3}}}'] });
    await stack.startRunner();
  }, 120000);
  afterAll(async () => {
    await stack?.stop();
    await Promise.all(receivers.map((r) => r.stop()));
  });

  it('refuses bad input with a 400 naming the field, and callers who may not', async () => {
    const ok = { url: 'http://127.0.0.1:9/hook', events: ['job.completed'] };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...ok, url: 'http://127.0.0.1:9/ho\u0000ok' }, 'body.url'],
      [{ ...ok, url: `http://127.0.0.1:9/${'a'.repeat(3000)}` }, 'body.url'],
      [{ ...ok, url: 'ftp://127.0.0.1/hook' }, 'body.url'],
      [{ ...ok, url: 'http://user:pw@127.0.0.1:9/hook' }, 'body.url'],
      [{ ...ok, url: 'http://169.254.169.254/latest/meta-data/' }, 'body.url'],
      [{ ...ok, events: ['job.exploded'] }, 'body.events'],
      [{ ...ok, events: [] }, 'body.events'],
      [{ ...ok, headers: { 'X-Build': '{{job.secret}}' } }, 'body.headers.X-Build'],
      [{ ...ok, headers: { 'X-Build': 'a\r\nInjected: 1' } }, 'body.headers.X-Build'],
      [{ ...ok, headers: { 'Bad Name': 'x' } }, 'body.headers.Bad Name'],
      [{ ...ok, headers: { 'Benchline-Signature': 'forged' } }, 'body.headers.Benchline-Signature'],
    ];
    for (const [body, field] of cases) {
      const res = await createWebhook(stack, body);
      expect([JSON.stringify(body).slice(0, 80), res.status]).toEqual([JSON.stringify(body).slice(0, 80), 400]);
      expect(res.body.message).toContain(field);
    }
    expect((await createWebhook(stack, ok, null)).status).toBe(401);
    const outsider = await stack.tenant('outsider', { plan: 'team' });
    expect((await createWebhook(stack, ok, outsider.token)).status).toBe(404);
    expect((await stack.request('GET', `/v0/projects/${stack.project.slug}/webhooks`, undefined, outsider.token)).status).toBe(404);
  });

  it('is in the OpenAPI document: user-token security, its error statuses, the NUL rule on the URL', async () => {
    type Operation = { security: unknown[]; responses: Record<string, unknown>; requestBody?: { content: Record<string, { schema: { properties: Record<string, { pattern?: string }> } }> } };
    const doc = (await stack.request<{ paths: Record<string, Record<string, Operation>> }>('GET', '/v0/openapi.json', undefined, null)).body;
    const base = '/v0/projects/{project}/webhooks';
    const operations = [
      ['post', base, '201'], ['get', base, '200'], ['get', `${base}/{webhook}`, '200'], ['delete', `${base}/{webhook}`, '204'],
      ['get', `${base}/{webhook}/deliveries`, '200'], ['post', `${base}/{webhook}/deliveries/{delivery}/redeliver`, '202'],
    ] as const;
    for (const [method, path, ok] of operations) {
      const op = doc.paths[path]?.[method];
      expect([method, path, op?.security]).toEqual([method, path, [{ bearer: [] }]]);
      expect([method, path, Object.keys(op.responses)]).toEqual([method, path, expect.arrayContaining([ok, '400', '401', '403', '404'])]);
    }
    expect(doc.paths[base].post.requestBody!.content['application/json'].schema.properties.url.pattern).toBe('^[^\\u0000]*$');
  });

  it('delivers a signed event with its header templates filled in, lists it, and redelivers it', async () => {
    const target = await receiver(() => ({ status: 200, body: 'thanks' }));
    const created = await createWebhook(stack, { url: target.url, events: ['job.completed', 'job.failed'], headers: { 'X-Build': '{{job.branch}}@{{job.testbed}}', 'X-Pipeline': '[{{pipeline.id}}]' } });
    expect(created.status).toBe(201);
    const { secret, uuid } = created.body;
    expect(secret).toMatch(/^whsec_/);
    // Shown once: no read shows the secret again.
    const listed = await stack.request<WebhookView[]>('GET', `/v0/projects/${stack.project.slug}/webhooks`);
    expect(listed.body.find((w) => w.uuid === uuid)).toMatchObject({ url: target.url, events: ['job.completed', 'job.failed'] });
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(JSON.stringify((await stack.request('GET', `/v0/projects/${stack.project.slug}/webhooks/${uuid}`)).body)).not.toContain(secret);
    // Stored sealed (BENCHLINE_SECRETS_KEY): the orchestrator opens it to sign below.
    const stored = await stack.db('webhook').where({ id: uuid }).first();
    expect(stored.secret).toMatch(/^sealed:v1:/);
    expect(JSON.stringify(stored)).not.toContain(secret);

    const job = await stack.submit({ image });
    const [request] = await target.received(1);
    const payload = JSON.parse(request.body);
    expect(payload).toMatchObject({ id: `job-${job.job}-processed`, type: 'job.completed', data: { job: { id: job.job, status: 'processed', branch: 'main', testbed: 'ci' } } });
    expect(Date.parse(payload.created_at)).not.toBeNaN();
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['benchline-event']).toBe('job.completed');
    expect(request.headers['x-build']).toBe('main@ci');
    expect(request.headers['x-pipeline']).toBe('[]');
    // The receiver's check: HMAC-SHA256 over "<t>.<body>" with the secret, recomputed here by hand too.
    const signature = request.headers['benchline-signature'] as string;
    expect(verifySignature(secret, signature, request.body)).toBe(true);
    expect(verifySignature(secret, signature, request.body.replace('processed', 'failed'))).toBe(false);
    expect(verifySignature('whsec_other', signature, request.body)).toBe(false);
    const { createHmac } = await import('node:crypto');
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature)!;
    expect(createHmac('sha256', secret).update(`${t}.${request.body}`).digest('hex')).toBe(v1);

    const [first] = await deliveryWhere(stack, uuid, (d) => d[0]?.status === 'delivered');
    expect(first).toMatchObject({ event: { id: payload.id, type: 'job.completed' }, redelivery_of: null, attempts: [{ attempt: 1, status_code: 200, error: null, response: 'thanks', delivered: true }] });
    expect(request.headers['benchline-delivery']).toBe(first.uuid);

    const redelivered = await stack.request<WebhookDeliveryView>('POST', `/v0/projects/${stack.project.slug}/webhooks/${uuid}/deliveries/${first.uuid}/redeliver`);
    expect(redelivered.status).toBe(202);
    expect(redelivered.body).toMatchObject({ redelivery_of: first.uuid, event: { id: payload.id } });
    const [, again] = await target.received(2);
    // Same event id and body (receivers deduplicate on the id), a new delivery, a fresh signature.
    expect(JSON.parse(again.body)).toEqual(payload);
    expect(again.headers['benchline-delivery']).toBe(redelivered.body.uuid);
    expect(verifySignature(secret, again.headers['benchline-signature'] as string, again.body)).toBe(true);
    const both = await deliveryWhere(stack, uuid, (d) => d.length === 2 && d.every((x) => x.status === 'delivered'));
    expect(both.map((d) => d.uuid).sort()).toEqual([first.uuid, redelivered.body.uuid].sort());
    // A receiver that got the event once per delivery, and no more.
    expect(target.requests).toHaveLength(2);
  });

  it('a webhook written before secrets were sealed (plaintext secret) still signs its deliveries', async () => {
    const target = await receiver();
    const created = await createWebhook(stack, { url: target.url, events: ['job.completed'] });
    expect(created.status).toBe(201);
    const legacy = 'whsec_written-before-sealing';
    await stack.db('webhook').where({ id: created.body.uuid }).update({ secret: legacy });
    await stack.submit({ image });
    const [request] = await target.received(1);
    expect(verifySignature(legacy, request.headers['benchline-signature'] as string, request.body)).toBe(true);
  });

  it('delivers alert.raised for an alert a job raised, and pipeline.finished', async () => {
    const target = await receiver();
    const created = await createWebhook(stack, { url: target.url, events: ['alert.raised', 'pipeline.finished'], headers: { 'X-Build': '{{job.branch}}|{{pipeline.status}}' } });
    expect(created.status).toBe(201);
    // A static upper limit of 2 under a benchmark that prints 3: one alert on the first run.
    const run = await stack.request<RunAccepted>('POST', '/v0/run', {
      project: stack.project.slug, branch: 'main', testbed: 'ci', adapter: 'json', thresholds: [{ measure: 'latency', test: 'static', upper_boundary: 2 }], job: { image },
    });
    expect(run.status).toBe(202);
    const [alerted] = await target.received(1);
    const alert = JSON.parse(alerted.body);
    expect(alert).toMatchObject({ type: 'alert.raised', data: { alert: { benchmark: 'b', measure: 'latency', value: 3, limit: 2, side: 'upper' }, job: { id: run.body.job } } });
    expect(alert.id).toBe(`alert-${alert.data.alert.id}`);
    expect(alerted.headers['x-build']).toBe('main|');
    expect(verifySignature(created.body.secret, alerted.headers['benchline-signature'] as string, alerted.body)).toBe(true);

    const pipeline = await stack.request<{ uuid: string }>('POST', '/v0/pipelines', {
      project: stack.project.slug, jobs: [{ key: 'only', branch: 'main', testbed: 'ci', adapter: 'json', job: { image }, needs: [] }],
    });
    expect(pipeline.status).toBe(202);
    // The pipeline's job raised an alert too (the threshold stays on main/ci): find the pipeline's event.
    const finished = await waitFor('pipeline.finished', async () => target.requests.find((r) => JSON.parse(r.body).type === 'pipeline.finished'), 60000, 100);
    expect(JSON.parse(finished.body)).toMatchObject({ id: `pipeline-${pipeline.body.uuid}-finished`, type: 'pipeline.finished', data: { pipeline: { id: pipeline.body.uuid, status: 'succeeded', counts: { processed: 1 } } } });
    expect(finished.headers['x-build']).toBe('|succeeded');
    expect((await stack.request('DELETE', `/v0/projects/${stack.project.slug}/webhooks/${created.body.uuid}`)).status).toBe(204);
  });

  it('retries a failing receiver with growing gaps, storing every attempt', async () => {
    const flaky = await receiver((n) => (n <= 2 ? { status: 503, body: `busy ${n}` } : { status: 204 }));
    const created = await createWebhook(stack, { url: flaky.url, events: ['job.canceled'] });
    expect(created.status).toBe(201);
    const jobId = await canceledJob(stack, image);
    const requests = await flaky.received(3);
    const ids = requests.map((r) => JSON.parse(r.body).id);
    expect(ids).toEqual([`job-${jobId}-canceled`, `job-${jobId}-canceled`, `job-${jobId}-canceled`]);
    // One delivery: the same Benchline-Delivery on each attempt.
    expect(new Set(requests.map((r) => r.headers['benchline-delivery'])).size).toBe(1);
    const [delivery] = await deliveryWhere(stack, created.body.uuid, (d) => d[0]?.status === 'delivered');
    expect(delivery.attempts.map((a) => [a.attempt, a.status_code, a.delivered, a.error, a.response])).toEqual([
      [1, 503, false, 'HTTP 503', 'busy 1'],
      [2, 503, false, 'HTTP 503', 'busy 2'],
      [3, 204, true, null, ''],
    ]);
    const started = delivery.attempts.map((a) => Date.parse(a.started));
    const gaps = [started[1] - started[0], started[2] - started[1]];
    expect(gaps[0]).toBeGreaterThanOrEqual(FAST_RETRY.initialIntervalMs - 100);
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    expect(delivery.attempts.every((a) => a.duration_ms >= 0)).toBe(true);
    expect(flaky.requests).toHaveLength(3);
    // Its newest attempt got through: no longer a failing endpoint (the next test sees one that is).
    expect(await endpointFailing(stack, created.body.uuid)).toBe(0);
    expect((await stack.request('DELETE', `/v0/projects/${stack.project.slug}/webhooks/${created.body.uuid}`)).status).toBe(204);
  });

  it('gives up after the last attempt, and counts outcomes in /metrics', async () => {
    const down = await receiver(() => ({ status: 500, body: 'x'.repeat(5000) }));
    const created = await createWebhook(stack, { url: down.url, events: ['job.canceled'] });
    await canceledJob(stack, image);
    const [delivery] = await deliveryWhere(stack, created.body.uuid, (d) => d[0]?.status === 'gave_up');
    expect(delivery.attempts).toHaveLength(FAST_RETRY.maximumAttempts);
    // Only the start of a response is kept.
    expect(delivery.attempts[0].response).toHaveLength(1024);
    expect(delivery.finished).not.toBeNull();
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    const count = (outcome: string) => Number(new RegExp(`benchline_webhook_deliveries_total\\{outcome="${outcome}"\\} (\\d+)`).exec(metrics)?.[1]);
    expect(count('gave_up')).toBeGreaterThanOrEqual(1);
    expect(count('failed_attempt')).toBeGreaterThanOrEqual(FAST_RETRY.maximumAttempts);
    expect(count('delivered')).toBeGreaterThanOrEqual(1);
    expect(await endpointFailing(stack, created.body.uuid)).toBe(1);
    expect((await stack.request('DELETE', `/v0/projects/${stack.project.slug}/webhooks/${created.body.uuid}`)).status).toBe(204);
  });

  it("announces a canceled pipeline's jobs that never started, and the pipeline", async () => {
    const target = await receiver();
    const created = await createWebhook(stack, { url: target.url, events: ['job.canceled', 'pipeline.finished'] });
    const later = new Date(Date.now() + 3600_000).toISOString();
    const pipeline = await stack.request<{ uuid: string; jobs: { uuid: string; key: string }[] }>('POST', '/v0/pipelines', {
      project: stack.project.slug,
      jobs: [
        { key: 'first', branch: 'main', testbed: 'ci', adapter: 'json', job: { image }, start_after: later, needs: [] },
        { key: 'second', branch: 'main', testbed: 'ci', adapter: 'json', job: { image }, needs: [{ job: 'first' }] },
      ],
    });
    expect(pipeline.status).toBe(202);
    expect((await stack.request('POST', `/v0/pipelines/${pipeline.body.uuid}/cancel`, {})).status).toBe(202);
    const requests = await target.received(3);
    const ids = requests.map((r) => JSON.parse(r.body).id).sort();
    expect(ids).toEqual([...pipeline.body.jobs.map((j) => `job-${j.uuid}-canceled`), `pipeline-${pipeline.body.uuid}-finished`].sort());
    const finished = JSON.parse(requests.find((r) => r.headers['benchline-event'] === 'pipeline.finished')!.body);
    expect(finished.data.pipeline).toMatchObject({ status: 'canceled', counts: { canceled: 2 } });
    expect((await stack.request('DELETE', `/v0/projects/${stack.project.slug}/webhooks/${created.body.uuid}`)).status).toBe(204);
  });

  it('deleting a webhook stops its deliveries and hides it', async () => {
    const target = await receiver();
    const created = await createWebhook(stack, { url: target.url, events: ['job.canceled'] });
    const del = await stack.request('DELETE', `/v0/projects/${stack.project.slug}/webhooks/${created.body.uuid}`);
    expect(del.status).toBe(204);
    expect((await stack.request('GET', `/v0/projects/${stack.project.slug}/webhooks/${created.body.uuid}`)).status).toBe(404);
    expect((await stack.request('GET', `/v0/projects/${stack.project.slug}/webhooks/${created.body.uuid}/deliveries`)).status).toBe(404);
    expect((await stack.request('DELETE', `/v0/projects/${stack.project.slug}/webhooks/${created.body.uuid}`)).status).toBe(404);
  });
});

/**
 * Not a development server: private, loopback and metadata addresses refused. The registry and one
 * receiver are the operator's own hosts (ownHosts), so jobs still run and a redirecting receiver can
 * be reached; names resolve through a table the test changes.
 */
describe('webhook targets through the outbound guard (production policy)', () => {
  let stack: Stack;
  let image: string;
  let redirector: Receiver;
  const names: Record<string, string[]> = {};

  beforeAll(async () => {
    redirector = await new Receiver(() => ({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } })).start();
    const registry = process.env.BENCHLINE_TEST_REGISTRY!;
    stack = await Stack.start({
      outbound: { allowPrivateNetworks: false, ownHosts: [registry, `127.0.0.1:${redirector.port}`], resolve: async (name) => names[name] ?? [] },
      webhookRetry: { ...FAST_RETRY, maximumAttempts: 2 },
    });
    image = await stack.pushImage('guarded', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 3}}}'] });
    // Submissions need a runner serving the spec; the test's jobs are canceled before they start.
    await stack.startRunner();
  }, 120000);
  afterAll(async () => {
    await stack?.stop();
    await redirector?.stop();
  });

  it.each([
    ['10.0.0.1', 'http://10.0.0.1/hook'],
    ['the metadata service', 'http://169.254.169.254/latest/meta-data/'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/hook'],
    ['loopback', 'http://127.0.0.1:9/hook'],
    ['a name resolving to a private address', 'http://intranet.example/hook'],
  ])('refuses a webhook to %s at creation', async (_what, url) => {
    names['intranet.example'] = ['10.1.2.3'];
    const res = await createWebhook(stack, { url, events: ['job.canceled'] });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^body\.url: .* is not an allowed destination/);
  });

  it('fails the attempts of a name re-pointed to a private address, with that reason, and never follows a redirect', async () => {
    names['hooks.example'] = ['93.184.216.34'];
    const rebound = await createWebhook(stack, { url: 'http://hooks.example/hook', events: ['job.canceled'] });
    expect(rebound.status).toBe(201);
    const redirecting = await createWebhook(stack, { url: redirector.url, events: ['job.canceled'] });
    expect(redirecting.status).toBe(201);
    names['hooks.example'] = ['10.0.0.1'];

    await canceledJob(stack, image);
    const [refused] = await deliveryWhere(stack, rebound.body.uuid, (d) => d[0]?.status === 'gave_up');
    expect(refused.attempts).toHaveLength(2);
    for (const a of refused.attempts) expect(a).toMatchObject({ status_code: null, delivered: false, error: expect.stringContaining('hooks.example is not an allowed destination') });
    // The address it resolved to is for logs, never for users.
    expect(JSON.stringify(refused)).not.toContain('10.0.0.1');

    const [redirected] = await deliveryWhere(stack, redirecting.body.uuid, (d) => d[0]?.status === 'gave_up');
    expect(redirected.attempts.map((a) => [a.status_code, a.error])).toEqual([
      [302, 'HTTP 302: a redirect, which is not followed'],
      [302, 'HTTP 302: a redirect, which is not followed'],
    ]);
    expect(redirector.requests).toHaveLength(2);
  });
});

/** The orchestrator as its own OS process, SIGKILLed while a delivery waits for its next attempt. */
describe('a webhook delivery across an orchestrator kill', () => {
  let stack: Stack;
  let orchestrator: Service;
  let target: Receiver;
  const scratch = join(process.env.BENCHLINE_TEST_SCRATCH!, 'webhooks-kill');

  beforeAll(async () => {
    stack = await Stack.start({ orchestrator: false });
    target = await new Receiver((n) => (n === 1 ? { status: 500, body: 'down' } : { status: 200, body: 'up' })).start();
    orchestrator = new Service(
      {
        name: 'orchestrator',
        command: process.execPath,
        args: ['--require', join(ROOT, 'node_modules/tsx/dist/cjs/index.cjs'), join(ROOT, 'orchestrator/main.ts')],
        env: {
          BENCHLINE_CONTROL_TASK_QUEUE: `control-${stack.id}`,
          BENCHLINE_ALLOW_PRIVATE_NETWORKS: '1',
          // The retry comes due while the orchestrator is down.
          BENCHLINE_WEBHOOK_INITIAL_INTERVAL_MS: '2000',
          BENCHLINE_WEBHOOK_MAX_ATTEMPTS: '5',
        },
        ready: (s) => polling(stack.client, `control-${stack.id}`, s.pid),
      },
      await mkdir(scratch, { recursive: true }).then(() => scratch),
    );
    await orchestrator.start();
    await stack.startRunner();
  }, 240000);

  afterAll(async () => {
    await orchestrator?.stop();
    const schedule = stack && (await stack.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe().catch(() => undefined));
    if (schedule?.action.type === 'startWorkflow' && schedule.action.taskQueue === `control-${stack.id}`) await stack.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).delete();
    await stack?.stop();
    await target?.stop();
  });

  it('delivers after the restart', async () => {
    const created = await createWebhook(stack, { url: target.url, events: ['job.canceled'] });
    expect(created.status).toBe(201);
    const image = await stack.pushImage('killed', { entrypoint: ['/bin/echo', '{}'] });
    const jobId = await canceledJob(stack, image);
    await target.received(1);
    // Mid-retry: attempt 1 failed and is stored, and Temporal holds attempt 2's timer.
    const [delivery] = await deliveryWhere(stack, created.body.uuid, (d) => d[0]?.attempts.length === 1);
    await waitFor('attempt 2 to be scheduled', async () => {
      const { raw } = await stack.client.workflow.getHandle(webhookDeliveryWorkflowId(delivery.uuid)).describe();
      return (raw.pendingActivities?.[0]?.attempt ?? 0) >= 2 || undefined;
    });
    await orchestrator.kill();
    const killedAt = Date.now();
    await orchestrator.start();

    const [second] = (await target.received(2, 120000)).slice(1);
    expect(second.at).toBeGreaterThan(killedAt);
    expect(JSON.parse(second.body).id).toBe(`job-${jobId}-canceled`);
    const [done] = await deliveryWhere(stack, created.body.uuid, (d) => d[0]?.status === 'delivered');
    expect(done.attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    expect(await stack.closedStatus(webhookDeliveryWorkflowId(delivery.uuid))).toBe('COMPLETED');
  }, 300000);
});

/** benchline_webhook_endpoint_failing for one webhook, from the api's /metrics. */
async function endpointFailing(stack: Stack, webhook: string): Promise<number> {
  const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
  return Number(new RegExp(`benchline_webhook_endpoint_failing\\{webhook="${webhook}"\\} (\\d+)`).exec(metrics)?.[1]);
}
