import { jsBenchmarkAdapter } from '../../../results/adapters/js-benchmark';
import { jsTimeAdapter } from '../../../results/adapters/js-time';
import { jsVitestAdapter } from '../../../results/adapters/js-vitest';
import { AdapterError } from '../../../results/types';
import { expectMeasurement, fileOf, stdoutOf } from './helpers';

describe('js_benchmark (real benchmark.js 2.1.4 output)', () => {
  test('ops/sec with thousands separators, bounded by ± relative margin of error', () => {
    const results = jsBenchmarkAdapter(stdoutOf('benchmarkjs.txt'));
    // `RegExp#test x 95,205,951 ops/sec ±2.44% (95 runs sampled)`
    expectMeasurement(results['RegExp#test'].throughput, { value: 95205951, lower_value: 95205951 * 0.9756, upper_value: 95205951 * 1.0244 });
    expectMeasurement(results['ünïcode π concat'].throughput, { value: 1628417434, lower_value: 1628417434 * 0.9973, upper_value: 1628417434 * 1.0027 });
  });

  test('an errored benchmark (`throws: `) and the summary line are skipped', () => {
    expect(Object.keys(jsBenchmarkAdapter(stdoutOf('benchmarkjs.txt'))).sort()).toEqual(['RegExp#test', 'String#indexOf', 'ünïcode π concat']);
  });

  test('a single run is "1 run sampled"', () => {
    const results = jsBenchmarkAdapter({ stdout: 'slow x 0.52 ops/sec ±0.00% (1 run sampled)\n', files: {} });
    expectMeasurement(results.slow.throughput, { value: 0.52, lower_value: 0.52, upper_value: 0.52 });
  });
});

describe('js_time (real Node console.timeEnd output)', () => {
  test('ms and s forms, the default label, unicode labels', () => {
    const results = jsTimeAdapter(stdoutOf('js-time.txt'));
    expect(results).toEqual({
      'fib 25': { latency: { value: 1.767e6 } },
      'ünïcode π': { latency: { value: 5e4 } },
      'slow sleep': { latency: { value: 1.1e9 } },
      default: { latency: { value: 3000 } },
    });
  });

  test('minute and hour forms, and Deno`s "- timer ended" suffix', () => {
    const stdout = ['long: 1:02.345 (m:ss.mmm)', 'longer: 1:02:03.456 (h:mm:ss.mmm)', 'benchmark 3: The Third: 8827ms - timer ended'].join('\n');
    const results = jsTimeAdapter({ stdout, files: {} });
    expectMeasurement(results.long.latency, { value: 62.345e9 });
    expectMeasurement(results.longer.latency, { value: 3723.456e9 });
    expectMeasurement(results['benchmark 3: The Third'].latency, { value: 8827e6 });
  });

  test('ordinary log lines are not timings', () => {
    expect(() => jsTimeAdapter({ stdout: 'listening: http://localhost:3000\nready in 12 ms\n', files: {} })).toThrow(AdapterError);
  });
});

describe('js_vitest (real vitest 4.1.12 --outputJson)', () => {
  const normal = 'bench/sort.bench.ts > sort > normal';

  test('mean ms → ns within its margin of error; hz as throughput ± rme', () => {
    const results = jsVitestAdapter(fileOf('vitest-bench.json'));
    const mean = 165.25522446121414;
    const moe = 2.8688336207353965;
    expectMeasurement(results[normal].latency, { value: mean, lower_value: mean - moe, upper_value: mean + moe });
    const hz = 6051245.903179919;
    const rme = 1.7360017694379881 / 100;
    expectMeasurement(results[normal].throughput, { value: hz, lower_value: hz * (1 - rme), upper_value: hz * (1 + rme) });
  });

  test('group names prefix benchmark names; a benchmark that threw has no statistics and is skipped', () => {
    expect(Object.keys(jsVitestAdapter(fileOf('vitest-bench.json'))).sort()).toEqual([
      'bench/sort.bench.ts > sort > normal',
      'bench/sort.bench.ts > sort > reverse',
      'bench/sort.bench.ts > ünïcode π top level',
    ]);
  });

  test('median', () => {
    const results = jsVitestAdapter(fileOf('vitest-bench.json'), { average: 'median' });
    expectMeasurement(results[normal].latency, { value: 130.0000001265289 });
  });
});
