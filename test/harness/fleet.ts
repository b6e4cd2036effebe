import { randomUUID } from 'node:crypto';
import { reportedBuild } from '../../common/build-info';
import { waitFor } from '../../devenv/wait';
import { startRunnerProcess, type RunnerProcess } from './runner-process';

/** One sample of a Prometheus metric from the api's /metrics (a loopback scrape), or undefined when absent. */
export async function metricValue(apiUrl: string, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  for (const line of text.split('\n')) {
    const match = line.match(/^(\w+)(?:\{(.*)\})? (\S+)$/);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** A daemon that exited, or one that polls (then still running). */
export async function settled(daemon: RunnerProcess, timeoutMs = 90000): Promise<'polling' | 'exited'> {
  return waitFor(`runner daemon ${daemon.child.pid} to poll or exit`, async () => {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return 'exited' as const;
    return daemon.output().includes('polling') ? ('polling' as const) : undefined;
  }, timeoutMs, 100);
}

/**
 * What a supervisor (systemd's Restart=on-failure, a container restart policy) does with a daemon
 * refused the lease: starts it again, until one runs. Returns the one that runs and the refusals.
 */
export async function superviseUntilRunning(options: Parameters<typeof startRunnerProcess>[0], timeoutMs = 120000): Promise<{ daemon: RunnerProcess; refused: RunnerProcess[] }> {
  const refused: RunnerProcess[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const daemon = await startRunnerProcess({ ...options, waitForPolling: false });
    if ((await settled(daemon)) === 'polling') return { daemon, refused };
    refused.push(daemon);
    // A supervisor's restart delay.
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no daemon of ${options.runner} took over within ${timeoutMs} ms`);
}

/** A complete registration body, as a daemon sends it (runner/api-client.ts), for tests that post it raw. */
export function registrationBody(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { version: '1', executor: 'sandbox', host: {}, instance: randomUUID(), hostname: 'test-host', pid: process.pid, build: reportedBuild(), ...fields };
}
