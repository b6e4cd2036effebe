import { buildTimeResults, fileSizeResults } from '../../../results/extra-measures';
import { foldIterations, foldMeasurements } from '../../../results/fold';
import { mergeResults } from '../../../results/merge';
import type { BenchmarkResults } from '../../../results/types';

describe('foldIterations', () => {
  const iterations: BenchmarkResults[] = [
    { a: { latency: { value: 10, lower_value: 9, upper_value: 11 } }, b: { latency: { value: 5 } } },
    { a: { latency: { value: 14, lower_value: 13, upper_value: 15 } }, b: { latency: { value: 7, lower_value: 6, upper_value: 8 } } },
    { a: { latency: { value: 12, lower_value: 11.5, upper_value: 12.5 }, throughput: { value: 100 } } },
  ];

  test('min and max keep the chosen iteration`s measurement whole, bounds included', () => {
    expect(foldIterations(iterations, 'min').a.latency).toEqual({ value: 10, lower_value: 9, upper_value: 11 });
    expect(foldIterations(iterations, 'max').a.latency).toEqual({ value: 14, lower_value: 13, upper_value: 15 });
    expect(foldIterations(iterations, 'min').b.latency).toEqual({ value: 5 });
  });

  test('mean folds value and each bound', () => {
    // (10 + 14 + 12) / 3 = 12; (9 + 13 + 11.5) / 3 = 11.1666…; (11 + 15 + 12.5) / 3 = 12.8333…
    const folded = foldIterations(iterations, 'mean').a.latency;
    expect(folded.value).toBe(12);
    expect(folded.lower_value).toBeCloseTo(33.5 / 3, 12);
    expect(folded.upper_value).toBeCloseTo(38.5 / 3, 12);
  });

  test('median of an odd and an even number of iterations', () => {
    expect(foldIterations(iterations, 'median').a.latency).toEqual({ value: 12, lower_value: 11.5, upper_value: 12.5 });
    // b has two iterations, 5 and 7: their midpoint; only one had bounds, so none are kept
    expect(foldIterations(iterations, 'median').b.latency).toEqual({ value: 6 });
  });

  test('a measure present in only some iterations is folded over those', () => {
    expect(foldIterations(iterations, 'mean').a.throughput).toEqual({ value: 100 });
    expect(Object.keys(foldIterations(iterations, 'mean'))).toEqual(['a', 'b']);
  });

  test('no measurements cannot be folded', () => {
    expect(() => foldMeasurements([], 'mean')).toThrow(RangeError);
    expect(foldIterations([], 'max')).toEqual({});
  });
});

test('mergeResults combines sources per benchmark, later sources winning per measure', () => {
  const adapter: BenchmarkResults = { app: { latency: { value: 1 } } };
  const sizes = fileSizeResults({ 'target/release/app': 4096 });
  const build = buildTimeResults('app', 12.5);
  expect(mergeResults(adapter, sizes, build)).toEqual({
    app: { latency: { value: 1 }, 'file-size': { value: 4096 }, 'build-time': { value: 12.5 } },
  });
  expect(mergeResults({ x: { latency: { value: 1 } } }, { x: { latency: { value: 2 } } })).toEqual({ x: { latency: { value: 2 } } });
});

describe('extra measures', () => {
  test('file-size: one benchmark per file, named by the file', () => {
    expect(fileSizeResults({ 'target/release/app': 1048576, 'dist\\app.wasm': 2048 })).toEqual({
      app: { 'file-size': { value: 1048576 } },
      'app.wasm': { 'file-size': { value: 2048 } },
    });
  });

  test('file-size: files sharing a name keep their paths', () => {
    expect(Object.keys(fileSizeResults({ 'x86/app': 1, 'arm/app': 2, 'lib.so': 3 }))).toEqual(['x86/app', 'arm/app', 'lib.so']);
  });

  test('invalid sizes and times are refused', () => {
    expect(() => fileSizeResults({ a: -1 })).toThrow(RangeError);
    expect(() => fileSizeResults({ a: Number.NaN })).toThrow(RangeError);
    expect(() => buildTimeResults('build', -0.5)).toThrow(RangeError);
    expect(() => buildTimeResults(' ', 1)).toThrow(RangeError);
  });
});
