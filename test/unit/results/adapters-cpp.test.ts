import { cppCatch2Adapter } from '../../../results/adapters/cpp-catch2';
import { cppGoogleAdapter } from '../../../results/adapters/cpp-google';
import { AdapterError } from '../../../results/types';
import { expectMeasurement, fileOf, fixture, stdoutOf } from './helpers';

describe('cpp_google (real Google Benchmark 1.7.1 JSON)', () => {
  test('single runs: real_time in its time_unit, items and bytes per second', () => {
    const results = cppGoogleAdapter(fileOf('google-benchmark.json'));
    expectMeasurement(results.BM_StringCreation.latency, { value: 0.55224955148997323 });
    // `"real_time": 2.7555736729234204e-01, "time_unit": "us"`
    expectMeasurement(results['BM_Accumulate/1024'].latency, { value: 275.55736729234204 });
    expectMeasurement(results['BM_Accumulate/1024'].throughput, { value: 3.8310379610658469e9 });
    expectMeasurement(results['BM_Accumulate/1024']['data-throughput'], { value: 1.5324151844263388e10 / 1e6 });
  });

  test('a run that called SkipWithError is skipped', () => {
    expect(Object.keys(cppGoogleAdapter(fileOf('google-benchmark.json'))).sort()).toEqual([
      'BM_Accumulate/1024',
      'BM_Accumulate/65536',
      'BM_StringCreation',
    ]);
  });

  test('repetitions: the mean aggregate ± the stddev aggregate, not the individual runs', () => {
    const results = cppGoogleAdapter(fileOf('google-benchmark-repetitions.json'));
    const sd = 1.8880066770883082e3;
    expectMeasurement(results['BM_Accumulate/65536'].latency, { value: 17741.446907855146, lower_value: 17741.446907855146 - sd, upper_value: 17741.446907855146 + sd });
    expectMeasurement(results['BM_Accumulate/65536'].throughput, {
      value: 4002558573.10861,
      lower_value: 4002558573.10861 - 18675668.493095502,
      upper_value: 4002558573.10861 + 18675668.493095502,
    });
  });

  test('repetitions with average median: the median aggregate', () => {
    const results = cppGoogleAdapter(fileOf('google-benchmark-repetitions.json'), { average: 'median' });
    expectMeasurement(results['BM_Accumulate/65536'].latency, { value: 16661.29521587037 });
    expectMeasurement(results.BM_StringCreation.latency, { value: 0.6438824310904355 });
  });

  test('asking for a median without repetitions says how to get one', () => {
    expect(() => cppGoogleAdapter(fileOf('google-benchmark.json'), { average: 'median' })).toThrow(/--benchmark_repetitions/);
  });

  test('JSON on stdout after a banner line is still found', () => {
    const results = cppGoogleAdapter({ stdout: `2026-11-22T07:18:45+00:00\nRunning ./bm\n${fixture('google-benchmark.json')}`, files: {} });
    expect(Object.keys(results)).toHaveLength(3);
  });

  test('aggregates of releases before run_name existed are matched by their name suffix', () => {
    const json = JSON.stringify({
      context: {},
      benchmarks: [
        { name: 'BM_Old', iterations: 10, real_time: 11, cpu_time: 11, time_unit: 'ns' },
        { name: 'BM_Old', iterations: 10, real_time: 13, cpu_time: 13, time_unit: 'ns' },
        { name: 'BM_Old_mean', aggregate_name: 'mean', iterations: 2, real_time: 12, cpu_time: 12, time_unit: 'ns' },
        { name: 'BM_Old_stddev', aggregate_name: 'stddev', iterations: 2, real_time: 1.4142135623730951, cpu_time: 1, time_unit: 'ns' },
      ],
    });
    expect(cppGoogleAdapter({ stdout: json, files: {} })).toEqual({
      BM_Old: { latency: { value: 12, lower_value: 12 - 1.4142135623730951, upper_value: 12 + 1.4142135623730951 } },
    });
  });

  test('JSON of another harness is an AdapterError', () => {
    expect(() => cppGoogleAdapter(fileOf('hyperfine.json'))).toThrow(AdapterError);
  });
});

describe('cpp_catch2', () => {
  test('v2 console table (real Catch2 2.13.10): mean within low/high mean, test case prefix', () => {
    const results = cppCatch2Adapter(stdoutOf('catch2-v2.txt'));
    // `fib 20 … 5.93439 us    5.89215 us    6.09313 us`
    expectMeasurement(results['Fibonacci: fib 20'].latency, { value: 5934.39, lower_value: 5892.15, upper_value: 6093.13 });
    expectMeasurement(results['Fibonacci: fib 25'].latency, { value: 77638.1, lower_value: 77478.9, upper_value: 78014.3 });
    // The test case name wraps over two lines; the benchmark that threw (`Benchmark failed (boom)`) is skipped.
    const wrapped = 'Ünïcode and a very long test case name that Catch2 will wrap across more than one line of console output: fib 10 π';
    expectMeasurement(results[wrapped].latency, { value: 32.4178, lower_value: 32.3246, upper_value: 32.4645 });
    expect(Object.keys(results)).toHaveLength(3);
  });

  test('v3 console table: sections, μs, a benchmark name wrapped inside its column', () => {
    const results = cppCatch2Adapter(stdoutOf('catch2-v3.txt'));
    expectMeasurement(results['Vector push_back: push 1000 ints'].latency, { value: 5312.38, lower_value: 5291.02, upper_value: 5348.16 });
    expectMeasurement(results['Vector push_back: reserve then push 1000 ints with a name too long for the first column'].latency, {
      value: 1742.31,
      lower_value: 1739.11,
      upper_value: 1746.75,
    });
    expect(Object.keys(results)).toHaveLength(2);
  });

  test('Catch2 reports a mean', () => {
    expect(() => cppCatch2Adapter(stdoutOf('catch2-v2.txt'), { average: 'median' })).toThrow(AdapterError);
  });

  test('a test run with no benchmarks is an AdapterError', () => {
    expect(() => cppCatch2Adapter({ stdout: '===============\nAll tests passed (3 assertions in 1 test case)\n', files: {} })).toThrow(/no Catch2 benchmark tables found/);
  });
});
