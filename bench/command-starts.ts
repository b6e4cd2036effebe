import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Puts a `bwrap` in `dir` that stands in front of the real one (put `dir` first on a runner's PATH):
 * it appends a line per command the sandbox executor starts, `<epoch seconds> <job root>`, the root
 * being the first `--bind` source (`…/<job>-<attempt>/merged`), then hands over to the real bwrap.
 * The runner cannot leave a start out, so the log counts real benchmark runs.
 */
export async function installBwrapShim(dir: string, startsLog: string): Promise<void> {
  const real = execFileSync('sh', ['-c', 'command -v bwrap']).toString().trim();
  await mkdir(dir, { recursive: true });
  const script = `#!/bin/sh
root=
prev=
for arg in "$@"; do
  if [ "$prev" = "--bind" ] && [ -z "$root" ]; then root=$arg; fi
  prev=$arg
done
echo "$(date +%s.%N) $root" >> '${startsLog}'
exec '${real}' "$@"
`;
  await writeFile(join(dir, 'bwrap'), script, { mode: 0o755 });
}

/** Command starts per job id, from the shim's log (lines whose root is not a job's are ignored). */
export async function commandStarts(startsLog: string): Promise<Map<string, number>> {
  const text = await readFile(startsLog, 'utf8').catch(() => '');
  const starts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /\/([0-9a-f-]{36})-\d+\/merged$/.exec(line.trim());
    if (match) starts.set(match[1], (starts.get(match[1]) ?? 0) + 1);
  }
  return starts;
}
