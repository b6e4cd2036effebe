import { posix } from 'node:path';
import type { BenchmarkResults } from './types';

/**
 * Measures Benchline takes itself rather than from a harness (Bencher's `--file-size` and
 * `--build-time`). The runner measures; these only shape the numbers into results.
 */

function requireNonNegative(what: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what} must be a non-negative number, got ${value}`);
}

/**
 * `file-size` in bytes, one benchmark per file. The benchmark is the file's name, as Bencher names
 * it, except where two paths share a name: those keep their whole path so neither overwrites the other.
 */
export function fileSizeResults(sizes: Readonly<Record<string, number>>): BenchmarkResults {
  const byName = new Map<string, number>();
  for (const path of Object.keys(sizes)) {
    const name = posix.basename(path.replace(/\\/g, '/'));
    byName.set(name, (byName.get(name) ?? 0) + 1);
  }
  const results: BenchmarkResults = {};
  for (const [path, bytes] of Object.entries(sizes)) {
    requireNonNegative(`size of ${path}`, bytes);
    const name = posix.basename(path.replace(/\\/g, '/'));
    results[byName.get(name) === 1 ? name : path] = { 'file-size': { value: bytes } };
  }
  return results;
}

/** `build-time` in seconds for the named build step. */
export function buildTimeResults(benchmark: string, seconds: number): BenchmarkResults {
  if (benchmark.trim() === '') throw new RangeError('build-time needs a benchmark name');
  requireNonNegative('build time', seconds);
  return { [benchmark]: { 'build-time': { value: seconds } } };
}
