import { ADAPTER_NAMES, type AdapterName, HARNESS_NAMES, parseResults } from '../../../results/adapters';
import { AdapterError, type AdapterInput } from '../../../results/types';
import { fileOf, stdoutOf } from './helpers';

/** Every fixture with the adapter that owns it, and how a job would deliver it. */
const FIXTURES: [AdapterName, AdapterInput][] = [
  ['rust_bench', stdoutOf('rust-bench.txt')],
  ['rust_criterion', stdoutOf('criterion.txt')],
  ['rust_criterion', stdoutOf('criterion-rerun.txt')],
  ['rust_iai', stdoutOf('iai.txt')],
  ['rust_gungraun', stdoutOf('gungraun.txt')],
  ['cpp_google', fileOf('google-benchmark.json')],
  ['cpp_google', stdoutOf('google-benchmark-repetitions.json')],
  ['cpp_catch2', stdoutOf('catch2-v2.txt')],
  ['cpp_catch2', stdoutOf('catch2-v3.txt')],
  ['go_bench', stdoutOf('go-bench.txt')],
  ['java_jmh', fileOf('jmh.json')],
  ['c_sharp_dot_net', fileOf('benchmarkdotnet.json')],
  ['js_benchmark', stdoutOf('benchmarkjs.txt')],
  ['js_time', stdoutOf('js-time.txt')],
  ['js_vitest', fileOf('vitest-bench.json')],
  ['python_asv', stdoutOf('asv-run.txt')],
  ['python_asv', stdoutOf('asv-compare.txt')],
  ['python_pytest', fileOf('pytest-benchmark.json')],
  ['ruby_benchmark', stdoutOf('ruby-benchmark.txt')],
  ['shell_hyperfine', fileOf('hyperfine.json')],
  ['dart_benchmark_harness', stdoutOf('dart-benchmark-harness.txt')],
];

describe('magic', () => {
  test.each(FIXTURES)('finds what %s finds', (adapter, input) => {
    const direct = parseResults(adapter, input);
    expect(Object.keys(direct).length).toBeGreaterThan(0);
    expect(parseResults('magic', input)).toEqual(direct);
  });

  test.each(FIXTURES)('no other adapter claims %s output', (owner, input) => {
    const claims = (name: AdapterName) => {
      try {
        return Object.keys(parseResults(name, input)).length > 0;
      } catch (err) {
        if (err instanceof AdapterError) return false;
        throw err;
      }
    };
    expect(HARNESS_NAMES.filter((name) => name !== owner && claims(name))).toEqual([]);
  });

  test('a BMF document still goes to the json adapter', () => {
    const bmf = { 'my bench': { latency: { value: 88, lower_value: 87.42, upper_value: 88.88 } } };
    expect(parseResults('magic', { stdout: JSON.stringify(bmf), files: {} })).toEqual(bmf);
  });

  test('output nothing understands fails with every adapter`s reason and the first lines', () => {
    let error: unknown;
    try {
      parseResults('magic', { stdout: 'Compiling…\nall good\n', files: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AdapterError);
    const message = (error as AdapterError).message;
    expect(message).toContain('go_bench: no `go test -bench` result lines found');
    expect(message).toContain('cpp_google: stdout is not JSON');
    expect(message).toContain('First lines of stdout:\nCompiling…\nall good');
  });

  test('with an average only some harnesses report, magic skips those that do not', () => {
    // criterion gives only a mean, so asking for a median must not quietly relabel it
    expect(() => parseResults('magic', stdoutOf('criterion.txt'), { average: 'median' })).toThrow(/rust_criterion: rust_criterion reports only a mean, not a median/);
    expect(Object.keys(parseResults('magic', fileOf('hyperfine.json'), { average: 'median' }))).toHaveLength(2);
  });
});

describe('names', () => {
  test('rust_iai_callgrind is an alias of rust_gungraun', () => {
    expect(parseResults('rust_iai_callgrind', stdoutOf('gungraun.txt'))).toEqual(parseResults('rust_gungraun', stdoutOf('gungraun.txt')));
  });

  test('a language name tries only that language`s harnesses', () => {
    expect(parseResults('rust', stdoutOf('criterion.txt'))).toEqual(parseResults('rust_criterion', stdoutOf('criterion.txt')));
    expect(() => parseResults('python', stdoutOf('criterion.txt'))).toThrow(/python_pytest: [\s\S]*python_asv: /);
  });

  test('every registered name is accepted and unknown ones are refused', () => {
    expect(ADAPTER_NAMES).toEqual(expect.arrayContaining(['magic', 'json', 'rust_gungraun', 'rust_iai_callgrind', 'shell_hyperfine', 'dart']));
    expect(() => parseResults('cobol' as AdapterName, stdoutOf('go-bench.txt'))).toThrow(/unknown adapter "cobol"/);
  });
});

test('several output files of one harness are merged', () => {
  const input = { stdout: '', files: { ...fileOf('hyperfine.json').files, ...fileOf('hyperfine-failed.json').files } };
  expect(Object.keys(parseResults('shell_hyperfine', input)).sort()).toEqual(['ok true', 'sleep 10ms', 'écho ünïcode']);
});
