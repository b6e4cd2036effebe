import { execFileSync } from 'node:child_process';

/** Command lines of this host's processes containing every marker (e.g. a unique sleep argument or a job id). */
export function processesMatching(...markers: string[]): string[] {
  return execFileSync('ps', ['-eo', 'args'])
    .toString()
    .split('\n')
    .filter((line) => !line.startsWith('ps -eo') && markers.every((m) => line.includes(m)));
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
