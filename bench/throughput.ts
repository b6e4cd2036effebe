/**
 * Throughput: a burst of submissions (1,000 by default, 24 in flight) at the api, with two sandbox
 * runners on the spec's queue, on the product as separate OS processes (bench/chaos-stack.ts): api,
 * orchestrator, Temporal dev server and Postgres all on this machine. Measured in both topologies:
 * separate api and control worker (production), and the api hosting a control worker with eager
 * workflow start (development; the orchestrator polls the control queue beside it).
 *
 * Reports accepted submissions/s, how fast job workflows reach the runner queue (runJob scheduled),
 * the control-plane backlog 1 s after the last submission was answered, and statements per submission
 * (pg_stat_statements, by the api's own database role; BEGIN/COMMIT included).
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import { runnerTaskQueue } from '../common/contracts';
import { startChaosStack, Teardown, type ChaosStack } from './chaos-stack';
import { runBench } from './services';
import { summary } from './stats';

const JOBS = Number(process.env.BENCH_THROUGHPUT_JOBS ?? 1000);
const IN_FLIGHT = Number(process.env.BENCH_THROUGHPUT_CONCURRENCY ?? 24);
/** Each job sleeps this long on its runner: the two runners hold a job each and stay out of the way. */
const JOB_SLEEP_SECONDS = 600;
const BASELINE = 'before issue 9: 39–77 accepted/s, 21–42 workflows/s to the runner queue, backlog left';
const TARGET = 'target: ≥ 150 accepted/s, no control-plane backlog 1 s after the last submission';

interface Sample {
  at: number;
  accepted: number;
  /** Jobs whose runJob is scheduled: waiting on the runner queue, or taken by a runner. */
  dispatched: number;
}

interface BurstResult {
  topology: string;
  accepted: number;
  refused: number;
  seconds: number;
  latencies: number[];
  samples: Sample[];
  backlogAfter1s: number;
  drainedAfterMs?: number;
  statements: Record<string, number>;
  /** CPU seconds each process spent during the burst (and the second after it). */
  cpu: Record<string, number>;
}

export async function throughputBenchmark(): Promise<void> {
  const results = [
    await burst('separate api and control worker', {}),
    await burst('api + control worker, eager start', { BENCHLINE_API_CONTROL_WORKER: 'true' }),
  ];
  console.log(`\nThroughput: ${JOBS} submissions, ${IN_FLIGHT} in flight, two runners present (${TARGET}; ${BASELINE})`);
  console.log(`  ${'topology'.padEnd(36)} ${'accepted/s'.padStart(10)} ${'to runner q/s'.padStart(13)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'backlog@+1s'.padStart(11)} ${'drained'.padStart(9)} ${'stmts/sub'.padStart(9)}`);
  for (const r of results) {
    const lat = summary(r.latencies);
    console.log(
      `  ${r.topology.padEnd(36)} ${(r.accepted / r.seconds).toFixed(0).padStart(10)} ${dispatchRate(r).toFixed(0).padStart(13)} ${`${lat.p50.toFixed(0)}ms`.padStart(8)} ${`${lat.p99.toFixed(0)}ms`.padStart(8)} ${String(r.backlogAfter1s).padStart(11)} ${(r.drainedAfterMs === undefined ? 'no' : `+${(r.drainedAfterMs / 1000).toFixed(1)}s`).padStart(9)} ${(r.statements.api / r.accepted).toFixed(1).padStart(9)}`,
    );
    if (r.refused) console.log(`    ${r.refused} submissions were refused`);
  }
  console.log('  (p50/p99: each submission\'s response time; drained: when the last accepted job\'s runJob was scheduled, after the last answer)');
  console.log('\nWhere the CPU goes: CPU ms per accepted submission, by process, over the burst and the second after it (two cores: ~13 ms/submission is 150/s)');
  const names = Object.keys(results[0].cpu);
  console.log(`  ${'topology'.padEnd(36)} ${names.map((n) => n.padStart(12)).join('')} ${'total'.padStart(8)}`);
  for (const r of results) {
    const per = (n: string) => (r.cpu[n] * 1000) / r.accepted;
    console.log(`  ${r.topology.padEnd(36)} ${names.map((n) => per(n).toFixed(1).padStart(12)).join('')} ${names.reduce((t, n) => t + per(n), 0).toFixed(1).padStart(8)}`);
  }
  console.log('\nStatements during the burst, by database role (pg_stat_statements; BEGIN/COMMIT count; the api also served the runners\' few claims)');
  for (const r of results) {
    const per = (role: string) => ((r.statements[role] ?? 0) / r.accepted).toFixed(2);
    console.log(`  ${r.topology.padEnd(36)} api ${per('api')}/submission, orchestrator ${per('orchestrator')}/job until dispatch (before issue 9: 19 + 12)`);
  }
}

/** Workflows that reached the runner queue per second, from the first submission to the last dispatch seen. */
function dispatchRate(r: BurstResult): number {
  const last = r.samples.find((s) => s.dispatched >= r.accepted) ?? r.samples[r.samples.length - 1];
  return last.dispatched / ((last.at - r.samples[0].at) / 1000);
}

