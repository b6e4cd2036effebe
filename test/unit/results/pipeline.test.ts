import { ResultsError, resultsOf, type ResultsInput } from '../../../results/pipeline';
import { fixture } from './helpers';

/** Google Benchmark JSON whose time unit no table knows: the adapter throws a RangeError deep inside. */
const unknownUnit = fixture('google-benchmark.json').replace(/"time_unit": "[a-z]+"/g, '"time_unit": "fortnights"');
const bmf = (o: unknown) => JSON.stringify(o);

function refusal(input: ResultsInput): ResultsError {
  try {
    resultsOf(input);
  } catch (err) {
    if (err instanceof ResultsError) return err;
    throw err;
  }
  throw new Error('expected a ResultsError');
}

describe('the results pipeline', () => {
  it('an unknown time unit is the adapter refusing the output, named, whether asked for by name or found by magic', () => {
    expect(unknownUnit).toContain('fortnights');
    const named = refusal({ adapter: 'cpp_google', runs: [{ stdout: unknownUnit, files: {} }] });
    expect(named.message).toContain('cpp_google: unknown time unit "fortnights"');
    expect(named.field).toBe('results');
    const magic = refusal({ adapter: 'magic', runs: [{ stdout: unknownUnit, files: {} }] });
    expect(magic.message).toContain('cpp_google: unknown time unit "fortnights"');
  });

  it('NUL in a benchmark or measure name is refused before anything is written, the message itself storable', () => {
    const name = refusal({ adapter: 'json', runs: [{ stdout: bmf({ 'a\u0000b': { latency: { value: 1 } } }), files: {} }] });
    expect(name.message).toBe('benchmark output contains a NUL character in benchmark name "a\\u0000b"');
    const measure = refusal({ adapter: 'json', runs: [{ stdout: bmf({ ab: { 'lat\u0000': { value: 1 } } }), files: {} }] });
    expect(measure.message).toContain('NUL character in measure name (benchmark "ab") "lat\\u0000"');
    // Output nobody understands that contains NUL: quoted in the error, escaped.
    const quoted = refusal({ adapter: 'json', runs: [{ stdout: 'not\u0000json', files: {} }] });
    expect(quoted.message).not.toContain('\u0000');
    expect(quoted.message).toContain('not\\u0000json');
  });

  it('a job (one run, several documents) and a local run (one run per iteration) fold to the same results', () => {
    const docs = [{ f: { latency: { value: 10 } } }, { f: { latency: { value: 20 } } }];
    const asJob = resultsOf({ adapter: 'json', runs: [{ stdout: docs.map(bmf).join('\n'), files: {}, seconds: 3 }], buildTimeBenchmark: 'make', fileSizes: { 'out/app': 9 } });
    const asLocal = resultsOf({
      adapter: 'json',
      runs: docs.map((d, i) => ({ stdout: bmf(d), files: {}, seconds: i === 0 ? 3 : undefined })),
      buildTimeBenchmark: 'make',
      fileSizes: { 'out/app': 9 },
    });
    expect(asJob).toEqual({ f: { latency: { value: 15 } }, make: { 'build-time': { value: 3 } }, app: { 'file-size': { value: 9 } } });
    expect(asLocal).toEqual(asJob);
  });

  it('bad extra measures name their own field', () => {
    expect(refusal({ adapter: 'json', runs: [{ stdout: bmf({ f: { latency: { value: 1 } } }), files: {} }], fileSizes: { a: -1 } }).field).toBe('file_sizes');
    expect(refusal({ adapter: 'json', runs: [{ stdout: bmf({ f: { latency: { value: 1 } } }), files: {}, seconds: 1 }], buildTimeBenchmark: ' ' }).field).toBe('command');
  });
});
