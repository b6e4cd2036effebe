import { parseResults, type AdapterName } from './adapters';
import { foldIterations, type Fold } from './fold';
import { mergeResults } from './merge';
import { AdapterError, type AdapterInput, type Average, type BenchmarkResults } from './types';

/**
 * Several iterations of one benchmark run, folded into one result per benchmark and measure
 * (Bencher's `--iter N --fold F`). A job's output holds several iterations when
 *
 * 1. it collected several output files (`file_paths`): each file is one iteration — a harness
 *    run N times writing `out-1.json` … `out-N.json`; files holding different benchmarks simply
 *    combine, since folding keeps a benchmark found in only some iterations;
 * 2. otherwise, its stdout is a sequence of whole JSON documents (a JSON harness printed N times,
 *    e.g. `for i in 1 2 3; do bench --json; done`): each document is one iteration;
 * 3. otherwise, its stdout holds lines reading exactly `--- benchline iteration ---`: the text
 *    between them are the iterations (for line-based harnesses run in a loop).
 *
 * A local run (`benchline run -- <command>`) submits one stdout per iteration (`--iter N`).
 * Without a `fold`, several iterations are folded with `mean`.
 */

export const ITERATION_SEPARATOR = '--- benchline iteration ---';
export const DEFAULT_FOLD: Fold = 'mean';

export interface Iteration {
  /** Names the iteration in errors: `stdout`, `stdout document 2`, a file path. */
  label: string;
  input: AdapterInput;
  /** Measures taken outside the harness for this iteration (its build time). */
  extra?: BenchmarkResults;
}

/**
 * The top-level JSON values of `text` when it is two or more objects or arrays separated by
 * whitespace only; undefined otherwise (one document, or anything that is not pure JSON).
 */
export function splitJsonDocuments(text: string): string[] | undefined {
  const documents: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 0) {
      if (c === '{' || c === '[') {
        start = i;
        depth = 1;
      } else if (!/\s/.test(c)) {
        return undefined;
      }
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) documents.push(text.slice(start, i + 1));
    }
  }
  if (depth !== 0 || documents.length < 2) return undefined;
  return documents;
}

/** Splits stdout at separator lines; undefined when it has none. */
function splitAtSeparators(stdout: string): string[] | undefined {
  const lines = stdout.split(/\r?\n/);
  if (!lines.some((l) => l.trim() === ITERATION_SEPARATOR)) return undefined;
  const parts: string[][] = [[]];
  for (const line of lines) {
    if (line.trim() === ITERATION_SEPARATOR) parts.push([]);
    else parts[parts.length - 1].push(line);
  }
  // A trailing (or leading) separator leaves an empty part: that is not an iteration.
  return parts.map((p) => p.join('\n')).filter((p) => p.trim() !== '');
}

/** The iterations in one job's output, by the rules above. */
export function iterationsOf(output: AdapterInput): Iteration[] {
  const files = Object.entries(output.files).sort(([a], [b]) => a.localeCompare(b));
  if (files.length > 1) return files.map(([path, text]) => ({ label: path, input: { stdout: '', files: { [path]: text } } }));
  if (files.length === 1) return [{ label: files[0][0], input: output }];
  const documents = splitJsonDocuments(output.stdout);
  if (documents) return documents.map((text, i) => ({ label: `stdout document ${i + 1}`, input: { stdout: text, files: {} } }));
  const parts = splitAtSeparators(output.stdout);
  if (parts && parts.length > 1) return parts.map((text, i) => ({ label: `stdout iteration ${i + 1}`, input: { stdout: text, files: {} } }));
  return [{ label: 'stdout', input: output }];
}

export interface ParseOptions {
  adapter: AdapterName;
  average?: Average;
  fold?: Fold;
}

/**
 * Parses every iteration with the adapter and folds them. An iteration no adapter understands
 * fails the whole run (its AdapterError names the iteration), as one bad run among N would
 * otherwise silently bias the fold.
 */
export function parseIterations(iterations: readonly Iteration[], { adapter, average, fold }: ParseOptions): BenchmarkResults {
  if (iterations.length === 0) throw new AdapterError('no output to parse', adapter);
  const parsed = iterations.map((iteration) => {
    try {
      return mergeResults(parseResults(adapter, iteration.input, { average }), iteration.extra ?? {});
    } catch (err) {
      if (!(err instanceof AdapterError) || iterations.length === 1) throw err;
      throw new AdapterError(`iteration ${iteration.label}: ${err.message}`, err.adapter);
    }
  });
  return parsed.length === 1 ? parsed[0] : foldIterations(parsed, fold ?? DEFAULT_FOLD);
}

/** Benchmarks whose results are kept but never alert (Bencher's suffixes). */
export function isIgnoredBenchmark(name: string): boolean {
  return name.endsWith('_bencher_ignore') || name.endsWith('-bencher-ignore') || name.endsWith('BencherIgnore');
}
