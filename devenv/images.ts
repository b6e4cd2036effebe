import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { resolveDigest } from '../net/oci-registry';
import { OutboundGuard } from '../net/outbound';
import { parseImageRef } from '../common/image-ref';
import type { RegistryCredentials } from '../common/schemas';
import { runTool } from '../runner/process';

export interface ImageSpec {
  /** Where to push, e.g. 127.0.0.1:5000/demo/bench:latest */
  reference: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  /** Files to add: path in the image → contents; executable when the path ends in .sh or mode says so. */
  files?: Record<string, string | Buffer | { content: string | Buffer; mode: number }>;
  /** For a private registry. */
  credentials?: RegistryCredentials;
}

const BUSYBOX = '/bin/busybox';
let applets: string[] | undefined;

/**
 * Builds a busybox-based image with umoci (no Docker engine needed), pushes it with skopeo and
 * returns its digest. Used by the dev stack's demo and by integration tests.
 */
export async function buildAndPushImage(spec: ImageSpec): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'benchline-image-'));
  try {
    const layout = `${join(work, 'layout')}:latest`;
    await runTool('umoci', ['init', '--layout', join(work, 'layout')]);
    await runTool('umoci', ['new', '--image', layout]);
    await runTool('umoci', ['unpack', '--image', layout, join(work, 'bundle')]);
    const rootfs = join(work, 'bundle', 'rootfs');
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
    await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
    applets ??= execFileSync(BUSYBOX, ['--list']).toString().split('\n').filter((a) => a && a !== 'busybox');
    await Promise.all(applets.map((a) => symlink('busybox', join(rootfs, 'bin', a))));
    for (const [path, file] of Object.entries(spec.files ?? {})) {
      const { content, mode } = typeof file === 'object' && !Buffer.isBuffer(file) ? file : { content: file, mode: path.endsWith('.sh') ? 0o755 : 0o644 };
      await mkdir(dirname(join(rootfs, path)), { recursive: true });
      await writeFile(join(rootfs, path), content);
      await chmod(join(rootfs, path), mode);
    }
    await runTool('umoci', ['repack', '--image', layout, join(work, 'bundle')]);
    const config = ['config', '--image', layout, '--clear=config.entrypoint', '--clear=config.cmd'];
    for (const e of spec.entrypoint ?? []) config.push(`--config.entrypoint=${e}`);
    for (const c of spec.cmd ?? []) config.push(`--config.cmd=${c}`);
    for (const [k, v] of Object.entries(spec.env ?? {})) config.push(`--config.env=${k}=${v}`);
    if (spec.workingDir) config.push(`--config.workingdir=${spec.workingDir}`);
    await runTool('umoci', config);
    const creds = spec.credentials ? ['--dest-creds', `${spec.credentials.username}:${spec.credentials.password}`] : [];
    await runTool('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...creds, `oci:${layout}`, `docker://${spec.reference}`]);
    // Development tooling, pushing to a registry on loopback or the LAN.
    return resolveDigest(new OutboundGuard({ allowPrivateNetworks: true }), parseImageRef(spec.reference), spec.credentials);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The benchmark DEMO_BENCHMARK_SH reports (the console URL dev prints opens its plot). */
export const DEMO_BENCHMARK = 'sha256/1MiB';

/**
 * A busybox sh function printing the kernel's wall clock in microseconds (busybox has no `date +%N`).
 * adjtimex's `tv_usec` holds nanoseconds while the kernel clock is in nano mode (STA_NANO, 0x2000 in
 * `status`, as on an unsynchronised clock): read as microseconds, a time early in a second lost
 * digits and ran backwards.
 */
export const NOW_US_SH = `now_us() { adjtimex | awk '/status/ {st=$2} /tv_sec/ {s=$2} /tv_usec/ {u=$2} END {if (int(st / 8192) % 2) u = int(u / 1000); printf "%d%06d\\n", s, u}'; }`;

/**
 * The demo benchmark: hashes 1 MiB with sha256sum five times, timing each run with the kernel clock,
 * and prints the result as Bencher Metric Format.
 */
export const DEMO_BENCHMARK_SH = `#!/bin/sh
set -e
${NOW_US_SH}
dd if=/dev/zero of=/tmp/blob bs=1024 count=1024 2>/dev/null
for i in 1 2 3 4 5; do
  t0=$(now_us); sha256sum /tmp/blob >/dev/null; t1=$(now_us)
  echo $((t1 - t0))
done > /tmp/samples
awk '{ ns = $1 * 1000; sum += ns; if (min == "" || ns < min) min = ns; if (ns > max) max = ns }
     END { mean = sum / NR
           printf "{\\"sha256/1MiB\\": {\\"latency\\": {\\"value\\": %.1f, \\"lower_value\\": %.1f, \\"upper_value\\": %.1f},", mean, min, max
           printf " \\"throughput\\": {\\"value\\": %.3f, \\"lower_value\\": %.3f, \\"upper_value\\": %.3f}}}\\n", 1e9 / mean, 1e9 / max, 1e9 / min }' /tmp/samples
`;
