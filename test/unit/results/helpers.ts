import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AdapterInput, Measurement } from '../../../results/types';

export function fixture(name: string): string {
  return readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
}

/** The fixture as a job's stdout. */
export function stdoutOf(name: string): AdapterInput {
  return { stdout: fixture(name), files: {} };
}

/** The fixture as an output file the job named (how JSON harnesses usually deliver). */
export function fileOf(name: string): AdapterInput {
  return { stdout: 'harness chatter on stdout\n', files: { [`out/${name}`]: fixture(name) } };
}

/** mulberry32: a tiny seeded PRNG, so "random" series are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normal variates from a seeded uniform source (Box–Muller). */
export function seededNormal(seed: number): (mean: number, sd: number) => number {
  const uniform = seededRandom(seed);
  return (mean, sd) => {
    const u = 1 - uniform(); // (0, 1], so the log is finite
    const v = uniform();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/**
 * `n` seeded values with mean 1000 and coefficient of variation `cv`, Gaussian or log-normal
 * (ln X ~ N(μ, σ²) has CV √(e^{σ²} − 1) and mean e^{μ + σ²/2}).
 */
export function seededNoise(kind: 'gaussian' | 'log-normal', cv: number, n: number, seed: number): number[] {
  const normal = seededNormal(seed);
  if (kind === 'gaussian') return Array.from({ length: n }, () => normal(1000, 1000 * cv));
  const sigma = Math.sqrt(Math.log(1 + cv * cv));
  const mu = Math.log(1000) - (sigma * sigma) / 2;
  return Array.from({ length: n }, () => Math.exp(normal(mu, sigma)));
}

/** Asserts a measurement to 1e-9 relative precision; a bound absent from `expected` must be absent. */
export function expectMeasurement(actual: Measurement | undefined, expected: Measurement): void {
  expect(actual).toBeDefined();
  for (const key of ['value', 'lower_value', 'upper_value'] as const) {
    const want = expected[key];
    const got = actual?.[key];
    if (want === undefined) {
      expect({ [key]: got }).toEqual({ [key]: undefined });
    } else {
      expect(got).toBeDefined();
      const tolerance = 1e-9 * Math.max(1, Math.abs(want));
      if (Math.abs((got as number) - want) > tolerance) expect({ [key]: got }).toEqual({ [key]: want });
    }
  }
}
