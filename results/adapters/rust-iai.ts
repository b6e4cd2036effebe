import { outputLines, parseNumber } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, resolveAverage, sourcesOf } from './support';

const ADAPTER = 'rust_iai';

/** iai's five counters and the measure each becomes. */
const COUNTERS: Record<string, string> = {
  Instructions: 'instructions',
  'L1 Accesses': 'l1-accesses',
  'L2 Accesses': 'l2-accesses',
  'RAM Accesses': 'ram-accesses',
  'Estimated Cycles': 'estimated-cycles',
};

// `  Instructions:   1234 (+0.5%)` — the parenthesised change appears from the second run on.
const COUNTER_LINE = /^\s+(Instructions|L1 Accesses|L2 Accesses|RAM Accesses|Estimated Cycles):\s+(\d+)(?:\s+\((?:No change|[-+][\d.]+%|[-+]?inf%?)\))?\s*$/;

/** iai (cachegrind-based) stdout: a benchmark name line followed by its indented counters. */
export function rustIaiAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, []);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    let name: string | undefined;
    for (const line of outputLines(source.text)) {
      const counter = COUNTER_LINE.exec(line);
      if (counter) {
        if (name !== undefined) builder.add(name, COUNTERS[counter[1]], { value: parseNumber(counter[2]) });
      } else {
        // Only an unindented line can name a benchmark; anything else ends the current one.
        name = /^\S/.test(line) ? line.trim() : undefined;
      }
    }
  }
  return builder.finish('iai counter blocks (`Instructions:` …)');
}
