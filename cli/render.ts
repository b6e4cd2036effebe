import type { ReportView } from '../common/schemas';

/** A plain-text table with aligned columns; numbers right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+\d.,e%]+$|^-$/.test(r[i])));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatNumber(n: number | null): string {
  if (n === null) return '-';
  if (Math.abs(n) >= 1e15 || (n !== 0 && Math.abs(n) < 1e-3)) return n.toExponential(3);
  return n.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

export function resultsTable(report: ReportView): string {
  if (report.results.length === 0) return '(no results)';
  return table(
    ['Benchmark', 'Measure', 'Units', 'Value', 'Lower', 'Upper'],
    report.results.map((r) => [r.benchmark, r.measure_name, r.units, formatNumber(r.value), formatNumber(r.lower_value), formatNumber(r.upper_value)]),
  );
}
