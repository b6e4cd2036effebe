/**
 * Builds the small C programs Benchline needs (the guest init, the host TSC probe) into the cache,
 * keyed by source and compiler, so that a source change or a gcc upgrade rebuilds them and nothing
 * else does. Static, so the init runs in any image whatever its libc.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { singleFlight } from '../executors/microvm/single-flight';

const run = promisify(execFile);
const CFLAGS = ['-static', '-O2', '-Wall'];
const building = new Map<string, Promise<string>>();
const compilerVersions = new Map<string, Promise<string>>();

export const GUEST_INIT_SOURCE = path.join(__dirname, 'init.c');

export class StaticBuildError extends Error {}

/** The guest init, built once per cache key. */
export function ensureGuestInit(cacheDir: string): Promise<string> {
  return ensureStaticBinary(cacheDir, GUEST_INIT_SOURCE, 'init');
}

/** Returns the path of `source` compiled with `gcc -static -O2`, compiling at most once per key (and process). */
export async function ensureStaticBinary(cacheDir: string, source: string, name: string, compiler = 'gcc'): Promise<string> {
  const code = await readFile(source);
  const version = await singleFlight(compilerVersions, compiler, () => compilerVersion(compiler, name), 'on-failure');
  const key = createHash('sha256').update(code).update(`\0${compiler}\0${version}\0${CFLAGS.join(' ')}`).digest('hex').slice(0, 16);
  const output = path.join(cacheDir, 'bin', `${name}-${key}`);
  return singleFlight(building, output, () => compile(source, output, compiler), 'on-failure');
}

function compilerVersion(compiler: string, name: string): Promise<string> {
  return run(compiler, ['-dumpfullversion']).then(
    (r) => r.stdout.trim(),
    (err: NodeJS.ErrnoException) => {
      throw new StaticBuildError(
        err.code === 'ENOENT'
          ? `${compiler} is needed to build ${name} for microVMs (Debian: apt-get install gcc libc6-dev)`
          : `${compiler} -dumpfullversion failed: ${err.message}`,
      );
    },
  );
}

async function compile(source: string, output: string, compiler: string): Promise<string> {
  if (await stat(output).then((s) => s.isFile(), () => false)) return output;
  await mkdir(path.dirname(output), { recursive: true });
  // Unique temp name + rename: runners sharing the cache never see a half-written binary.
  const tmp = `${output}.${process.pid}.${Date.now()}.tmp`;
  try {
    await run(compiler, [...CFLAGS, '-o', tmp, source]);
  } catch (err) {
    await rm(tmp, { force: true });
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message);
    if (/cannot find -lc\b/.test(stderr)) {
      throw new StaticBuildError(`static glibc is missing, so ${path.basename(source)} cannot be linked (Debian: apt-get install libc6-dev)`);
    }
    throw new StaticBuildError(`building ${path.basename(source)} failed:\n${stderr.trim()}`);
  }
  await rename(tmp, output);
  return output;
}
