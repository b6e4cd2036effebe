import { readdirSync, readFileSync } from 'node:fs';
import { waitFor } from './wait';

/** /proc/<pid>/stat's state and process group; the command name may hold spaces and parentheses. */
function stat(pid: string): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch {
    return undefined; // exited meanwhile
  }
}

/**
 * The live processes of process group `pgid`. Zombies don't count: an orphan's zombie lingers where
 * PID 1 does not reap (containers), yet it runs nothing and holds no port.
 */
export function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      const s = stat(pid);
      return s !== undefined && s.pgrp === pgid && s.state !== 'Z';
    })
    .map(Number);
}

/** Whether no member of `pgid` is left alive within `withinMs`. */
function emptied(pgid: number, withinMs: number): Promise<boolean> {
  return waitFor(`process group ${pgid} to be gone`, async () => groupMembers(pgid).length === 0 || undefined, withinMs).then(
    () => true,
    () => false,
  );
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Stops a whole process group (a child spawned `detached` and everything it started): SIGTERM, and
 * SIGKILL for whatever is still there after `graceMs`. Resolves once no member is left alive.
 * Returns whether it had to kill.
 */
export async function stopGroup(pgid: number, graceMs: number): Promise<boolean> {
  if (groupMembers(pgid).length === 0) return false;
  signalGroup(pgid, 'SIGTERM');
  if (await emptied(pgid, graceMs)) return false;
  await killGroup(pgid);
  return true;
}

/** SIGKILLs a whole process group at once, as a crash would (no member gets to clean up); resolves once none is left alive. */
export async function killGroup(pgid: number): Promise<void> {
  signalGroup(pgid, 'SIGKILL');
  if (!(await emptied(pgid, 5000))) throw new Error(`process group ${pgid} survived SIGKILL: ${groupMembers(pgid).join(', ')}`);
}
