import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../devenv/paths';
import { waitFor } from '../../devenv/wait';

export interface RunnerProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code once it exits. */
  exited: Promise<number | null>;
}

/** A real runner daemon process (runner/main.ts), as on a bare-metal host; resolves once it polls (or exits). */
export async function startRunnerProcess(options: { apiUrl: string; runner: string; token: string; env?: Record<string, string>; waitForPolling?: boolean }): Promise<RunnerProcess> {
  const child = spawn(process.execPath, ['--require', join(ROOT, 'node_modules/tsx/dist/cjs/index.cjs'), join(ROOT, 'runner/main.ts')], {
    env: {
      ...process.env,
      BENCHLINE_API_URL: options.apiUrl,
      BENCHLINE_RUNNER: options.runner,
      BENCHLINE_RUNNER_TOKEN: options.token,
      BENCHLINE_CACHE_DIR: join(process.env.BENCHLINE_TEST_SCRATCH!, options.runner),
      // The run's registry is on loopback.
      BENCHLINE_ALLOW_PRIVATE_NETWORKS: '1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (b) => (output += b));
  child.stderr!.on('data', (b) => (output += b));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (options.waitForPolling !== false) {
    await waitFor(`runner process ${options.runner}`, async () => {
      if (child.exitCode !== null) throw new Error(`runner exited: ${output}`);
      return output.includes('polling') || undefined;
    }, 60000, 100);
  }
  return { child, output: () => output, exited };
}
