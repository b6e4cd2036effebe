/**
 * `npm run chaos`: figures, printed, never asserted. Submits short jobs through the HTTP API to the
 * whole product running as separate OS processes, SIGKILLs each process in turn while they run
 * (orchestrator, api, a runner mid-benchmark, the Temporal dev server, the Postgres cluster),
 * restarts it on the same data, then counts what was lost, stuck, failed (by cause), run twice,
 * and where the job rows and the workflows disagree.
 *
 * Flags (or environment):
 *   --jobs      CHAOS_JOBS                   100  jobs, in one batch per kill plus one after the last
 *   --runners   CHAOS_RUNNERS                2
 *   --kills     CHAOS_KILLS                  orchestrator,api,runner,temporal,postgres (any order, subset, repeats)
 *   --down      CHAOS_DOWN_SECONDS           5    how long a killed process stays down
 *   --interval  CHAOS_KILL_INTERVAL_SECONDS  10   from a restart to the next kill
 *   --settle    CHAOS_SETTLE_SECONDS         300  how long to wait for every job to end after the last kill
 * Other settings reach the product's processes through the environment (e.g.
 * BENCHLINE_HEARTBEAT_TIMEOUT_SECONDS). Logs stay in .data/chaos/<time>/.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_DIR } from '../devenv/paths';
import { waitFor } from '../devenv/wait';
import { processesMatching } from '../test/harness/processes';
import { finalOutcomes, printReport, withoutIds, unsettled, type Crash, type Kill, type RunFacts, type Submission } from './chaos-report';
import type { Service } from './chaos-services';
import { startChaosStack, Teardown, type ChaosStack } from './chaos-stack';

const TARGETS = ['orchestrator', 'api', 'runner', 'temporal', 'postgres'] as const;
type Target = (typeof TARGETS)[number];

function options() {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string' },
      runners: { type: 'string' },
      kills: { type: 'string' },
      down: { type: 'string' },
      interval: { type: 'string' },
      settle: { type: 'string' },
    },
  });
  const num = (flag: keyof typeof values, env: string, fallback: number) => {
    const raw = values[flag] ?? process.env[env];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} (${env}) must be a non-negative number, got "${raw}"`);
    return n;
  };
  const kills = (values.kills ?? process.env.CHAOS_KILLS ?? TARGETS.join(',')).split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kills.filter((k) => !(TARGETS as readonly string[]).includes(k));
  if (unknown.length) throw new Error(`--kills (CHAOS_KILLS) takes ${TARGETS.join(', ')}; got ${unknown.join(', ')}`);
  const jobs = Math.max(1, num('jobs', 'CHAOS_JOBS', 100));
  const downMs = num('down', 'CHAOS_DOWN_SECONDS', 5) * 1000;
  const intervalMs = num('interval', 'CHAOS_KILL_INTERVAL_SECONDS', 10) * 1000;
  return {
    jobs,
    runners: Math.max(1, num('runners', 'CHAOS_RUNNERS', 2)),
    kills: kills as Target[],
    downMs,
    intervalMs,
    settleMs: num('settle', 'CHAOS_SETTLE_SECONDS', 300) * 1000,
  };
}

/** Set once the run is over or interrupted: from then on nothing is restarted. */
let stopping = false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const startedAt = Date.now();
const say = (message: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${message}`);

/**
 * Submits one job as CI would: retried with the same idempotency key on anything but a final
 * refusal (connection errors, 5xx, 429), until accepted or `deadline`.
 */
async function submit(stack: ChaosStack, index: number, submission: Submission, answers: string[], deadline: number): Promise<void> {
  const body = JSON.stringify({
    project: stack.project,
    branch: 'main',
    testbed: 'ci',
    adapter: 'json',
    idempotency_key: submission.key,
    // One, one and a half or two seconds of benchmark.
    job: { image: stack.image, env: { CHAOS_SLEEP: String(1 + (index % 3) / 2) }, timeout: 60 },
  });
  for (let attempt = 0; ; attempt++) {
    submission.attempts += 1;
    let answer: string;
    try {
      const response = await fetch(`${stack.apiUrl}/v0/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.userToken}` },
        body,
        signal: AbortSignal.timeout(15000),
      });
      const text = await response.text();
      if (response.status === 202) {
        const { job } = JSON.parse(text) as { job: string };
        if (!submission.accepted.includes(job)) submission.accepted.push(job);
        return;
      }
      answer = `HTTP ${response.status} ${text.slice(0, 160)}`;
      if (response.status < 500 && response.status !== 429 && response.status !== 408) {
        submission.refused = answer;
        answers.push(withoutIds(answer));
        return;
      }
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      answer = `${(err as Error).name === 'TimeoutError' ? 'no answer within 15s' : (err as Error).message}${code ? `: ${code}` : ''}`;
    }
    answers.push(withoutIds(answer));
    if (Date.now() > deadline) {
      submission.gaveUp = answer;
      return;
    }
    await sleep(Math.min(500 * 2 ** attempt, 5000));
  }
}

/** Starts `service` again, retrying while what it depends on is still coming back. */
async function restart(service: Service, deadline: number): Promise<void> {
  for (;;) {
    try {
      return await service.start();
    } catch (err) {
      if (Date.now() > deadline || stopping) throw err;
      say(`${service.name} did not start (${(err as Error).message.split('\n')[0]}); trying again`);
      await sleep(2000);
    }
  }
}

/**
 * The runner whose job's benchmark command is running right now (its sandbox process is alive), and
 * that job; waits up to a minute for one.
 */
async function runnerMidBenchmark(stack: ChaosStack): Promise<{ runner: Service; job: string } | undefined> {
  return waitFor('a runner with a benchmark running', async () => {
    const running: { id: string; slug: string }[] = await stack.db('job')
      .join('runner', 'runner.id', 'job.runner_id')
      .where('job.status', 'running')
      .select('job.id', 'runner.slug');
    for (const { id, slug } of running) {
      const runner = stack.runners.find((r) => r.name === slug);
      if (runner && processesMatching('bwrap', `/${id}-`).length > 0) return { runner, job: id };
    }
    return undefined;
  }, 60000, 200).catch(() => undefined);
}

async function killAndRestart(stack: ChaosStack, target: Target, downMs: number): Promise<Kill> {
  const services: Record<Exclude<Target, 'runner'>, Service> = {
    orchestrator: stack.orchestrator,
    api: stack.api,
    temporal: stack.temporalServer,
    postgres: stack.postgres,
  };
  let service: Service;
  const kill: Kill = { target, at: 0 };
  if (target === 'runner') {
    const victim = await runnerMidBenchmark(stack);
    if (!victim) return { ...kill, note: 'skipped: no benchmark was running within a minute' };
    service = victim.runner;
    kill.victimJob = victim.job;
    kill.note = `${victim.runner.name}, running job ${victim.job}`;
  } else {
    service = services[target];
  }
  kill.at = Date.now();
  await service.kill();
  say(`SIGKILLed ${service.name}${kill.victimJob ? ` (job ${kill.victimJob} was running on it)` : ''}; restarting in ${downMs / 1000}s`);
  await sleep(downMs);
  try {
    await restart(service, Date.now() + 180000);
    kill.readyAt = Date.now();
    say(`${service.name} serving again, ${((kill.readyAt - kill.at) / 1000).toFixed(1)}s after the kill`);
  } catch (err) {
    kill.error = (err as Error).message;
    say(`${service.name} could not be restarted: ${kill.error}`);
  }
  return kill;
}

async function main() {
  const opts = options();
  const teardown = new Teardown();
  const stopOnSignal = (signal: NodeJS.Signals) => {
    stopping = true;
    say(`${signal}: stopping everything this run started`);
    void teardown.run().then(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const logDir = join(DATA_DIR, 'chaos', new Date().toISOString().replace(/[:.]/g, '-'));
  const crashes: Crash[] = [];
  let stack: ChaosStack | undefined;
  const onCrash = (service: Service, how: string) => {
    if (stopping) return;
    crashes.push({ service: service.name, how, at: Date.now() });
    // As a process supervisor would: bring it back.
    say(`${service.name} crashed by itself (${how}); restarting it`);
    void restart(service, Date.now() + 180000).catch((err) => say(`${service.name} could not be restarted: ${(err as Error).message}`));
  };

  try {
    say(`starting Postgres, Temporal, a registry, the api, the orchestrator and ${opts.runners} runners (logs: ${logDir})`);
    stack = await startChaosStack({ runnerCount: opts.runners, logDir, teardown, onCrash });
    const chaosStartedAt = Date.now();
    say(`submitting ${opts.jobs} jobs while killing ${opts.kills.join(', ')}`);

    const submissions: Submission[] = Array.from({ length: opts.jobs }, (_, i) => ({ key: `chaos-${startedAt}-${i}`, accepted: [], attempts: 0 }));
    const answers: string[] = [];
    // CI keeps retrying for a while, not forever: long enough to outlast any planned outage.
    const retryForMs = 180000;
    // One batch of jobs per kill and one after the last: each arrives over the run-up to its kill and
    // the outage itself, so every kill meets queued, running and arriving work alike.
    const batches = opts.kills.length + 1;
    const spreadMs = opts.intervalMs + opts.downMs;
    const pending: Promise<void>[] = [];
    const submitBatch = (batch: number) => {
      const indices = submissions.map((_, i) => i).filter((i) => i % batches === batch);
      indices.forEach((i, n) =>
        pending.push(
          (async () => {
            await sleep((n * spreadMs) / indices.length);
            await submit(stack!, i, submissions[i], answers, Date.now() + retryForMs);
          })(),
        ),
      );
    };
    const kills: Kill[] = [];
    for (const [batch, target] of opts.kills.entries()) {
      submitBatch(batch);
      await sleep(opts.intervalMs);
      kills.push(await killAndRestart(stack, target, opts.downMs));
    }
    submitBatch(opts.kills.length);
    await Promise.all(pending);

    const ids = [...new Set(submissions.flatMap((x) => x.accepted))];
    const settleDeadline = Date.now() + opts.settleMs;
    let lastSaid = 0;
    for (;;) {
      const open = await unsettled(stack.db, ids).catch(() => undefined);
      const left = open ? [...open.values()].reduce((a, b) => a + b, 0) : undefined;
      if (left === 0 || Date.now() > settleDeadline) break;
      if (Date.now() - lastSaid > 15000) {
        say(`waiting for ${left ?? '?'} jobs to end${open ? ` (${[...open].map(([st, n]) => `${st} ${n}`).join(', ')})` : ''}`);
        lastSaid = Date.now();
      }
      await sleep(2000);
    }
    say('measuring');
    const jobs = await finalOutcomes(stack.db, stack.temporal, stack.startsLog, ids);
    const facts: RunFacts = { jobs: opts.jobs, runners: opts.runners, downSeconds: opts.downMs / 1000, startedAt, chaosStartedAt, submissions, answers, kills, crashes, logDir };
    stopping = true;
    printReport(facts, jobs);
  } finally {
    stopping = true;
    say('stopping everything this run started');
    await teardown.run();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
