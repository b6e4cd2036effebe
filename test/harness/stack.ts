import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { apiConfigFromEnv } from '../../api/config';
import type { JobView, ReportView, RunAccepted } from '../../common/schemas';
import { defaultPayloadConverter } from '@temporalio/common';
import { isTerminal, jobWorkflowId, type RunJobInput, type RunnerActivities, type WebhookRetry } from '../../common/contracts';
import type { Plan } from '../../common/tiers';
import { connect, type Db } from '../../db/connection';
import type { ProjectRow, SpecRow } from '../../db/rows';
import { createOrganization, createProject, createRunner, createSpec, createUser } from '../../db/seed';
import { buildAndPushImage, type ImageSpec } from '../../devenv/images';
import { waitFor } from '../../devenv/wait';
import { createOrchestratorWorker } from '../../orchestrator/worker';
import { createRunnerActivities } from '../../runner/activities/run-job';
import { RunnerApi } from '../../runner/api-client';
import { createSandboxExecutor } from '../../runner/executors/sandbox';
import type { Executor } from '../../runner/executors/executor';
import { detectHostTuning, type HostTuning } from '../../runner/host/tuning';
import { ImageCache } from '../../runner/images';
import { OutboundGuard, type OutboundPolicy } from '../../net/outbound';
import { createRunnerWorker } from '../../runner/worker';

// The SDK's info lines (worker state changes) drown test output; keep warnings and errors.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed by another test file in this worker process.
}

/** Read once per test process, as a runner daemon reads it once at start. */
let hostTuning: Promise<HostTuning> | undefined;

export interface StackOptions {
  plan?: Plan;
  heartbeatTimeoutSeconds?: number;
  queueLimitSeconds?: number;
  /** How often a job waiting for its tier's permit checks for holders that died (the api's setting). */
  permitCheckIntervalSeconds?: number;
  allowedRegistries?: string[];
  /** Where the orchestrator and runners may connect; default: a development server's policy (the run's registry is on loopback). */
  outbound?: OutboundPolicy;
  /** Registries anonymous submissions may name; default: the run's registry, as the server's own. */
  anonymousRegistries?: string[];
  /** Submissions per token / per IP per minute; high by default so files sharing 127.0.0.1 don't collide. */
  rateLimits?: { perToken: number; perIp: number };
  /** A migrated database of the stack's own (a cluster the test owns) instead of the run's shared one. */
  databaseUrl?: string;
  /**
   * The development topology: the api's client shares the orchestrator worker's connection and
   * starts job workflows eagerly (BENCHLINE_API_CONTROL_WORKER). Default: the production topology's
   * ordinary starts, on a connection of the api's own.
   */
  controlWorker?: boolean;
  /** How webhook deliveries are retried (the orchestrator's events and the api's redeliveries); default: the environment's. */
  webhookRetry?: WebhookRetry;
  /** False: no orchestrator worker in this process; the test runs one (e.g. orchestrator/main.ts as a child process) on `control-<id>`. */
  orchestrator?: boolean;
  /** The api's runner lease timeouts (short ones let a test see a crashed daemon replaced). */
  runnerLease?: { staleSeconds: number; stoppingSeconds: number };
}

export interface Tenant {
  project: string;
  /** Null for an unclaimed organization: its submissions are anonymous. */
  token: string | null;
}

