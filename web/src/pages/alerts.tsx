import { useState } from 'preact/hooks';
import type { AlertView } from '../../../common/schemas';
import { getToken, projectPath, query } from '../api';
import { Pager } from '../components/pager';
import { formatTime, formatValue, short } from '../format';
import { Status, useApi } from '../hooks';
import { navigate } from '../router';

const PER_PAGE = 50;
/** The filters GET /v0/projects/{project}/alerts takes, as the page's URL holds them. */
const FILTERS = ['status', 'branch', 'testbed', 'benchmark', 'measure'] as const;
const STATUSES = ['active', 'dismissed', 'silenced'] as const;
type AlertStatus = (typeof STATUSES)[number];
/** The buttons, by the status each sets; an alert shows those other than its own. */
const ACTIONS: Record<AlertStatus, string> = { dismissed: 'Dismiss', silenced: 'Silence', active: 'Reactivate' };

/** One alert; members change its status through the API (PATCH), and the row shows what the API answered. */
function AlertRow({ project, alert, member }: { project: string; alert: AlertView; member: boolean }) {
  const [a, setA] = useState(alert);
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const href = (path: string) => `/projects/${encodeURIComponent(project)}${path}`;
  const change = async (status: AlertStatus) => {
    setState({ busy: true });
    const response = await fetch(`${projectPath(project)}/alerts/${a.uuid}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${getToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status }),
    });
    const body = await response.json().catch(() => ({ message: response.statusText }));
    if (response.ok) setA(body as AlertView);
    setState(response.ok ? { busy: false } : { busy: false, error: body.message });
  };
  return (
    <tr data-alert={a.uuid} class={a.status === 'active' ? 'alerting' : ''}>
      <td>{formatTime(a.created)}</td>
      <td class="name">{a.benchmark}</td>
      <td>{a.measure}</td>
      <td>{a.branch}</td>
      <td>{a.testbed}</td>
      <td>{a.side}</td>
      <td class="num">{formatValue(a.value)}</td>
      <td class="num">{formatValue(a.limit)}</td>
      <td class={`alert-status status-${a.status}`}>{a.status}</td>
      <td>
        <a class="plot" href={href(`/perf${query({ branch: a.branch, testbed: a.testbed, benchmark: a.benchmark, measure: a.measure })}`)}>plot</a>{' '}
        <a class="report" href={href(`/reports/${a.report}`)}>report {short(a.report)}</a>
      </td>
      <td>
        {member && STATUSES.filter((s) => s !== a.status).map((s) => (
          <button key={s} type="button" class={`alert-${ACTIONS[s].toLowerCase()}`} disabled={state.busy} onClick={() => change(s)}>{ACTIONS[s]}</button>
        ))}
        {state.error && <small class="error"> {state.error}</small>}
      </td>
    </tr>
  );
}

/**
 * A project's alerts, newest first, filtered and paged by the server; the filters live in the URL.
 * Members (the project view says who is) get buttons to dismiss, silence or reactivate; others read.
 */
export function AlertsPage({ project, params }: { project: string; params: URLSearchParams }) {
  const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const info = useApi<{ member: boolean }>(projectPath(project));
  const alerts = useApi<AlertView[]>(`${projectPath(project)}/alerts${query({ ...filters, page, per_page: PER_PAGE })}`);
  const self = (changes: Record<string, string | number | undefined>) => `/projects/${encodeURIComponent(project)}/alerts${query({ ...filters, page: page === 1 ? undefined : page, ...changes })}`;
  const member = info.state === 'ok' && info.data.rows.member;
  const apply = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    navigate(self({ ...Object.fromEntries(FILTERS.map((f) => [f, String(form.get(f) ?? '').trim()])), page: undefined }));
  };
  return (
    <section id="alerts-page">
      <h1>Alerts <small><a href={`/projects/${encodeURIComponent(project)}`}>{project}</a></small></h1>
      {/* Keyed by the URL's filters, so back and forward reset the fields to what is shown. */}
      <form class="toolbar" id="alert-filters" key={FILTERS.map((f) => filters[f]).join('\u0000')} onSubmit={apply}>
        <select name="status" value={filters.status}>
          <option value="">any status</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        {FILTERS.slice(1).map((f) => <input key={f} name={f} placeholder={f} defaultValue={filters[f]} />)}
        <button type="submit">Filter</button>
        {alerts.state === 'ok' && <span class="muted" id="total">{alerts.data.total} alerts</span>}
      </form>
      <Status of={alerts} />
      {alerts.state === 'ok' && (
        <>
          <table class="list" id="alerts">
            <thead><tr><th>created</th><th>benchmark</th><th>measure</th><th>branch</th><th>testbed</th><th>side</th><th>value</th><th>limit</th><th>status</th><th /><th /></tr></thead>
            <tbody>
              {alerts.data.rows.map((a) => <AlertRow key={`${a.uuid}/${a.modified}`} project={project} alert={a} member={member} />)}
            </tbody>
          </table>
          {alerts.data.rows.length === 0 && <p class="muted">No alerts match.</p>}
          <Pager page={page} pages={Math.max(1, Math.ceil(alerts.data.total / PER_PAGE))} href={(p) => self({ page: p === 1 ? undefined : p })} />
        </>
      )}
    </section>
  );
}
