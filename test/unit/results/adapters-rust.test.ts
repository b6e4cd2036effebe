import { rustBenchAdapter } from '../../../results/adapters/rust-bench';
import { rustCriterionAdapter } from '../../../results/adapters/rust-criterion';
import { rustGungraunAdapter } from '../../../results/adapters/rust-gungraun';
import { rustIaiAdapter } from '../../../results/adapters/rust-iai';
import { AdapterError } from '../../../results/types';
import { expectMeasurement, stdoutOf } from './helpers';

describe('rust_bench (real `cargo bench` output, rust-bench.txt)', () => {
  const results = rustBenchAdapter(stdoutOf('rust-bench.txt'));

  test('reads ns/iter with its +/- range, thousands separators included', () => {
    expectMeasurement(results.bench_fib_10.latency, { value: 110.74, lower_value: 110.74 - 18.48, upper_value: 110.74 + 18.48 });
    // `161,638.25 ns/iter (+/- 62,805.60)`
    expectMeasurement(results.bench_fib_25.latency, { value: 161638.25, lower_value: 98832.65, upper_value: 224443.85 });
  });

  test('keeps unicode names and skips ignored and panicking benches', () => {
    expectMeasurement(results['bench_ünïcode_π'].latency, { value: 14.67, lower_value: 13.37, upper_value: 15.97 });
    expect(Object.keys(results).sort()).toEqual(['bench_fib_10', 'bench_fib_25', 'bench_ünïcode_π']);
  });

  test('libtest reports a median, so asking for the mean is an error', () => {
    expect(rustBenchAdapter(stdoutOf('rust-bench.txt'), { average: 'median' })).toEqual(results);
    expect(() => rustBenchAdapter(stdoutOf('rust-bench.txt'), { average: 'mean' })).toThrow(/only a median, not a mean/);
  });

  test('whole-number results, as older toolchains print them', () => {
    const old = rustBenchAdapter({ stdout: 'test tests::bench_add_two ... bench:       1,234 ns/iter (+/- 56)\n', files: {} });
    expectMeasurement(old['tests::bench_add_two'].latency, { value: 1234, lower_value: 1178, upper_value: 1290 });
  });

  test('output with no bench lines is an AdapterError', () => {
    expect(() => rustBenchAdapter({ stdout: 'running 3 tests\ntest a ... ok\n', files: {} })).toThrow(AdapterError);
  });
});

describe('rust_criterion (real criterion 0.3.6 output)', () => {
  test('time interval [low estimate high] in ns and µs; a long name from the line before', () => {
    const results = rustCriterionAdapter(stdoutOf('criterion.txt'));
    expectMeasurement(results['fib 10'].latency, { value: 110.88, lower_value: 107.4, upper_value: 113.48 });
    expectMeasurement(results['fib 20'].latency, { value: 14925, lower_value: 14641, upper_value: 15181 });
    expectMeasurement(results['ünïcode π'].latency, { value: 14.977, lower_value: 14.829, upper_value: 15.089 });
    expectMeasurement(results['group/a very long benchmark name that criterion puts on its own line'].latency, {
      value: 9.0211,
      lower_value: 8.9754,
      upper_value: 9.0475,
    });
    expect(Object.keys(results)).toHaveLength(4);
  });

  test('second run: change lines ignored, picoseconds, element throughput', () => {
    const results = rustCriterionAdapter(stdoutOf('criterion-rerun.txt'));
    expect(Object.keys(results)).toHaveLength(5);
    expectMeasurement(results['fib 10'].latency, { value: 113.91, lower_value: 112.8, upper_value: 115.68 });
    // `time: [763.03 ps 766.56 ps 770.68 ps]`, `thrpt: [83.044 Gelem/s 83.490 Gelem/s 83.877 Gelem/s]`
    expectMeasurement(results['group/sum 64'].latency, { value: 0.76656, lower_value: 0.76303, upper_value: 0.77068 });
    expectMeasurement(results['group/sum 64'].throughput, { value: 83.49e9, lower_value: 83.044e9, upper_value: 83.877e9 });
  });

  test('unit variants: s, ms, us and both micro signs; byte throughput in MB/s', () => {
    const stdout = [
      'a   time:   [1.0000 s 1.5000 s 2.0000 s]',
      'b   time:   [1.0000 ms 2.0000 ms 3.0000 ms]',
      'c   time:   [1.0000 us 2.0000 µs 3.0000 μs]',
      'd   time:   [1.0000 ns 2.0000 ns 3.0000 ns]',
      '    thrpt:  [1.0000 GiB/s 2.0000 GiB/s 3.0000 GiB/s]',
    ].join('\n');
    const results = rustCriterionAdapter({ stdout, files: {} });
    expectMeasurement(results.a.latency, { value: 1.5e9, lower_value: 1e9, upper_value: 2e9 });
    expectMeasurement(results.b.latency, { value: 2e6, lower_value: 1e6, upper_value: 3e6 });
    expectMeasurement(results.c.latency, { value: 2000, lower_value: 1000, upper_value: 3000 });
    expectMeasurement(results.d['data-throughput'], { value: (2 * 2 ** 30) / 1e6, lower_value: 2 ** 30 / 1e6, upper_value: (3 * 2 ** 30) / 1e6 });
  });

  test('criterion reports a mean', () => {
    expect(() => rustCriterionAdapter(stdoutOf('criterion.txt'), { average: 'median' })).toThrow(AdapterError);
  });
});

