import type { MetricView, ReportView } from '../common/schemas';
import { formatNumber, formatPercent, shortUnits, unjudgedMeasures, unprocessedJob } from './format';

/**
 * The Markdown of a pull-request comment (and of a job summary, and of `benchline run --format
 * markdown`): a header saying where the results come from, the alerts first, every result in a
 * collapsed table, and why nothing was judged when no threshold applies. Pure: the GitHub Action
 * (action/main.ts) and the CLI feed it the `--format json` report(s) and the links they know.
 */

/** GitHub refuses an issue or pull-request comment body longer than this (characters). */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** One report of the comment: a run's, or one job's of a pipeline. */
export interface CommentEntry {
  /** The pipeline job's key; absent for a single run. */
  key?: string;
  /** Absent when the run produced no report (the CLI failed before one existed). */
  report?: ReportView;
  /** The job's workflow in the Temporal UI (JobView.temporal_ui_url). */
  temporalUrl?: string;
  /** Why there are no results, when there is no report to say it (e.g. the CLI's error). */
  error?: string;
}

export interface CommentInput {
  project: string;
  entries: CommentEntry[];
  /** The baseline branch (the PR's base, `--start-point`). */
  base?: string;
  /** Where the console is served (the api's URL): links to the perf plot and the report. */
  consoleUrl?: string;
  /** A pipeline's UUID and its workflow, when the comment is a pipeline's. */
  pipeline?: { uuid: string; status: string; temporalUrl?: string };
  /** A hidden HTML comment put first, by which the action finds its comment again. */
  marker?: string;
  /** The most characters the Markdown may have; GitHub's comment limit by default. */
  limit?: number;
}

/** `<!-- benchline:project/branch/testbed -->`: one comment per project, branch and testbed (or pipeline plan) on a pull request. */
export function commentMarker(...parts: string[]): string {
  // `--` would end the HTML comment early.
  return `<!-- benchline:${parts.join('/').replace(/--+/g, '-')} -->`;
}

