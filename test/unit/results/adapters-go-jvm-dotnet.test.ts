import { cSharpDotNetAdapter } from '../../../results/adapters/c-sharp-dot-net';
import { goBenchAdapter } from '../../../results/adapters/go-bench';
import { javaJmhAdapter } from '../../../results/adapters/java-jmh';
import { AdapterError } from '../../../results/types';
import { expectMeasurement, fileOf, stdoutOf } from './helpers';

describe('go_bench (real `go test -bench` output)', () => {
  test('ns/op, MB/s, B/op and allocs/op; the GOMAXPROCS suffix stays in the name', () => {
    const results = goBenchAdapter(stdoutOf('go-bench.txt'));
    expect(results['BenchmarkFib20-2']).toEqual({ latency: { value: 25888 } });
    expect(results['BenchmarkSha256-2']).toEqual({
      latency: { value: 6727 },
      'data-throughput': { value: 608.89 },
      allocated: { value: 0 },
      allocations: { value: 0 },
    });
    expect(results['BenchmarkJoin/héllo/π-2']).toEqual({ latency: { value: 37.14 } });
  });

  test('a benchmark that failed (`--- FAIL: BenchmarkBroken`) is skipped', () => {
    expect(Object.keys(goBenchAdapter(stdoutOf('go-bench.txt'))).sort()).toEqual([
      'BenchmarkFib10-2',
      'BenchmarkFib20-2',
      'BenchmarkJoin/héllo/π-2',
      'BenchmarkJoin/small-2',
      'BenchmarkSha256-2',
    ]);
  });

  test('-count 2: repeated lines are averaged', () => {
    const results = goBenchAdapter(stdoutOf('go-bench-count2.txt'));
    expectMeasurement(results['BenchmarkFib10-2'].latency, { value: (199.5 + 204.1) / 2 });
    expectMeasurement(results['BenchmarkSha256-2']['data-throughput'], { value: (326.57 + 354.36) / 2 });
    expectMeasurement(results['BenchmarkJoin/small-2'].latency, { value: (41.52 + 66.98) / 2 });
    expect(results['BenchmarkJoin/small-2'].allocated).toEqual({ value: 24 });
  });

  test('b.ReportMetric units become their own measure', () => {
    const results = goBenchAdapter({ stdout: 'BenchmarkParse-8   \t 1000\t  12.5 ns/op\t 3.00 widgets/op\n', files: {} });
    expect(results['BenchmarkParse-8']).toEqual({ latency: { value: 12.5 }, 'widgets-op': { value: 3 } });
  });

  test('test output without result lines is an AdapterError', () => {
    expect(() => goBenchAdapter({ stdout: 'PASS\nok  \texample.com/x\t0.01s\n', files: {} })).toThrow(AdapterError);
  });
});

describe('java_jmh (hand-written JMH 1.37 JSON)', () => {
  test('avgt: score within its confidence interval, converted to ns; @Param values in the name', () => {
    const results = javaJmhAdapter(fileOf('jmh.json'));
    expectMeasurement(results['org.example.StringBench.concat(length=10)'].latency, { value: 23.456, lower_value: 16.393, upper_value: 30.519 });
    // `us/op`
    expectMeasurement(results['org.example.StringBench.concat(length=1000)'].latency, { value: 1204, lower_value: 1041, upper_value: 1367 });
  });

  test('thrpt: ops/ms becomes ops/s; a "NaN" error leaves the score without bounds', () => {
    const results = javaJmhAdapter(fileOf('jmh.json'));
    expectMeasurement(results['org.example.HashBench.ünïcodeπ'].throughput, { value: 1523400, lower_value: 1310800, upper_value: 1736000 });
    expectMeasurement(results['org.example.HashBench.single'].throughput, { value: 3.3762388731228185e9 });
  });

  test('median: the 50th percentile of the iteration scores', () => {
    const results = javaJmhAdapter(fileOf('jmh.json'), { average: 'median' });
    expectMeasurement(results['org.example.StringBench.concat(length=10)'].latency, { value: 23.4 });
    expectMeasurement(results['org.example.HashBench.ünïcodeπ'].throughput, { value: 1520000 });
  });

  test('a score unit that is neither time/op nor ops/time is an AdapterError', () => {
    const json = JSON.stringify([{ benchmark: 'x.Y.z', primaryMetric: { score: 1, scoreConfidence: [1, 1], scoreUnit: 'B/op' } }]);
    expect(() => javaJmhAdapter({ stdout: json, files: {} })).toThrow(/unsupported score unit "B\/op"/);
  });
});

describe('c_sharp_dot_net (hand-written BenchmarkDotNet full JSON)', () => {
  const name = 'BenchmarkDotNet.Samples.StringBenchmarks.Concat';

  test('mean ± standard deviation in ns; memory diagnoser measures', () => {
    const results = cSharpDotNetAdapter(fileOf('benchmarkdotnet.json'));
    expectMeasurement(results[name].latency, { value: 42.6, lower_value: 42.6 - 1.1335784048754634, upper_value: 42.6 + 1.1335784048754634 });
    expect(results[name].allocated).toEqual({ value: 56 });
    // 48 collections over 16,777,216 operations = 0.00286… per 1000 operations
    expectMeasurement(results[name]['gen0-collects'], { value: (48 / 16777216) * 1000 });
    expect(results[name]['gen2-collects']).toEqual({ value: 0 });
  });

  test('parametrised benchmarks keep their full name; a failed one (no statistics) is skipped', () => {
    const results = cSharpDotNetAdapter(fileOf('benchmarkdotnet.json'));
    expectMeasurement(results['BenchmarkDotNet.Samples.IntroParams.Benchmark(A: 100, B: 10)'].latency, {
      value: 115234567,
      lower_value: 115234567 - 111111,
      upper_value: 115234567 + 111111,
    });
    expect(results['BenchmarkDotNet.Samples.StringBenchmarks.Throws']).toBeUndefined();
    expect(Object.keys(results)).toHaveLength(2);
  });

  test('median within Q1–Q3', () => {
    const results = cSharpDotNetAdapter(fileOf('benchmarkdotnet.json'), { average: 'median' });
    expectMeasurement(results[name].latency, { value: 42.5, lower_value: 42, upper_value: 43.1 });
  });

  test('without FullName the name is built from namespace, type, method and parameters', () => {
    const json = JSON.stringify({
      HostEnvironmentInfo: {},
      Benchmarks: [{ Namespace: null, Type: 'T', Method: 'M', Parameters: 'N=1', Statistics: { Mean: 5, Median: 4 } }],
    });
    expect(cSharpDotNetAdapter({ stdout: json, files: {} })).toEqual({ 'T.M(N=1)': { latency: { value: 5 } } });
  });
});
