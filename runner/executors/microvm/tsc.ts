/**
 * The host's TSC rate, which TCG guests are told instead of calibrating it (see tsc-khz.c for why).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureStaticBinary } from '../../guest/build-static';

const run = promisify(execFile);
let measured: Promise<number | undefined> | undefined;

/** kHz, measured once per process; undefined where it cannot be measured (the guest then calibrates). */
export function hostTscKhz(cacheDir: string): Promise<number | undefined> {
  measured ??= (async () => {
    if (process.arch !== 'x64') return undefined;
    const binary = await ensureStaticBinary(cacheDir, path.join(__dirname, 'tsc-khz.c'), 'tsc-khz');
    const khz = Number((await run(binary)).stdout.trim());
    return Number.isFinite(khz) && khz > 100_000 ? Math.round(khz) : undefined;
  })().catch(() => undefined);
  return measured;
}