const escape = (s: string) => s.replace(/([|\\`*_[\]<>])/g, '\\$1');
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
const link = (text: string, url: string | undefined) => (url ? `[${text}](${url})` : text);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The console's perf page for one series, with the base branch's series beside it (web/src/pages/perf.tsx reads these parameters). */
export function perfUrl(consoleUrl: string, report: Pick<ReportView, 'project' | 'branch' | 'testbed'>, metric: Pick<MetricView, 'benchmark' | 'measure'>, base?: string): string {
  const q = new URLSearchParams();
  q.append('branch', report.branch);
  if (base && base !== report.branch) q.append('branch', base);
  q.append('testbed', report.testbed);
  q.append('benchmark', metric.benchmark);
  q.append('measure', metric.measure);
  return `${consoleUrl}/projects/${encodeURIComponent(report.project)}/perf?${q}`;
}

export function reportUrl(consoleUrl: string, report: Pick<ReportView, 'project' | 'uuid'>): string {
  return `${consoleUrl}/projects/${encodeURIComponent(report.project)}/reports/${report.uuid}`;
}

const alertsOf = (report: ReportView) => report.results.flatMap((r) => r.alerts.map((a) => ({ r, a })));

export function commentAlertCount(input: Pick<CommentInput, 'entries'>): number {
  return input.entries.reduce((n, e) => n + (e.report ? alertsOf(e.report).length : 0), 0);
}

/** The line under the title: where the results come from. */
function headerLine(input: CommentInput, entry: CommentEntry | undefined): string {
  const report = entry?.report;
  const parts: string[] = [];
  if (report) {
    parts.push(`**Branch** ${code(report.branch)}`, `**Testbed** ${code(report.testbed)}`);
    if (report.spec) parts.push(`**Spec** ${code(report.spec)}`);
  }
  parts.push(`**Base** ${input.base ? code(input.base) : '_none_ (compared with the branch\'s own history)'}`);
  if (report) parts.push(`**Adapter** ${code(report.adapter)}`);
  if (input.pipeline) parts.push(`**Pipeline** ${link(code(input.pipeline.uuid), input.pipeline.temporalUrl)} (${input.pipeline.status})`);
  else if (entry?.temporalUrl) parts.push(`**Job** ${link('Temporal workflow', entry.temporalUrl)}`);
  return parts.join(' · ');
}

/** Every alert, as a table: benchmark, measure, value, change, limit, links. Never truncated (compact: no link column). */
function alertSection(input: CommentInput, compactAsked: boolean): string[] {
  const many = input.entries.length > 1;
  // No console URL and no job: no link column at all rather than an empty one.
  const compact = compactAsked || (!input.consoleUrl && input.entries.every((e) => !e.temporalUrl));
  const rows: string[] = [];
  for (const entry of input.entries) {
    if (!entry.report) continue;
    const report = entry.report;
    for (const { r, a } of alertsOf(report)) {
      const links = [
        input.consoleUrl && link('plot', perfUrl(input.consoleUrl, report, r, input.base)),
        input.consoleUrl && link('report', reportUrl(input.consoleUrl, report)),
        entry.temporalUrl && link('Temporal', entry.temporalUrl),
      ].filter(Boolean);
      const limit = `${formatNumber(a.limit)} (${a.side === 'upper' ? 'upper' : 'lower'}${a.limit !== 0 ? `, ${((a.value / a.limit) * 100).toFixed(2)}%` : ''})`;
      const cells = [
        ...(many ? [escape(entry.key ?? '')] : []),
        `🚨 ${escape(r.benchmark)}`,
        `${escape(r.measure_name)} (${escape(shortUnits(r.units))})`,
        formatNumber(a.value),
        formatPercent(r.change_percent),
        limit + (a.status === 'active' ? '' : ` ${a.status}`),
        ...(compact ? [] : [links.join(' · ')]),
      ];
      rows.push(`| ${cells.join(' | ')} |`);
    }
  }
  if (rows.length === 0) return [];
  const headers = [...(many ? ['Job'] : []), 'Benchmark', 'Measure (units)', 'Value', 'Change', 'Limit (value / limit)', ...(compact ? [] : ['Links'])];
  const align = headers.map((h) => (['Value', 'Change', 'Limit (value / limit)'].includes(h) ? '---:' : '---'));
  return [
    '> [!WARNING]',
    `> **${plural(rows.length, 'alert')}**: performance moved outside its threshold.`,
    '',
    `| ${headers.join(' | ')} |`,
    `|${align.join('|')}|`,
    ...rows,
    '',
  ];
}

/** value / limit as a percentage: how close the value is to the limit (100% is on it). */
function limitCell(value: number, limit: number | null | undefined, crossed: boolean): string {
  if (limit === null || limit === undefined) return '-';
  const pct = limit !== 0 ? ` (${((value / limit) * 100).toFixed(2)}%)` : '';
  return `${crossed ? '🚨 ' : ''}${formatNumber(limit)}${pct}`;
}

const RESULT_HEADER = ['| Benchmark | Measure (units) | Value (Δ%) | Lower limit (%) | Upper limit (%) |', '|---|---|---:|---:|---:|'];

function resultRow(r: MetricView): string {
  const crossed = (side: 'lower' | 'upper') => r.alerts.some((a) => a.side === side);
  const value = `${r.alerts.length ? '🚨 ' : ''}${formatNumber(r.value)}${r.change_percent !== null ? ` (${formatPercent(r.change_percent)})` : ''}`;
  return `| ${escape(r.benchmark)} | ${escape(r.measure_name)} (${escape(shortUnits(r.units))}) | ${value} | ${limitCell(r.value, r.boundary?.lower_limit, crossed('lower'))} | ${limitCell(r.value, r.boundary?.upper_limit, crossed('upper'))} |`;
}

/** Why an entry has no results (its job failed, the CLI failed), or undefined. */
function failure(entry: CommentEntry): string | undefined {
  return (entry.report && unprocessedJob(entry.report)) ?? (entry.report ? undefined : (entry.error ?? 'no report was produced'));
}

/** The notes under the alerts: failures, and the measures no threshold judged (why they cannot alert). */
function notes(input: CommentInput): string[] {
  const out: string[] = [];
  for (const entry of input.entries) {
    const why = failure(entry);
    if (why) out.push('> [!CAUTION]', `> ${entry.key ? `**${escape(entry.key)}**: ` : ''}${escape(why).replace(/\n/g, '\n> ')}`, '');
  }
  for (const entry of input.entries) {
    const report = entry.report;
    if (!report || failure(entry)) continue;
    const unjudged = unjudgedMeasures(report);
    if (unjudged.length === 0) continue;
    out.push(
      '> [!NOTE]',
      `> ${entry.key ? `**${escape(entry.key)}**: ` : ''}No threshold found for ${unjudged.map(code).join(', ')} on ${code(report.branch)} / ${code(report.testbed)}, so nothing was judged there: changes are against the previous value and cannot alert. Add one with \`--threshold-measure\` and \`--threshold-test\`${input.base ? `, or clone the base's with \`--start-point-clone-thresholds\`` : ''}.`,
      '',
    );
  }
  return out;
}

