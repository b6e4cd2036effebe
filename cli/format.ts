import type { ReportView } from '../common/schemas';

/** How numbers, changes, units and unrun jobs read in every format (cli/render.ts, cli/pr-comment.ts). */

export function formatNumber(n: number | null): string {
  if (n === null) return '-';
  if (Math.abs(n) >= 1e15 || (n !== 0 && Math.abs(n) < 1e-3)) return n.toExponential(3);
  return n.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

export function formatPercent(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return '-';
  return `${p >= 0 ? '+' : ''}${p.toFixed(2)}%`;
}

/** `nanoseconds (ns)` → `ns`: the short unit when the long name carries one. */
export function shortUnits(units: string): string {
  return /\(([^)]+)\)\s*$/.exec(units)?.[1] ?? units;
}

/** Measures (by name) that no threshold judged: their changes are shown, but nothing can alert on them. */
export function unjudgedMeasures(report: ReportView): string[] {
  return [...new Set(report.results.filter((r) => r.boundary === null).map((r) => r.measure))];
}

/**
 * Why a job's report has no results: the job did not process (it failed, was canceled, or has not
 * run yet). Undefined for a processed job's report and a local run's.
 */
export function unprocessedJob(report: ReportView): string | undefined {
  const { job, job_status: status, job_error: error } = report;
  if (!job || !status || status === 'processed') return undefined;
  if (status === 'failed' || status === 'canceled') return `Job ${job} ${status}: ${error ?? 'no reason recorded'}`;
  return `Job ${job} is ${status}: its results come once it has run`;
}