async function burst(topology: string, apiEnv: NodeJS.ProcessEnv): Promise<BurstResult> {
  const teardown = new Teardown();
  const logDir = await mkdtemp(join(tmpdir(), 'benchline-throughput-'));
  try {
    const stack = await startChaosStack({
      runnerCount: 2,
      logDir,
      teardown,
      onCrash: (service, how) => console.error(`${service.name} crashed (${how}); see ${logDir}`),
      postgresSettings: ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track_utility=on'],
      apiEnv,
      rolePerService: true,
    });
    await stack.db.raw('create extension if not exists pg_stat_statements');
    const queue = queueStats(stack);
    // Warm: the runner's image cached, the api's and the workers' connections open.
    const warm = await submit(stack, 'warm');
    await waitFor(async () => (await stack.db('job').where({ id: warm.job }).first('status')).status !== 'pending', 120000);
    await stack.db.raw('select pg_stat_statements_reset()');
    const [pendingBefore, takenBefore] = [await queue.backlog(), await taken(stack)];

    const groups = {
      api: stack.api.pid!,
      orchestrator: stack.orchestrator.pid!,
      temporal: stack.temporalServer.pid!,
      postgres: stack.postgres.pid!,
      runners: stack.runners.map((r) => r.pid!),
      registry: stack.registryPid!,
    };
    const cpuBefore = await cpuSeconds(groups);
    const benchBefore = process.cpuUsage();
    const samples: Sample[] = [];
    let accepted = 0;
    let refused = 0;
    const latencies: number[] = [];
    let sampling = true;
    const started = performance.now();
    const sampler = (async () => {
      while (sampling) {
        const dispatched = (await queue.backlog()) - pendingBefore + (await taken(stack)) - takenBefore;
        samples.push({ at: performance.now(), accepted, dispatched });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = next++; i < JOBS; i = next++) {
          const t0 = performance.now();
          const answer = await submit(stack, `burst-${i}`).catch(() => undefined);
          latencies.push(performance.now() - t0);
          if (answer) accepted++;
          else refused++;
        }
      }),
    );
    const lastAnswer = performance.now();
    const seconds = (lastAnswer - started) / 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, lastAnswer + 1000 - performance.now())));
    const backlogAfter1s = accepted - ((await queue.backlog()) - pendingBefore + (await taken(stack)) - takenBefore);
    const cpuAfter = await cpuSeconds(groups);
    const bench = process.cpuUsage(benchBefore);
    const cpu = { ...Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, cpuAfter[k] - cpuBefore[k]])), 'this script': (bench.user + bench.system) / 1e6 };
    const drained = await waitFor(async () => samples[samples.length - 1].dispatched >= accepted, 60000).then(
      () => samples.find((s) => s.dispatched >= accepted)!.at - lastAnswer,
      () => undefined,
    );
    sampling = false;
    await sampler;
    const { rows } = await stack.db.raw('select r.rolname as role, sum(s.calls)::int as calls from pg_stat_statements s join pg_roles r on r.oid = s.userid group by r.rolname');
    const statements = Object.fromEntries((rows as { role: string; calls: number }[]).map((r) => [r.role, r.calls]));
    return { topology, accepted, refused, seconds, latencies, samples, backlogAfter1s, drainedAfterMs: drained, statements, cpu };
  } finally {
    await teardown.run();
  }
}

async function submit(stack: ChaosStack, name: string): Promise<{ job: string }> {
  const response = await fetch(`${stack.apiUrl}/v0/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.userToken}` },
    body: JSON.stringify({ project: stack.project, branch: 'main', testbed: 'ci', adapter: 'json', idempotency_key: name, job: { image: stack.image, env: { CHAOS_SLEEP: String(JOB_SLEEP_SECONDS) } } }),
  });
  if (response.status !== 202) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return (await response.json()) as { job: string };
}

/** Jobs a runner took (claimed, running or done). */
async function taken(stack: ChaosStack): Promise<number> {
  const [{ count }] = await stack.db('job').whereNot({ status: 'pending' }).count<{ count: string }[]>({ count: '*' });
  return Number(count);
}

/** The runner queue's waiting runJob tasks, from Temporal's task-queue statistics. */
function queueStats(stack: ChaosStack) {
  return {
    async backlog(): Promise<number> {
      const { stats } = await stack.temporal.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: runnerTaskQueue('chaos') },
        taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        reportStats: true,
      });
      return Number(stats?.approximateBacklogCount ?? 0);
    },
  };
}

/**
 * CPU seconds (user + system) of each named process with everything it started: its process group
 * (a service's) and its children (Postgres's backends each start a session of their own).
 */
async function cpuSeconds(groups: Record<string, number | number[]>): Promise<Record<string, number>> {
  const processes: { pid: number; ppid: number; pgrp: number; ticks: number }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (!stat) continue;
    // Fields after the command name, which may hold spaces: state, ppid, pgrp, … utime (11), stime (12).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    processes.push({ pid: Number(entry), ppid: Number(fields[1]), pgrp: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) });
  }
  // Linux's USER_HZ: 100 ticks a second.
  const of = (leader: number) => processes.filter((p) => p.pid === leader || p.pgrp === leader || p.ppid === leader).reduce((t, p) => t + p.ticks, 0) / 100;
  return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, [pids].flat().reduce((t, pid) => t + of(pid), 0)]));
}

async function waitFor(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// `npx tsx bench/throughput.ts`: this benchmark alone (BENCH_THROUGHPUT_JOBS, BENCH_THROUGHPUT_CONCURRENCY).
if (require.main === module) runBench(throughputBenchmark);
