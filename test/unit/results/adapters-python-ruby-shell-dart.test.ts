import { dartBenchmarkHarnessAdapter } from '../../../results/adapters/dart-benchmark-harness';
import { pythonAsvAdapter } from '../../../results/adapters/python-asv';
import { pythonPytestAdapter } from '../../../results/adapters/python-pytest';
import { rubyBenchmarkAdapter } from '../../../results/adapters/ruby-benchmark';
import { shellHyperfineAdapter } from '../../../results/adapters/shell-hyperfine';
import { AdapterError } from '../../../results/types';
import { expectMeasurement, fileOf, stdoutOf } from './helpers';

describe('python_asv (real asv 0.6.6 output)', () => {
  test('`asv run` lines: median ± error in μs (U+03BC); failed benchmarks skipped', () => {
    const results = pythonAsvAdapter(stdoutOf('asv-run.txt'));
    expectMeasurement(results['benchmarks.TimeSuite.time_keys'].latency, { value: 2720, lower_value: 2660, upper_value: 2780 });
    expectMeasurement(results['benchmarks.time_sort_ünïcode'].latency, { value: 23600, lower_value: 23200, upper_value: 24000 });
    expect(results['benchmarks.TimeSuite.time_broken']).toBeUndefined();
  });

  test('a parametrised benchmark`s table gives one benchmark per parameter value', () => {
    const results = pythonAsvAdapter(stdoutOf('asv-run.txt'));
    expectMeasurement(results['benchmarks.ParamSuite.time_range(10)'].latency, { value: 191, lower_value: 189, upper_value: 193 });
    expectMeasurement(results['benchmarks.ParamSuite.time_range(1000)'].latency, { value: 8990, lower_value: 8960, upper_value: 9020 });
    expect(Object.keys(results)).toHaveLength(5);
  });

  test('`asv compare`: the after column', () => {
    const results = pythonAsvAdapter(stdoutOf('asv-compare.txt'));
    expectMeasurement(results['benchmarks.TimeSuite.time_keys'].latency, { value: 10200, lower_value: 9900, upper_value: 10500 });
    expectMeasurement(results['benchmarks.time_sort_ünïcode'].latency, { value: 22800, lower_value: 22400, upper_value: 23200 });
    expect(Object.keys(results)).toHaveLength(3);
  });

  test('older column layout of `asv continuous`, with a failed after value skipped', () => {
    const stdout = [
      '       before           after         ratio',
      '     [3b0a2d0c]       [8e2c1f7d]',
      '+      1.00±0.01ms      2.00±0.02ms     2.00  benchmarks.Suite.time_slow',
      '-      5.00±0.1μs       4.00±0.1μs     0.80  benchmarks.Suite.time_fast',
      '         1.00±0ms           failed      n/a  benchmarks.Suite.time_broken',
    ].join('\n');
    const results = pythonAsvAdapter({ stdout, files: {} });
    expectMeasurement(results['benchmarks.Suite.time_slow'].latency, { value: 2e6, lower_value: 1.98e6, upper_value: 2.02e6 });
    expectMeasurement(results['benchmarks.Suite.time_fast'].latency, { value: 4000, lower_value: 3900, upper_value: 4100 });
    expect(Object.keys(results)).toHaveLength(2);
  });

  test('asv reports a median', () => {
    expect(() => pythonAsvAdapter(stdoutOf('asv-run.txt'), { average: 'mean' })).toThrow(AdapterError);
  });
});

describe('python_pytest (real pytest-benchmark 5.2.3 JSON)', () => {
  const fib = 'test_bench.py::test_fib_10';

  test('mean ± stddev in seconds → ns, and ops as throughput', () => {
    const results = pythonPytestAdapter(fileOf('pytest-benchmark.json'));
    const mean = 5473.999976857158;
    const sd = 506.8056974270098;
    expectMeasurement(results[fib].latency, { value: mean, lower_value: mean - sd, upper_value: mean + sd });
    expectMeasurement(results[fib].throughput, { value: 182681.7691318552 });
    expect(Object.keys(results).sort()).toEqual([
      'test_bench.py::test_fib_10',
      'test_bench.py::test_fib_param[15]',
      'test_bench.py::test_fib_param[5]',
      'test_bench.py::test_ünïcode_π',
    ]);
  });

  test('median within Q1–Q3', () => {
    const results = pythonPytestAdapter(fileOf('pytest-benchmark.json'), { average: 'median' });
    expectMeasurement(results[fib].latency, { value: 5298.0000191382715, lower_value: 5237.999971541285, upper_value: 5400.499929919533 });
    expect(results[fib].throughput).toBeUndefined();
  });
});

describe('ruby_benchmark (real Ruby 3.1 Benchmark output)', () => {
  test('the real column of bm and of bmbm`s second report; the rehearsal is ignored', () => {
    const results = rubyBenchmarkAdapter(stdoutOf('ruby-benchmark.txt'));
    expect(results).toEqual({
      'for loop:': { latency: { value: 14747000 } },
      'times:': { latency: { value: 6690000 } },
      'ünïcode π:': { latency: { value: 6984000 } },
      // rehearsal `sort! … (  0.004501)` is not taken
      'sort!': { latency: { value: 3684000 } },
      sort: { latency: { value: 3888000 } },
    });
  });
});

describe('shell_hyperfine (real hyperfine 1.15 JSON)', () => {
  test('mean ± stddev in seconds → ns', () => {
    const results = shellHyperfineAdapter(fileOf('hyperfine.json'));
    const mean = 15251112.003333336;
    const sd = 2641526.6970712383;
    expectMeasurement(results['sleep 10ms'].latency, { value: mean, lower_value: mean - sd, upper_value: mean + sd });
    expect(Object.keys(results)).toEqual(['sleep 10ms', 'écho ünïcode']);
  });

  test('median within min–max', () => {
    const results = shellHyperfineAdapter(fileOf('hyperfine.json'), { average: 'median' });
    expectMeasurement(results['sleep 10ms'].latency, { value: 15582982.920000002, lower_value: 11537387.42, upper_value: 19238351.42 });
  });

  test('a command whose every run failed (kept by --ignore-failure) is skipped', () => {
    expect(Object.keys(shellHyperfineAdapter(fileOf('hyperfine-failed.json')))).toEqual(['ok true']);
  });
});

describe('dart_benchmark_harness (hand-written from BenchmarkBase.report)', () => {
  test('`Name(RunTime): N us.` lines; a crashed benchmark prints none', () => {
    const results = dartBenchmarkHarnessAdapter(stdoutOf('dart-benchmark-harness.txt'));
    expectMeasurement(results.Template.latency, { value: 432.7615384615385 });
    expectMeasurement(results.Fibonacci.latency, { value: 1523409.8360655737 });
    expectMeasurement(results['ÜnïcodeConcat π'].latency, { value: 12500 });
    expect(Object.keys(results)).toHaveLength(3);
  });
});
