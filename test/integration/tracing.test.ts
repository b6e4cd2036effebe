import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Service } from '../../bench/chaos-services';
import { polling } from '../../bench/chaos-stack';
import type { JobView, RunAccepted } from '../../common/schemas';
import { createRunner } from '../../db/seed';
import { ROOT } from '../../devenv/paths';
import { freePort, waitFor } from '../../devenv/wait';
import { RECONCILE_SCHEDULE_ID } from '../../orchestrator/schedules';
import { OtlpReceiver, type ReceivedSpan } from '../harness/otlp-receiver';
import { dashboardMetricNames, familyNames } from '../harness/prometheus';
import { startRunnerProcess, type RunnerProcess } from '../harness/runner-process';
import { Stack } from '../harness/stack';

/**
 * One job's trace across the three processes, each a real OS process exporting OTLP: the api
 * (api/main.ts), the orchestrator (orchestrator/main.ts, bundling its workflows with the Temporal
 * OpenTelemetry interceptors) and a runner daemon (runner/main.ts). The test's OTLP receiver stands
 * in for a collector. The stack is used for its seeded tenant, spec and Temporal client only.
 * The two workers also serve the Temporal SDK's Prometheus metrics (BENCHLINE_METRICS_ADDRESS),
 * which the dashboard's worker panels query.
 */
describe('tracing', () => {
  let stack: Stack;
  const receiver = new OtlpReceiver();
  const services: Service[] = [];
  let runner: RunnerProcess | undefined;
  let apiUrl: string;
  const workerMetrics: string[] = [];
  const scratch = join(process.env.BENCHLINE_TEST_SCRATCH!, 'tracing');

  beforeAll(async () => {
    stack = await Stack.start({ orchestrator: false });
    await mkdir(scratch, { recursive: true });
    const endpoint = await receiver.start();
    const queue = `control-${stack.id}`;
    const traced = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, BENCHLINE_TRACING_EXPORT_DELAY_MS: '200', BENCHLINE_ALLOW_PRIVATE_NETWORKS: '1', BENCHLINE_CONTROL_TASK_QUEUE: queue };
    const tsx = ['--require', join(ROOT, 'node_modules/tsx/dist/cjs/index.cjs')];
    const [orchestratorMetrics, runnerMetrics] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    workerMetrics.push(orchestratorMetrics, runnerMetrics);
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    const orchestrator = new Service({ name: 'orchestrator', command: process.execPath, args: [...tsx, join(ROOT, 'orchestrator/main.ts')], env: { ...traced, BENCHLINE_METRICS_ADDRESS: orchestratorMetrics }, ready: (s) => polling(stack.client, queue, s.pid), readyTimeoutMs: 240000 }, scratch);
    const api = new Service({
      name: 'api', command: process.execPath, args: [...tsx, join(ROOT, 'api/main.ts')],
      env: { ...traced, BENCHLINE_API_PORT: String(port) },
      ready: async () => (await fetch(`${apiUrl}/ready`).then((r) => r.ok, () => false)),
    }, scratch);
    services.push(orchestrator, api);
    await Promise.all(services.map((s) => s.start()));
    const slug = `traced-runner-${stack.id}`;
    const { token } = await createRunner(stack.db, { slug, specIds: [stack.spec.id], seen: true });
    runner = await startRunnerProcess({ apiUrl, runner: slug, token, env: { ...traced, BENCHLINE_EXECUTOR: 'sandbox', BENCHLINE_METRICS_ADDRESS: runnerMetrics } });
  }, 300000);

  afterAll(async () => {
    runner?.child.kill('SIGKILL');
    await Promise.all(services.map((s) => s.stop()));
    await receiver.stop();
    // orchestrator/main.ts pointed the shared server's reconcile schedule at this test's queue.
    const schedule = stack && (await stack.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe().catch(() => undefined));
    if (schedule?.action.type === 'startWorkflow' && schedule.action.taskQueue === `control-${stack.id}`) await stack.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).delete();
    await stack?.stop();
  });

  it("puts the api's request, the workflow, its activities, the runner's runJob and the runner's calls back in one trace", async () => {
    const image = await stack.pushImage('ok', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] });
    const response = await fetch(`${apiUrl}/v0/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.userToken}` },
      body: JSON.stringify({ project: stack.project.slug, branch: 'main', testbed: 'ci', adapter: 'json', job: { image } }),
    });
    expect(response.status).toBe(202);
    const { job } = (await response.json()) as RunAccepted;
    const done = await waitFor(`job ${job} to finish`, async () => {
      const view = (await (await fetch(`${apiUrl}/v0/projects/${stack.project.slug}/jobs/${job}`, { headers: { authorization: `Bearer ${stack.userToken}` } })).json()) as JobView;
      return ['processed', 'failed', 'canceled'].includes(view.status) ? view : undefined;
    }, 120000, 200);
    expect(done.status).toBe('processed');

    // The submission's server span roots the trace.
    const submit = await waitFor('the submission span', async () => receiver.spans.find((s) => s.service === 'benchline-api' && s.name === 'POST /v0/run' && s.parentSpanId === ''), 30000, 200);
    const trace = (): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === submit.traceId);
    const has = (service: string, name: string | RegExp) => trace().some((s) => s.service === service && (typeof name === 'string' ? s.name === name : name.test(s.name)));
    await waitFor('spans of all three processes in the trace', async () =>
      (has('benchline-orchestrator', /^RunWorkflow:jobWorkflow/) && has('benchline-runner', 'RunActivity:runJob') && has('benchline-api', 'POST /v0/runners/:runner/jobs/:job/running')) || undefined, 60000, 250);

    const spans = trace();
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['benchline-api', 'benchline-orchestrator', 'benchline-runner']));
    // Control activities ran in the orchestrator, within the same trace.
    expect(spans.some((s) => s.service === 'benchline-orchestrator' && s.name.startsWith('RunActivity:'))).toBe(true);
    // The runner's call back continues the trace through traceparent: the api's span for it is the child of the runner's client span.
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const started = spans.find((s) => s.service === 'benchline-api' && s.name === 'POST /v0/runners/:runner/jobs/:job/running')!;
    const caller = byId.get(started.parentSpanId)!;
    expect([caller.service, caller.kind]).toEqual(['benchline-runner', 3 /* SPAN_KIND_CLIENT */]);
    // …whose ancestry reaches runJob's span in the runner, and from there the workflow and the submission.
    const ancestors = (span: ReceivedSpan): ReceivedSpan[] => (byId.has(span.parentSpanId) ? [byId.get(span.parentSpanId)!, ...ancestors(byId.get(span.parentSpanId)!)] : []);
    const chain = ancestors(started).map((s) => `${s.service} ${s.name}`);
    expect(chain).toEqual(expect.arrayContaining(['benchline-runner RunActivity:runJob', 'benchline-api POST /v0/run']));
    expect(chain.some((c) => c.startsWith('benchline-orchestrator'))).toBe(true);
  });

  it("serves the Temporal SDK's worker metrics that the dashboard queries", async () => {
    const exported = new Set<string>();
    for (const address of workerMetrics) for (const name of familyNames(await (await fetch(`http://${address}/metrics`)).text())) exported.add(name);
    const used = [...dashboardMetricNames(JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/benchline.json'), 'utf8')))].filter((n) => n.startsWith('benchline_temporal_'));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((n) => !exported.has(n))).toEqual([]);
  });
});
