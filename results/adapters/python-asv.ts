import { NUMBER_PATTERN, TIME_UNIT_PATTERN, outputLines, parseNumber, toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults, Measurement } from '../types';
import { ResultsBuilder, resolveAverage, sourcesOf, withSpread } from './support';

const ADAPTER = 'python_asv';

// asv's `value±error` with its unit, e.g. `2.72±0.06μs` (± omitted for a single sample).
// asv abbreviates minutes to `m` where the shared units say `min`.
const VALUE = new RegExp(`^(${NUMBER_PATTERN})(?:±(${NUMBER_PATTERN}))?(${TIME_UNIT_PATTERN}|m|h)$`);
// `asv run`: `[ 50.00%] ··· benchmarks.Suite.time_x     1.23±0.01ms`, or `ok`/`failed` for tables and errors.
const RUN_LINE = /^\[\s*[\d.]+%\]\s+·+\s+(\S+)\s+(\S+)\s*$/;
// The ===== border of a parameter table, printed after the `ok` line of a parametrised benchmark.
const TABLE_BORDER = /^(?:\[\s*[\d.]+%\]\s+·+\s+)?(=+(?: +=+)*)\s*$/;
// `asv compare` / `asv continuous`, markdown layout: `| change | before | after | ratio | name |`.
const COMPARE_ROW = /^\|[^|]*\|[^|]*\|(?<after>[^|]*)\|[^|]*\|(?<name>[^|]*)\|\s*$/;
// Older column layout: `+   1.00±0.01ms   2.00±0.02ms   2.00  benchmarks.name`.
const COLUMNS_ROW = /^[-+x!~ ]?\s+\S+\s+(?<after>\S+)\s+~?(?:[\d.]+|n\/a)\s+(?<name>\S.*?)\s*$/;

/** An asv time, as latency in ns ± asv's error estimate; undefined for `failed`, `n/a`, memory sizes … */
function asvTime(text: string): Measurement | undefined {
  const match = VALUE.exec(text.trim());
  if (!match) return undefined;
  const unit = match[3] === 'm' ? 'min' : match[3];
  const spread = match[2] === undefined ? undefined : toNanoseconds(parseNumber(match[2]), unit);
  return withSpread(toNanoseconds(parseNumber(match[1]), unit), spread);
}

/** Column extents of a reStructuredText simple-table border. */
function columns(border: string, offset: number): [number, number][] {
  return [...border.matchAll(/=+/g)].map((m) => [offset + (m.index ?? 0), offset + (m.index ?? 0) + m[0].length]);
}

/**
 * One-dimensional parameter table after `lines[start]` (its top border): header row of parameter
 * names, dashes, rows of values then the result. Two-dimensional tables (several parameters laid
 * out across columns) are left alone. Returns the index of the last line it consumed.
 */
function parameterTable(lines: readonly string[], start: number, benchmark: string, builder: ResultsBuilder): number {
  const border = TABLE_BORDER.exec(lines[start]);
  if (!border) return start - 1;
  const spans = columns(border[1], lines[start].indexOf(border[1]));
  const cell = (line: string, [from, to]: [number, number], last: boolean) => line.slice(from, last ? undefined : to).trim();
  // A two-dimensional table's header row starts with `--` where a parameter name would be.
  if (cell(lines[start + 1] ?? '', spans[0], false).startsWith('--')) return start - 1;
  let i = start + 3; // past the header row and the dashes under it
  for (; i < lines.length && !/^\s*=+/.test(lines[i]); i++) {
    const cells = spans.map((span, k) => cell(lines[i], span, k === spans.length - 1));
    const time = asvTime(cells[cells.length - 1]);
    if (time) builder.add(`${benchmark}(${cells.slice(0, -1).join(', ')})`, 'latency', time);
  }
  return i;
}

/**
 * airspeed velocity: `asv run` progress lines (parameter tables included), or the `asv compare` /
 * `asv continuous` table, of which the newer ("after") column is taken. asv reports the median.
 */
export function pythonAsvAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, ['median']);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    const lines = outputLines(source.text).map((l) => l.trimEnd());
    for (let i = 0; i < lines.length; i++) {
      const run = RUN_LINE.exec(lines[i]);
      if (run) {
        const time = asvTime(run[2]);
        if (time) builder.add(run[1], 'latency', time);
        else if (run[2] === 'ok') i = parameterTable(lines, i + 1, run[1], builder);
        continue;
      }
      const row = (COMPARE_ROW.exec(lines[i]) ?? COLUMNS_ROW.exec(lines[i]))?.groups;
      const time = row && asvTime(row.after);
      if (row && time) builder.add(row.name.trim(), 'latency', time);
    }
  }
  return builder.finish('asv benchmark timings', 'median');
}
