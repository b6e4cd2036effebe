import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from './wait';

export interface RunningRegistry {
  /** host:port, usable in image references. */
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Debian's docker-registry (CNCF distribution) on loopback, storing under `dataDir`. With `htpasswd`
 * (a bcrypt htpasswd file) it is a private registry that wants basic auth. With `adopt`, it runs in
 * its own process group (a terminal's Ctrl-C doesn't reach it) and is handed to `adopt` the moment
 * it is spawned, for a caller that stops it itself even while it is still starting.
 */
export async function startRegistry(dataDir: string, port: number, options: { htpasswd?: string; adopt?: (child: ChildProcess) => void } = {}): Promise<RunningRegistry> {
  await mkdir(join(dataDir, 'storage'), { recursive: true });
  const configPath = join(dataDir, 'config.yml');
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${join(dataDir, 'storage')} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${port} }`,
      ...(options.htpasswd ? [`auth: { htpasswd: { realm: benchline, path: ${options.htpasswd} } }`] : []),
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'], detached: Boolean(options.adopt) });
  options.adopt?.(child);
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += b));
  const address = `127.0.0.1:${port}`;
  await waitFor(`registry on ${address}`, async () => {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr.trim()}`);
    // 401 is an answer too: a private registry is up.
    const { status } = await fetch(`http://${address}/v2/`);
    return status === 200 || status === 401;
  });
  return { address, process: child, stop: () => stopProcess(child) };
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}