describe('rust_iai (hand-written from iai 0.1 output)', () => {
  test('five counters per benchmark', () => {
    const results = rustIaiAdapter(stdoutOf('iai.txt'));
    expect(results.iai_benchmark_short).toEqual({
      instructions: { value: 1735 },
      'l1-accesses': { value: 2364 },
      'l2-accesses': { value: 1 },
      'ram-accesses': { value: 1 },
      'estimated-cycles': { value: 2404 },
    });
    expect(results.iai_benchmark_long.instructions).toEqual({ value: 26214735 });
    expect(Object.keys(results)).toEqual(['iai_benchmark_short', 'iai_benchmark_long']);
  });

  test('the change column of a second run is ignored; unicode names kept', () => {
    const results = rustIaiAdapter(stdoutOf('iai-change.txt'));
    expect(results.iai_benchmark_short.instructions).toEqual({ value: 1243 });
    expect(results.iai_benchmark_short['ram-accesses']).toEqual({ value: 2 });
    expect(results['bench_ünïcode_π']['estimated-cycles']).toEqual({ value: 225 });
  });

  test('counts are single measurements: no average applies', () => {
    expect(() => rustIaiAdapter(stdoutOf('iai.txt'), { average: 'mean' })).toThrow(/single measurements/);
  });

  test('Gungraun output is not iai output', () => {
    expect(() => rustIaiAdapter(stdoutOf('gungraun.txt'))).toThrow(AdapterError);
  });
});

describe('rust_gungraun (hand-written from Gungraun / iai-callgrind output)', () => {
  const results = rustGungraunAdapter(stdoutOf('gungraun.txt'));

  test('takes the new value of new|old, through ANSI colour', () => {
    expect(results['my_crate::bench_group::bench_fibonacci short:10']).toEqual({
      instructions: { value: 1734 },
      'l1-hits': { value: 2359 },
      'l2-hits': { value: 0 },
      'ram-hits': { value: 3 },
      'total-read-write': { value: 2362 },
      'estimated-cycles': { value: 2464 },
    });
  });

  test('a wrapped name is joined; tool sections keep their metrics apart', () => {
    const alloc = results['my_crate::bench_group::bench_alloc vec:with a long id that wraps onto a second line'];
    expect(alloc.instructions).toEqual({ value: 5120 });
    expect(alloc['global-bus-events']).toEqual({ value: 7 });
    expect(alloc['total-bytes']).toEqual({ value: 4096 });
    expect(alloc['at-t-gmax-bytes']).toEqual({ value: 4096 });
    expect(alloc['memcheck-errors']).toEqual({ value: 0 });
    expect(alloc['memcheck-contexts']).toEqual({ value: 0 });
  });

  test('unicode names, infinite changes, and the regressions summary is not a benchmark', () => {
    expect(results['my_crate::bench_group::bench_ünïcode π:"π"']).toEqual({ instructions: { value: 99 }, 'estimated-cycles': { value: 0 } });
    expect(Object.keys(results)).toHaveLength(3);
  });

  test('iai output is not Gungraun output', () => {
    expect(() => rustGungraunAdapter(stdoutOf('iai.txt'))).toThrow(AdapterError);
  });
});