export interface TestRunner {
  slug: string;
  token: string;
  /** The runner's api client, as its activities use it. */
  api: RunnerApi;
  worker: Worker;
  running: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Everything one test file needs, on the run's real services: the api listening on a free port,
 * an orchestrator worker, and runners — all on task queues unique to this stack so files running
 * in parallel never take each other's work. Seeds an organization, a member with a token, a
 * project and a spec the testbed `ci` uses.
 */
export class Stack {
  readonly id = randomBytes(4).toString('hex');
  db!: Db;
  client!: Client;
  app!: FastifyInstance;
  apiUrl!: string;
  userToken!: string;
  project!: ProjectRow;
  spec!: SpecRow;
  readonly registry = process.env.BENCHLINE_TEST_REGISTRY!;
  /** The run's registry is on loopback: by default the stack is a development server (BENCHLINE_ALLOW_PRIVATE_NETWORKS). */
  outbound: OutboundPolicy = { allowPrivateNetworks: true };
  private nativeConnection!: NativeConnection;
  private connection!: Connection;
  private orchestrator?: { worker: Worker; running: Promise<void> };
  private runners: TestRunner[] = [];
  private apiConfig!: Parameters<typeof buildApp>[0]['config'];
  private apiClient!: Client;

  static async start(options: StackOptions = {}): Promise<Stack> {
    const stack = new Stack();
    await stack.init(options);
    return stack;
  }

  private async init(options: StackOptions) {
    if (options.outbound) this.outbound = options.outbound;
    this.db = connect(options.databaseUrl ?? process.env.DATABASE_URL!, { min: 0, max: 5 });
    const org = await createOrganization(this.db, { slug: `org-${this.id}`, plan: options.plan ?? 'team' });
    const { token } = await createUser(this.db, { slug: `user-${this.id}`, organizationId: org.id });
    this.userToken = token;
    this.project = await createProject(this.db, { organizationId: org.id, slug: `project-${this.id}` });
    this.spec = await createSpec(this.db, { slug: `spec-${this.id}` });
    await this.db('testbed').insert({ project_id: this.project.id, slug: 'ci', name: 'ci', spec_id: this.spec.id });

    this.connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    this.client = new Client({ connection: this.connection });
    this.nativeConnection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    const controlTaskQueue = `control-${this.id}`;
    const fromEnv = apiConfigFromEnv();
    if (options.orchestrator !== false) {
      const orchestrator = await createOrchestratorWorker({
        connection: this.nativeConnection,
        db: this.db,
        taskQueue: controlTaskQueue,
        outbound: this.outbound,
        webhookRetry: options.webhookRetry,
        // The run's key (global-setup.ts), as a deployment's api and orchestrator share one.
        secretsKey: fromEnv.secretsKey,
        workflowBundle: { codePath: process.env.BENCHLINE_TEST_WORKFLOW_BUNDLE! },
      });
      this.orchestrator = { worker: orchestrator, running: orchestrator.run() };
    }
    this.apiClient = options.controlWorker ? new Client({ connection: this.nativeConnection }) : this.client;
    this.apiConfig = {
      ...fromEnv,
      // Tests pose as different source IPs through X-Forwarded-For.
      trustProxy: true,
      rateLimits: { perToken: 10000, perIp: 10000, windowSeconds: 60, ...options.rateLimits },
      allowedRegistries: options.allowedRegistries,
      anonymousRegistries: options.anonymousRegistries ?? [this.registry],
      controlTaskQueue,
      controlWorker: options.controlWorker ?? false,
      heartbeatTimeoutSeconds: options.heartbeatTimeoutSeconds ?? 30,
      queueLimitSeconds: options.queueLimitSeconds ?? 3600,
      permitCheckIntervalSeconds: options.permitCheckIntervalSeconds ?? 60,
      outbound: this.outbound,
      ...(options.webhookRetry ? { webhookRetry: options.webhookRetry } : {}),
      ...(options.runnerLease && { runnerLease: options.runnerLease }),
    };
    await this.startApi(0);
    const { port } = this.app.server.address() as { port: number };
    this.apiUrl = `http://127.0.0.1:${port}`;
  }

  /** Starts the api (again) on `port`, as a restarted replica behind the same address would be. */
  async startApi(port = Number(new URL(this.apiUrl).port)): Promise<void> {
    this.app = await buildApp({ db: this.db, temporal: this.apiClient, config: this.apiConfig, logger: false });
    await this.app.listen({ host: '127.0.0.1', port });
  }

