import { escapeNul, NUL } from '../common/postgres-text';
import type { AdapterName } from './adapters';
import { buildTimeResults, fileSizeResults } from './extra-measures';
import type { Fold } from './fold';
import { iterationsOf, parseIterations, type Iteration } from './iterations';
import { mergeResults } from './merge';
import { MAX_BENCHMARK_NAME, MAX_MEASURE_NAME, type Average, type BenchmarkResults } from './types';

/**
 * The one way a run's output becomes results, for a job's output (activities/process-results.ts)
 * and a local run's report (api/routes/reports.ts) alike: the same iteration rules, adapters,
 * folding, extra measures and checks. Judging the results (thresholds, alerts, change points) is
 * db/results.ts `storeResults`, also shared. Pure: a failure here depends on the output alone, so
 * trying again can never help, and it happens before anything is written.
 */

/** One run of the benchmark command. */
export interface RunOutput {
  stdout: string;
  /** Output files to parse: path → contents. */
  files: Record<string, string>;
  /** How long the command took, for the `build-time` measure. */
  seconds?: number;
}

export interface ResultsInput {
  adapter: AdapterName;
  average?: Average;
  fold?: Fold;
  /**
   * One entry per run: a job is one run (whose output may still hold several iterations, see
   * results/iterations.ts); a local `--iter N` run is N runs, one iteration each.
   */
  runs: readonly RunOutput[];
  /** Output file sizes in bytes: the `file-size` measure. */
  fileSizes?: Readonly<Record<string, number>>;
  /** The `build-time` benchmark's name; the measure is recorded only for runs that have `seconds`. */
  buildTimeBenchmark?: string;
}

/** What part of the input a ResultsError is about: a local report's body field of the same name. */
export type ResultsField = 'results' | 'file_sizes' | 'command';

/** Output that cannot become results, and why: the job fails with the message, a local report is a 400. */
export class ResultsError extends Error {
  constructor(
    message: string,
    readonly field: ResultsField = 'results',
  ) {
    super(escapeNul(message));
    this.name = 'ResultsError';
  }
}

/** Parses, folds and completes the run's results; throws ResultsError for anything it cannot use. */
export function resultsOf(input: ResultsInput): BenchmarkResults {
  let results: BenchmarkResults;
  try {
    results = parseIterations(iterationsOfRuns(input), input);
  } catch (err) {
    if (err instanceof ResultsError) throw err;
    // Adapters and folding are pure functions of the output: whatever they throw (an AdapterError,
    // a RangeError for a unit no table knows…) means this output cannot be read.
    throw new ResultsError((err as Error).message ?? String(err));
  }
  if (input.fileSizes) {
    try {
      results = mergeResults(results, fileSizeResults(input.fileSizes));
    } catch (err) {
      throw new ResultsError((err as Error).message, 'file_sizes');
    }
  }
  checkStorable(results);
  return results;
}

function iterationsOfRuns({ runs, buildTimeBenchmark }: ResultsInput): Iteration[] {
  const buildTime = (seconds: number | undefined): BenchmarkResults | undefined => {
    if (seconds === undefined || buildTimeBenchmark === undefined) return undefined;
    try {
      return buildTimeResults(buildTimeBenchmark, seconds);
    } catch (err) {
      throw new ResultsError((err as Error).message, 'command');
    }
  };
  if (runs.length === 1) {
    const extra = buildTime(runs[0].seconds);
    // A build time measured once belongs to the one run, however many iterations it printed:
    // folding keeps a measure that only some iterations have, so it goes on the first.
    return iterationsOf(runs[0]).map((iteration, k) => (k === 0 && extra ? { ...iteration, extra } : iteration));
  }
  return runs.map((run, i) => ({ label: `run ${i + 1}`, input: { stdout: run.stdout, files: run.files }, extra: buildTime(run.seconds) }));
}

/** Every name and number as Postgres will take it, checked before the first write. */
function checkStorable(results: BenchmarkResults): void {
  for (const [benchmark, measures] of Object.entries(results)) {
    checkName('benchmark name', benchmark, MAX_BENCHMARK_NAME);
    for (const [measure, m] of Object.entries(measures)) {
      checkName(`measure name (benchmark ${JSON.stringify(benchmark.slice(0, 80))})`, measure, MAX_MEASURE_NAME);
      for (const key of ['value', 'lower_value', 'upper_value'] as const) {
        const v = m[key];
        if (v !== undefined && !Number.isFinite(v)) throw new ResultsError(`benchmark ${JSON.stringify(benchmark)} measure ${JSON.stringify(measure)}: ${key} is not a finite number (${v})`);
      }
    }
  }
}

function checkName(what: string, name: string, max: number): void {
  if (name.includes(NUL)) throw new ResultsError(`benchmark output contains a NUL character in ${what} ${JSON.stringify(name.slice(0, 200))}`);
  if (name.length > max) throw new ResultsError(`benchmark output has a ${what} longer than ${max} characters: ${JSON.stringify(name.slice(0, 80))}…`);
}
