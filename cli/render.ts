import type { MetricView, ReportView } from '../common/schemas';
import { formatNumber, formatPercent, shortUnits, unjudgedMeasures, unprocessedJob } from './format';
import { renderComment } from './pr-comment';

export { formatNumber, formatPercent, shortUnits, unjudgedMeasures, unprocessedJob };

/** How `benchline run` prints a report (`--format`). */
export const FORMATS = ['human', 'json', 'html', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

/** A plain-text table with aligned columns; numbers right-aligned. `width` measures cells without ANSI codes. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(visible(h).length, ...rows.map((r) => visible(r[i]).length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+\d.,e%]+$|^-$/.test(visible(r[i]))));
  const pad = (c: string, i: number) => {
    const gap = ' '.repeat(widths[i] - visible(c).length);
    return numeric[i] ? gap + c : c + gap;
  };
  const line = (cells: string[]) => cells.map(pad).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// eslint-disable-next-line no-control-regex
const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

/** The report's benchmarks in order, each with its metrics. */
function byBenchmark(report: ReportView): Array<[string, MetricView[]]> {
  const groups = new Map<string, MetricView[]>();
  for (const r of report.results) groups.set(r.benchmark, [...(groups.get(r.benchmark) ?? []), r]);
  return [...groups];
}

export function alertCount(report: ReportView): number {
  return report.results.reduce((n, r) => n + r.alerts.length, 0);
}

const describeAlert = (r: MetricView, a: MetricView['alerts'][number]) =>
  `${r.benchmark} ${r.measure}: ${formatNumber(a.value)} ${shortUnits(r.units)} is ${a.side === 'upper' ? 'above the upper' : 'below the lower'} limit ${formatNumber(a.limit)}`;

export interface RenderOptions {
  /** ANSI colours: only when stdout is a terminal. */
  color?: boolean;
  /** Markdown: the console's URL (the api's), for links to the perf plot and the report. */
  consoleUrl?: string;
  /** Markdown: the job's workflow in the Temporal UI. */
  temporalUrl?: string;
}

const ansi = (on: boolean, code: string) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/** The console view: one table per benchmark, alerts highlighted, then what the run found. */
export function renderHuman(report: ReportView, { color = false }: RenderOptions = {}): string {
  const red = ansi(color, '1;31');
  const bold = ansi(color, '1');
  const dim = ansi(color, '2');
  const notRun = unprocessedJob(report);
  if (notRun) return red(notRun);
  if (report.results.length === 0) return '(no results)';
  const out: string[] = [];
  for (const [benchmark, metrics] of byBenchmark(report)) {
    out.push(bold(benchmark));
    const rows = metrics.map((r) => {
      const alert = r.alerts.find((a) => a.status === 'active') ?? r.alerts[0];
      const cell = (s: string, side?: 'lower' | 'upper') => (alert && (side === undefined || alert.side === side) ? red(s) : s);
      return [
        `${r.measure_name} (${shortUnits(r.units)})`,
        cell(formatNumber(r.value)),
        formatPercent(r.change_percent),
        cell(formatNumber(r.boundary?.lower_limit ?? null), 'lower'),
        cell(formatNumber(r.boundary?.upper_limit ?? null), 'upper'),
        alert ? red(`ALERT ${alert.side === 'upper' ? 'above upper limit' : 'below lower limit'}${alert.status === 'active' ? '' : ` (${alert.status})`}`) : r.boundary?.skipped ? dim(r.boundary.skipped) : '',
      ];
    });
    out.push(table(['Measure (units)', 'Value', 'Change', 'Lower limit', 'Upper limit', 'Status'], rows).replace(/^/gm, '  '), '');
  }
  const alerts = alertCount(report);
  out.push(alerts ? red(`${alerts} alert${alerts === 1 ? '' : 's'}:`) : 'No alerts.');
  for (const r of report.results) for (const a of r.alerts) out.push(red(`  ${describeAlert(r, a)}`));
  const unjudged = unjudgedMeasures(report);
  if (unjudged.length) out.push(dim(`No threshold found for ${unjudged.join(', ')} on ${report.branch} / ${report.testbed}: changes are shown against the previous value and cannot alert.`));
  return out.join('\n');
}

/**
 * A GitHub-flavoured Markdown summary for a pull-request comment or a job summary: the same
 * Markdown the GitHub Action posts (cli/pr-comment.ts), for one report.
 */
export function renderMarkdown(report: ReportView, { consoleUrl, temporalUrl }: RenderOptions = {}): string {
  return renderComment({ project: report.project, entries: [{ report, temporalUrl }], consoleUrl });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A standalone HTML table, for CI systems that show HTML artifacts. */
export function renderHtml(report: ReportView): string {
  const notRun = unprocessedJob(report);
  if (notRun) return [`<h2>Benchline report: ${escapeHtml(report.project)}</h2>`, `<p class="failed">${escapeHtml(notRun)}</p>`].join('\n');
  const rows = report.results.map((r) => {
    const alert = r.alerts.length > 0;
    const cells = [
      r.benchmark,
      `${r.measure_name} (${shortUnits(r.units)})`,
      formatNumber(r.value),
      formatPercent(r.change_percent),
      formatNumber(r.boundary?.lower_limit ?? null),
      formatNumber(r.boundary?.upper_limit ?? null),
      r.alerts.map((a) => `${a.side} (${a.status})`).join(', '),
    ];
    return `<tr${alert ? ' class="alert" style="color:#b00020;font-weight:bold"' : ''}>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
  });
  const unjudged = unjudgedMeasures(report);
  return [
    `<h2>Benchline report: ${escapeHtml(report.project)}</h2>`,
    `<p>Branch <code>${escapeHtml(report.branch)}</code> · Testbed <code>${escapeHtml(report.testbed)}</code> · ${alertCount(report)} alert(s)</p>`,
    '<table>',
    '<thead><tr><th>Benchmark</th><th>Measure (units)</th><th>Value</th><th>Change</th><th>Lower limit</th><th>Upper limit</th><th>Alert</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody>`,
    '</table>',
    ...(unjudged.length ? [`<p>No threshold found for ${unjudged.map((m) => `<code>${escapeHtml(m)}</code>`).join(', ')}.</p>`] : []),
  ].join('\n');
}

export function renderReport(report: ReportView, format: Format, options: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2);
    case 'html':
      return renderHtml(report);
    case 'markdown':
      return renderMarkdown(report, options);
    default:
      return renderHuman(report, options);
  }
}

