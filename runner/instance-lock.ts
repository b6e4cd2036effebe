import { createServer, type Server } from 'node:net';

export class RunnerAlreadyRunningError extends Error {}

/**
 * Holds "one daemon per runner identity on this host" for as long as the process lives. The lock is
 * a Linux abstract Unix socket: it has no file to go stale, and the kernel releases it the moment
 * its holder exits, however it exits (SIGKILL and power loss included).
 */
export function acquireInstanceLock(runner: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new RunnerAlreadyRunningError(`a runner daemon for "${runner}" is already running on this host`) : err);
    });
    // The name is the runner's, so two different runners may share a host.
    server.listen(`\0benchline-runner:${runner}`, () => {
      server.unref();
      resolve(server);
    });
  });
}
