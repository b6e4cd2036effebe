import { readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { runTool } from './process';

/** Mount points below `root` in a mounts table (/proc/self/mounts format), octal escapes decoded, newest first. */
export function mountPointsUnder(mountsTable: string, root: string): string[] {
  const prefix = resolve(root) + sep;
  return mountsTable
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((field): field is string => Boolean(field))
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((mountPoint) => mountPoint.startsWith(prefix))
    // The table lists mounts in the order they were made: undo them newest first, so a mount
    // stacked on another comes off before it.
    .reverse();
}

/**
 * Unmounts whatever a runner killed mid-job (SIGKILL, power loss) left mounted under its scratch
 * directory: a crashed runner cannot clean up after itself, so the next start does.
 */
export async function releaseStaleMounts(root: string): Promise<string[]> {
  const stale = mountPointsUnder(await readFile('/proc/self/mounts', 'utf8'), root);
  for (const mountPoint of stale) await runTool('umount', ['-l', mountPoint]);
  return stale;
}

/**
 * Everything a crashed runner left under its scratch root: mounts first, so removing the job
 * directories afterwards never reaches through an overlay. Only for a runner holding its instance
 * lock, so no live job of this runner owns anything there.
 */
export async function clearStaleScratch(root: string): Promise<{ mounts: string[]; dirs: string[] }> {
  const mounts = await releaseStaleMounts(root);
  const dirs = await readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  for (const dir of dirs) await rm(join(root, dir), { recursive: true, force: true });
  return { mounts, dirs };
}
