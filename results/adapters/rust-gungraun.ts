import { NUMBER_PATTERN, outputLines, parseNumber } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, measureSlug, resolveAverage, sourcesOf } from './support';

const ADAPTER = 'rust_gungraun';

// `  Instructions:    1734|1650   (+5.09%) [+1.05x]`: new value | old value (or N/A), then the change.
const METRIC_LINE = new RegExp(`^\\s+([^:|]+?):\\s+(${NUMBER_PATTERN}|N/A)\\|(?:${NUMBER_PATTERN}|N/A)(?:\\s.*)?$`);
// `  ======= DHAT ======` starts a tool's metrics when a benchmark runs more than one Valgrind tool.
const TOOL_LINE = /^\s+=+ ([A-Z]+) =+\s*$/;

/** Metric names whose slug is not simply the name's (kept as Bencher names them). */
const SLUG_OVERRIDES: Record<string, string> = { Ge: 'global-bus-events' };
/** Tools that report errors: their metrics share names, so the tool prefixes the measure. */
const ERROR_TOOLS = new Set(['MEMCHECK', 'HELGRIND', 'DRD']);

function slugFor(tool: string, metric: string): string {
  const slug = SLUG_OVERRIDES[metric] ?? measureSlug(metric);
  return ERROR_TOOLS.has(tool) ? `${tool.toLowerCase()}-${slug}` : slug;
}

/**
 * Gungraun (formerly iai-callgrind) stdout. A benchmark is an unindented `module::group::function
 * id:args` line — continued on further unindented lines when the id is long — then indented metrics.
 */
export function rustGungraunAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, []);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    let nameLines: string[] = [];
    let inMetrics = false;
    let tool = 'CALLGRIND';
    for (const line of outputLines(source.text)) {
      if (line.trim() === '') {
        nameLines = [];
        inMetrics = false;
        continue;
      }
      if (/^\S/.test(line)) {
        if (inMetrics) nameLines = [];
        nameLines.push(line.trim());
        inMetrics = false;
        tool = 'CALLGRIND';
        continue;
      }
      const toolMatch = TOOL_LINE.exec(line);
      if (toolMatch) {
        tool = toolMatch[1];
        inMetrics = true;
        continue;
      }
      const metric = METRIC_LINE.exec(line);
      const name = nameLines.join(' ');
      // Gungraun names always carry a `::` path; requiring it keeps other indented tables out.
      if (!metric || !name.includes('::')) continue;
      inMetrics = true;
      if (metric[2] !== 'N/A') builder.add(name, slugFor(tool, metric[1].trim()), { value: parseNumber(metric[2]) });
    }
  }
  return builder.finish('Gungraun/iai-callgrind metric blocks (`Instructions: new|old`)');
}