/** The collapsed detail: each report's results table, at most `maxRows` rows in all. */
function detailSection(input: CommentInput, maxRows: number, row: (r: MetricView) => string): { lines: string[]; shown: number; total: number } {
  const lines: string[] = [];
  let shown = 0;
  let total = 0;
  for (const entry of input.entries) {
    const report = entry.report;
    if (!report || report.results.length === 0) continue;
    total += report.results.length;
    const rows = report.results.slice(0, Math.max(0, maxRows - shown));
    shown += rows.length;
    if (rows.length === 0) continue;
    if (entry.key) lines.push(`**${escape(entry.key)}** · ${code(report.branch)} / ${code(report.testbed)}${report.spec ? ` · spec ${code(report.spec)}` : ''}`, '');
    lines.push(...RESULT_HEADER, ...rows.map(row), '');
  }
  return { lines, shown, total };
}

function footer(input: CommentInput): string {
  const reports = input.entries.filter((e) => e.report).map((e) => e.report!);
  const refs = reports.map((r) => link(code(r.uuid), input.consoleUrl && reportUrl(input.consoleUrl, r)));
  const digests = [...new Set(reports.map((r) => r.image_digest).filter(Boolean))].map((d) => code(d!));
  return `<sub>${refs.length ? `Report${refs.length === 1 ? '' : 's'} ${refs.join(', ')}` : 'No report'}${digests.length ? ` · image ${digests.join(', ')}` : ''} · Benchline</sub>`;
}

/**
 * The comment. When it would pass `limit`, the collapsed results are cut (whole rows, from the
 * end) and a note says so with a link to the console's report; the alerts are never cut (their
 * link column goes first, as a last resort for thousands of alerts).
 */
export function renderComment(input: CommentInput): string {
  const limit = input.limit ?? GITHUB_COMMENT_LIMIT;
  const first = input.entries.find((e) => e.report) ?? input.entries[0];
  const title = input.pipeline ? `## Benchline pipeline: ${code(input.project)}` : `## Benchline report: ${code(input.project)}`;
  const alerts = commentAlertCount(input);
  // The CLI's markdown knows the base from the report's own settings (members see them).
  const startPoint = first?.report?.settings?.start_point;
  if (!input.base && typeof startPoint === 'string') input = { ...input, base: startPoint };
  // Each row is formatted once: the search below renders the comment a dozen times.
  const rows = new Map<MetricView, string>();
  const row = (r: MetricView) => rows.get(r) ?? rows.set(r, resultRow(r)).get(r)!;
  const build = (maxRows: number, compactAlerts: boolean) => {
    const detail = detailSection(input, maxRows, row);
    const out: string[] = [];
    if (input.marker) out.push(input.marker);
    out.push(title, '', headerLine(input, first), '');
    out.push(...alertSection(input, compactAlerts));
    out.push(...notes(input));
    if (alerts === 0 && input.entries.every((e) => !failure(e))) out.push('✅ No alerts.', '');
    if (detail.total > 0) {
      if (detail.shown < detail.total) {
        const full = input.consoleUrl && first?.report ? ` The full report: ${link('console', reportUrl(input.consoleUrl, first.report))}.` : '';
        out.push('> [!IMPORTANT]', `> Truncated view: ${detail.shown} of ${detail.total} results shown, to stay under GitHub's ${limit.toLocaleString('en-US')}-character comment limit. Every alert is listed above.${full}`, '');
      }
      out.push(`<details><summary>All results (${plural(detail.total, 'result')})</summary>`, '', ...detail.lines, '</details>', '');
    }
    out.push(footer(input));
    return { text: out.join('\n'), shown: detail.shown, total: detail.total };
  };
  let built = build(Infinity, false);
  if (built.text.length <= limit) return built.text;
  // Binary search for the most result rows that fit (the text grows with the rows shown).
  let lo = 0;
  let hi = built.total;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (build(mid, false).text.length <= limit) lo = mid;
    else hi = mid - 1;
  }
  built = build(lo, false);
  if (built.text.length <= limit) return built.text;
  return build(0, true).text;
}