  /** Stops the api: its port refuses connections until startApi. */
  async stopApi(): Promise<void> {
    await this.app.close();
  }

  /** The phase the job's running runJob last heartbeat (claiming, pulling, running, uploading…). */
  async heartbeatPhase(jobId: string): Promise<string | undefined> {
    const [activity] = (await this.client.workflow.getHandle(jobWorkflowId(jobId)).describe()).raw.pendingActivities ?? [];
    const details = activity?.heartbeatDetails?.payloads?.[0];
    return details ? defaultPayloadConverter.fromPayload<{ phase: string }>(details as Parameters<typeof defaultPayloadConverter.fromPayload>[0]).phase : undefined;
  }

  /** The runJob input Temporal delivered for the job's latest attempt: what only the dispatched runner knows. */
  async dispatched(jobId: string): Promise<RunJobInput> {
    await this.waitUntilScheduled(jobWorkflowId(jobId));
    const history = await this.client.workflow.getHandle(jobWorkflowId(jobId)).fetchHistory();
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runJob');
    const payload = scheduled[scheduled.length - 1].activityTaskScheduledEventAttributes!.input!.payloads![0];
    return defaultPayloadConverter.fromPayload<RunJobInput>(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
  }

  /** Another organization of the given plan (claimed unless said otherwise), with a project whose testbed `ci` uses this stack's spec. */
  async tenant(name: string, org: { plan: Plan; claimed?: boolean }): Promise<Tenant> {
    const slug = `${name}-${this.id}`;
    const organization = await createOrganization(this.db, { slug, plan: org.plan, claimed: org.claimed ?? true });
    const project = await createProject(this.db, { organizationId: organization.id, slug, visibility: 'public' });
    await this.db('testbed').insert({ project_id: project.id, slug: 'ci', name: 'ci', spec_id: this.spec.id });
    if (org.claimed === false) return { project: slug, token: null };
    const { token } = await createUser(this.db, { slug: `u-${slug}`, organizationId: organization.id });
    return { project: slug, token };
  }

  /** Submits to any tenant's project, optionally from a given source IP; returns the raw response. */
  async submitAs(tenant: Tenant, job: Record<string, unknown>, sourceIp?: string): Promise<{ status: number; body: RunAccepted; headers: Headers }> {
    const response = await fetch(`${this.apiUrl}/v0/run`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(tenant.token ? { authorization: `Bearer ${tenant.token}` } : {}),
        ...(sourceIp ? { 'x-forwarded-for': sourceIp } : {}),
      },
      body: JSON.stringify({ project: tenant.project, branch: 'main', testbed: 'ci', adapter: 'json', job }),
    });
    return { status: response.status, body: (await response.json()) as RunAccepted, headers: response.headers };
  }

  /** Waits until the job's workflow has scheduled one of `activities`: by default runJob (the job then waits for a runner). */
  waitUntilScheduled(workflowId: string, activities: string[] = ['runJob']): Promise<true> {
    return waitFor(`${workflowId} to schedule ${activities.join(' or ')}`, async () => {
      const history = await this.client.workflow.getHandle(workflowId).fetchHistory();
      return history.events!.some((e) => activities.includes(e.activityTaskScheduledEventAttributes?.activityType?.name ?? '')) || undefined;
    }, 30000, 200);
  }

