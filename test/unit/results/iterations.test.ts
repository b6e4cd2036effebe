import { isIgnoredBenchmark, iterationsOf, parseIterations, splitJsonDocuments } from '../../../results/iterations';
import { AdapterError } from '../../../results/types';

const bmf = (name: string, value: number) => JSON.stringify({ [name]: { latency: { value } } });

describe('iterations of one output', () => {
  it('splits whitespace-separated JSON documents, strings with braces included', () => {
    expect(splitJsonDocuments('{"a": "}{"}\n[1, {"b": 2}]  {"c":{}}')).toEqual(['{"a": "}{"}', '[1, {"b": 2}]', '{"c":{}}']);
    expect(splitJsonDocuments('{"a": 1}')).toBeUndefined();
    expect(splitJsonDocuments('banner\n{"a": 1}{"b": 2}')).toBeUndefined();
    expect(splitJsonDocuments('{"a": 1}{"b": ')).toBeUndefined();
  });

  it('takes several output files, then JSON documents, then separator lines, else the whole stdout', () => {
    expect(iterationsOf({ stdout: 'x', files: { 'b.json': 'B', 'a.json': 'A' } }).map((i) => [i.label, i.input])).toEqual([
      ['a.json', { stdout: '', files: { 'a.json': 'A' } }],
      ['b.json', { stdout: '', files: { 'b.json': 'B' } }],
    ]);
    expect(iterationsOf({ stdout: `${bmf('a', 1)}\n${bmf('a', 2)}\n`, files: {} }).map((i) => i.input.stdout)).toEqual([bmf('a', 1), bmf('a', 2)]);
    expect(iterationsOf({ stdout: 'one\n--- benchline iteration ---\ntwo\n--- benchline iteration ---\n', files: {} }).map((i) => i.input.stdout)).toEqual(['one', 'two']);
    expect(iterationsOf({ stdout: 'plain', files: {} })).toEqual([{ label: 'stdout', input: { stdout: 'plain', files: {} } }]);
  });

  it('folds iterations with the fold, mean by default, keeping a benchmark only some have', () => {
    const iterations = iterationsOf({ stdout: [bmf('a', 10), bmf('a', 40), JSON.stringify({ a: { latency: { value: 10 } }, b: { latency: { value: 5 } } })].join('\n'), files: {} });
    expect(parseIterations(iterations, { adapter: 'json' })).toEqual({ a: { latency: { value: 20 } }, b: { latency: { value: 5 } } });
    expect(parseIterations(iterations, { adapter: 'json', fold: 'max' }).a.latency.value).toBe(40);
    expect(parseIterations(iterations, { adapter: 'json', fold: 'median' }).a.latency.value).toBe(10);
  });

  it('adds per-iteration measures before folding', () => {
    const results = parseIterations(
      [
        { label: '1', input: { stdout: bmf('a', 1), files: {} }, extra: { build: { 'build-time': { value: 2 } } } },
        { label: '2', input: { stdout: bmf('a', 3), files: {} }, extra: { build: { 'build-time': { value: 4 } } } },
      ],
      { adapter: 'json', fold: 'min' },
    );
    expect(results).toEqual({ a: { latency: { value: 1 } }, build: { 'build-time': { value: 2 } } });
  });

  it('an iteration nothing understands fails the whole run, named', () => {
    const iterations = iterationsOf({ stdout: '', files: { 'a.json': bmf('a', 1), 'b.json': 'garbage' } });
    expect(() => parseIterations(iterations, { adapter: 'json' })).toThrow(AdapterError);
    expect(() => parseIterations(iterations, { adapter: 'json' })).toThrow(/^iteration b\.json: /);
  });

  it("recognises Bencher's ignore suffixes", () => {
    for (const name of ['x_bencher_ignore', 'x-bencher-ignore', 'xBencherIgnore']) expect(isIgnoredBenchmark(name)).toBe(true);
    for (const name of ['x', 'bencher_ignore_x', 'x_bencher_ignored']) expect(isIgnoredBenchmark(name)).toBe(false);
  });
});
