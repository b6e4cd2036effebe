/**
 * A minimal image root filesystem for the microVM tests: busybox-static and its applets, no registry.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const BUSYBOX = '/bin/busybox';

export function buildBusyboxRootfs(root: string, extraFiles: Record<string, Buffer> = {}): string {
  for (const dir of ['bin', 'etc', 'work', 'data']) mkdirSync(path.join(root, dir), { recursive: true });
  copyFileSync(BUSYBOX, path.join(root, 'bin/busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet !== 'busybox') symlinkSync('busybox', path.join(root, 'bin', applet));
  }
  writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  for (const [rel, content] of Object.entries(extraFiles)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}