  /** A runner for this stack's spec, polling its queue in this process. */
  async startRunner(
    options: { executor?: Executor; slug?: string; organizationId?: string; wrap?: (a: RunnerActivities) => RunnerActivities; apiOutageWindowSeconds?: number } = {},
  ): Promise<TestRunner> {
    const slug = options.slug ?? `runner-${this.id}-${this.runners.length + 1}`;
    const { token } = await createRunner(this.db, { slug, specIds: [this.spec.id], organizationId: options.organizationId });
    const api = new RunnerApi(this.apiUrl, slug, token, { outageWindowSeconds: options.apiOutageWindowSeconds });
    const registered = await api.register({ version: 'test', executor: 'sandbox', host: {} });
    const cache = process.env.BENCHLINE_TEST_SCRATCH!;
    // One connection per runner, as separate runner processes would have (the SDK also refuses two
    // workers on one queue over a single connection).
    const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    const worker = await createRunnerWorker({
      connection,
      taskQueue: registered.specs[0].task_queue,
      activities: (options.wrap ?? ((a) => a))(
        createRunnerActivities({
          api,
          images: new ImageCache(join(cache, 'images'), new OutboundGuard(this.outbound)),
          executor: options.executor ?? createSandboxExecutor(),
          scratchRoot: join(cache, 'jobs'),
          host: { tuning: await (hostTuning ??= detectHostTuning()) },
          // As the daemon does: a runner the api refuses stops taking work.
          onRunnerRefused: () => worker.shutdown(),
        }),
      ),
      shutdownGraceTime: '1s',
    });
    const running = worker.run();
    let stopped: Promise<void> | undefined;
    const runner: TestRunner = {
      slug,
      token,
      api,
      worker,
      running,
      stop: () => (stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
      })()),
    };
    this.runners.push(runner);
    return runner;
  }

  /** Builds a busybox image, pushes it to the run's registry under a name unique to this stack. */
  async pushImage(name: string, spec: Omit<ImageSpec, 'reference'>): Promise<string> {
    const reference = `${this.registry}/${this.id}/${name}:latest`;
    await buildAndPushImage({ ...spec, reference });
    return reference;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, token: string | null = this.userToken): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** Submits a job for this stack's project (branch main, testbed ci) and expects 202. */
  async submit(job: Record<string, unknown>): Promise<RunAccepted> {
    const response = await this.submitAs({ project: this.project.slug, token: this.userToken }, job);
    if (response.status !== 202) throw new Error(`submit: HTTP ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** The job as the api shows it, under whichever project (of any tenant) it belongs to. */
  async job(jobId: string): Promise<JobView> {
    const { slug } = await this.db('job').join('project', 'project.id', 'job.project_id').where('job.id', jobId).first('project.slug');
    const response = await this.request<JobView>('GET', `/v0/projects/${slug}/jobs/${jobId}`);
    if (response.status !== 200) throw new Error(`job: HTTP ${response.status}`);
    return response.body;
  }

  async report(reportId: string): Promise<ReportView> {
    const { slug } = await this.db('report').join('project', 'project.id', 'report.project_id').where('report.id', reportId).first('project.slug');
    return (await this.request<ReportView>('GET', `/v0/projects/${slug}/reports/${reportId}`)).body;
  }

  /** Waits until the job reaches a terminal status (or `until` holds) and returns it. */
  waitForJob(jobId: string, until: (job: JobView) => boolean = (j) => isTerminal(j.status), timeoutMs = 60000): Promise<JobView> {
    return waitFor(`job ${jobId}`, async () => {
      const job = await this.job(jobId);
      return until(job) ? job : undefined;
    }, timeoutMs, 200);
  }

  /**
   * How a workflow closed, once it has: a job's or pipeline's row settles in the workflow's last
   * activity, just before the workflow itself ends, so a status read from the API says nothing yet
   * about the workflow.
   */
  closedStatus(workflowId: string, timeoutMs = 30000): Promise<string> {
    return waitFor(`${workflowId} to close`, async () => {
      const { status } = await this.client.workflow.getHandle(workflowId).describe();
      return status.name === 'RUNNING' ? undefined : status.name;
    }, timeoutMs, 100);
  }

  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
    this.orchestrator?.worker.shutdown();
    await this.orchestrator?.running;
    await this.app.close();
    await this.nativeConnection.close();
    await this.connection.close();
    await this.db.destroy();
  }
}
