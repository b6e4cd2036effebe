import { useEffect, useState } from 'preact/hooks';
import type { BenchmarkTableRow } from '../../../common/schemas/perf';
import { projectPath, query } from '../api';
import { formatPercent, formatValue } from '../format';
import { Status, useApi } from '../hooks';
import { Pager } from '../components/pager';
import { navigate } from '../router';

const PER_PAGE = 50;
const TABLE_DRAWN = 'benchline:table-drawn';
const COLUMNS = [
  ['benchmark', 'benchmark'],
  ['measure', 'measure'],
  ['value', 'latest'],
  ['change', 'change'],
  [null, 'history'],
  ['alerts', 'alerts'],
  ['updated', 'updated'],
] as const;

/** A small SVG line of recent values: drawn by the browser, no plot library per row. */
function Sparkline({ values }: { values: number[] }) {
  if (values.length < 2) return null;
  const min = Math.min(...values);
  const span = Math.max(...values) - min || 1;
  const points = values.map((v, i) => `${((i / (values.length - 1)) * 100).toFixed(1)},${(20 - ((v - min) / span) * 18 - 1).toFixed(1)}`).join(' ');
  return <svg class="sparkline" viewBox="0 0 100 20" preserveAspectRatio="none"><polyline points={points} /></svg>;
}

/** Every benchmark × measure of a branch + testbed, paged, sorted and filtered by the server; the state is the URL. */
export function BenchmarksPage({ project, params }: { project: string; params: URLSearchParams }) {
  const branch = params.get('branch') ?? '';
  const testbed = params.get('testbed') ?? '';
  const sort = params.get('sort') ?? 'benchmark';
  const order = params.get('order') === 'desc' ? 'desc' : 'asc';
  const q = params.get('q') ?? '';
  const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
  const [filter, setFilter] = useState(q);
  useEffect(() => setFilter(q), [q]);

  const self = (changes: Record<string, string | number | undefined>) =>
    `/projects/${encodeURIComponent(project)}/benchmarks${query({ branch, testbed, q, sort: sort === 'benchmark' ? undefined : sort, order: order === 'asc' ? undefined : order, page: page === 1 ? undefined : page, ...changes })}`;
  const rows = useApi<BenchmarkTableRow[]>(branch && testbed ? `${projectPath(project)}/benchmark-table${query({ branch, testbed, q, sort, order, page, per_page: PER_PAGE })}` : null);
  // User timing: when a page of rows was first shown (Preact runs effects after the browser paints), as `npm run bench` reads it.
  useEffect(() => {
    if (rows.state === 'ok' && !performance.getEntriesByName(TABLE_DRAWN).length) performance.mark(TABLE_DRAWN);
  }, [rows]);
  const pages = rows.state === 'ok' ? Math.max(1, Math.ceil(rows.data.total / PER_PAGE)) : 1;
  const plot = (r: BenchmarkTableRow) => `/projects/${encodeURIComponent(project)}/perf${query({ branch, testbed, benchmark: r.benchmark, measure: r.measure })}`;

  return (
    <section id="benchmarks">
      <h1>Benchmarks <small>{project} · {branch || '?'} · {testbed || '?'}</small></h1>
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); navigate(self({ q: filter, page: undefined })); }}>
        <input name="q" placeholder="filter by name" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
        <button type="submit">Filter</button>
        {rows.state === 'ok' && <span class="muted" id="total">{rows.data.total} series</span>}
      </form>
      {!branch || !testbed ? <p class="error">Choose a branch and a testbed from the project page.</p> : <Status of={rows} />}
      {rows.state === 'ok' && (
        <>
          <table class="list" id="benchmark-table">
            <thead>
              <tr>
                {COLUMNS.map(([key, label]) => (
                  <th key={label} data-sort={key ?? undefined} class={key === sort ? `sorted ${order}` : undefined}>
                    {key ? <a href={self({ sort: key, order: key === sort && order === 'asc' ? 'desc' : undefined, page: undefined })}>{label}</a> : label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.data.rows.map((r) => (
                <tr key={`${r.benchmark}/${r.measure}`} class={`clickable ${r.alert?.status === 'active' ? 'alerting' : ''}`} onClick={() => navigate(plot(r))}>
                  <td class="name"><a href={plot(r)}>{r.benchmark}</a></td>
                  <td>{r.measure}</td>
                  <td class="num">{formatValue(r.value)} <small>{r.units}</small></td>
                  <td class={`num ${(r.change_percent ?? 0) > 0 ? 'up' : 'down'}`}>{formatPercent(r.change_percent)}</td>
                  <td><Sparkline values={r.sparkline} /></td>
                  <td>{r.alert ? <span class={`badge ${r.alert.status}`}>{r.alert.side} {r.alert.status}</span> : r.active_alerts ? <span class="badge active">{r.active_alerts} active</span> : ''}{r.change_point && <span class="badge cp" title="change point">Δ {formatPercent(r.change_point.percent_change)}</span>}</td>
                  <td>{r.start_time.slice(0, 10)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pages={pages} href={(p) => self({ page: p })} />
        </>
      )}
    </section>
  );
}
