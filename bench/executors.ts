/**
 * Executors side by side:
 * 1. Start latency: runJob starting on the runner → the benchmark command starting inside the
 *    sandbox or the guest (the microVM's init reports that moment over its channel), through the
 *    whole stack, image already cached.
 * 2. CPU overhead: one fixed CPU-bound command (sha256 of 8 MiB of zeros, busybox) timed inside
 *    each executor and on the bare host; the ratio is the overhead. Under TCG (no working KVM)
 *    the guest emulates the CPU, so expect a large factor; with KVM it should be near 1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboundGuard } from '../net/outbound';
import { ImageCache } from '../runner/images';
import type { Executor } from '../runner/executors/executor';
import { createMicrovmExecutor } from '../runner/executors/microvm';
import { createSandboxExecutor } from '../runner/executors/sandbox';
import type { Stack } from '../test/harness/stack';
import { printRows, summary } from './stats';

const START_RUNS = Number(process.env.BENCH_EXECUTOR_RUNS ?? 10);
const CPU_RUNS = 5;
const CPU_COMMAND = ['/bin/sh', '-c', 'dd if=/dev/zero bs=1048576 count=8 2>/dev/null | sha256sum >/dev/null'];

export async function executorBenchmark(stack: Stack): Promise<void> {
  const microvm = await createMicrovmExecutor({ cacheDir: join(process.env.BENCHLINE_TEST_SCRATCH!, 'microvm') });
  const executors: Executor[] = [createSandboxExecutor(), microvm];
  const accel = String(microvm.describe().accel);

  const image = await stack.pushImage('cpu', { entrypoint: CPU_COMMAND });
  const startRows: [string, ReturnType<typeof summary>][] = [];
  for (const executor of executors) startRows.push([label(executor, accel), summary(await startLatencies(stack, executor, image))]);
  printRows(`Start latency, runJob start → command starts inside (${START_RUNS} jobs each, image cached)`, startRows);

  const cached = await new ImageCache(mkdtempSync(join(tmpdir(), 'bench-images-')), new OutboundGuard(stack.outbound)).ensure(await locate(stack, image));
  const host = cpuOnHost(cached.rootfs);
  const cpuRows: [string, ReturnType<typeof summary>][] = [['bare host', summary(host)]];
  for (const executor of executors) cpuRows.push([label(executor, accel), summary(await cpuInside(executor, cached))]);
  printRows(`CPU-bound command (sha256 of 8 MiB), wall time of the command itself (${CPU_RUNS} runs each)`, cpuRows);
  const hostMedian = summary(host).p50;
  console.log(`  overhead vs bare host (p50): ${cpuRows.slice(1).map(([name, s]) => `${name} ×${(s.p50 / hostMedian).toFixed(2)}`).join(', ')}`);
}

const label = (executor: Executor, accel: string) => (executor.name === 'microvm' ? `microvm (qemu, ${accel})` : 'sandbox (bubblewrap)');

async function startLatencies(stack: Stack, executor: Executor, image: string): Promise<number[]> {
  const runJobStart = new Map<string, number>();
  const commandStart = new Map<string, number>();
  const timed: Executor = {
    name: executor.name,
    describe: () => executor.describe(),
    run: (req) =>
      executor.run({
        ...req,
        onPhase: (phase) => {
          if (phase === 'running') commandStart.set(req.jobId, performance.now());
          req.onPhase?.(phase);
        },
      }),
  };
  const runner = await stack.startRunner({
    executor: timed,
    wrap: (activities) => ({
      runJob: (input) => {
        runJobStart.set(input.jobId, performance.now());
        return activities.runJob(input);
      },
    }),
  });
  try {
    await stack.waitForJob((await stack.submit({ image })).job); // warm the image cache
    const latencies: number[] = [];
    for (let i = 0; i < START_RUNS; i++) {
      const { job } = await stack.submit({ image });
      await stack.waitForJob(job);
      latencies.push(commandStart.get(job)! - runJobStart.get(job)!);
    }
    return latencies;
  } finally {
    await runner.stop();
  }
}

async function locate(stack: Stack, image: string) {
  const [registry, ...rest] = image.split('/');
  const repository = rest.join('/').replace(/:latest$/, '');
  const digest = (await stack.db('job').whereNotNull('image_digest').whereRaw("config->>'image' = ?", [image]).first('image_digest')).image_digest;
  return { registry, repository, digest };
}

function cpuOnHost(rootfs: string): number[] {
  // The image's own busybox applets, so the host runs exactly the code the guests run.
  const bin = join(rootfs, 'bin');
  const samples: number[] = [];
  for (let i = 0; i < CPU_RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(join(bin, 'sh'), CPU_COMMAND.slice(1), { env: { PATH: bin } });
    if (r.status !== 0) throw new Error(`host run failed: ${r.stderr}`);
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function cpuInside(executor: Executor, image: Awaited<ReturnType<ImageCache['ensure']>>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < CPU_RUNS; i++) {
    const scratchDir = mkdtempSync(join(tmpdir(), 'bench-scratch-'));
    const result = await executor.run({
      jobId: `bench-${executor.name}-${i}`,
      rootfs: image.rootfs,
      imageKey: image.key,
      argv: CPU_COMMAND,
      env: { PATH: '/bin' },
      cwd: '/',
      timeoutMs: 600000,
      filePaths: [],
      resources: { cpus: 1, memoryMiB: 256 },
      scratchDir,
      signal: new AbortController().signal,
    });
    rmSync(scratchDir, { recursive: true, force: true });
    if (result.exitCode !== 0) throw new Error(`${executor.name} run failed: ${result.error ?? result.stderr.toString()}`);
    samples.push(result.durationMs);
  }
  return samples;
}
