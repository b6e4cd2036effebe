import { execFileSync } from 'node:child_process';

/** Command lines of this host's processes containing every marker (e.g. a unique sleep argument or a job id). */
export function processesMatching(...markers: string[]): string[] {
  return execFileSync('ps', ['-eo', 'args'])
    .toString()
    .split('\n')
    .filter((line) => !line.startsWith('ps -eo') && markers.every((m) => line.includes(m)));
}
