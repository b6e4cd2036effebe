import type { ReportListItem } from '../../../common/schemas/perf';
import { projectPath, query } from '../api';
import { formatTime, short } from '../format';
import { Status, useApi } from '../hooks';

interface Child {
  slug: string;
  name: string;
  spec?: string;
}
interface Job {
  uuid: string;
  status: string;
  tier: string;
  runner: string | null;
  created: string;
  report: string;
}

const ACTIVE = ['pending', 'claimed', 'running', 'completed'];

/** A project at a glance: where its results come from and what happened last. */
export function ProjectPage({ project }: { project: string }) {
  const base = projectPath(project);
  const info = useApi<{ name: string; organization: string; visibility: string }>(base);
  const branches = useApi<Child[]>(`${base}/branches${query({ per_page: 255 })}`);
  const testbeds = useApi<Child[]>(`${base}/testbeds${query({ per_page: 255 })}`);
  const reports = useApi<ReportListItem[]>(`${base}/reports${query({ per_page: 20 })}`);
  const jobs = useApi<Job[]>(`${base}/jobs${query({ status: ACTIVE, per_page: 50 })}`);
  if (info.state !== 'ok') return <Status of={info} />;
  const href = (path: string) => `/projects/${encodeURIComponent(project)}${path}`;
  const firstTestbed = testbeds.state === 'ok' ? testbeds.data.rows[0]?.slug : undefined;
  const specs = testbeds.state === 'ok' ? [...new Set(testbeds.data.rows.flatMap((t) => (t.spec ? [t.spec] : [])))] : [];
  return (
    <section id="project-home">
      <h1>{info.data.rows.name} <small>{info.data.rows.organization} · {info.data.rows.visibility}</small></h1>
      <div class="columns">
        <div>
          <h2>Branches</h2>
          <Status of={branches} />
          {branches.state === 'ok' && (
            <ul id="branches">
              {branches.data.rows.map((b) => (
                <li key={b.slug}>
                  {b.slug} {firstTestbed && <a href={href(`/benchmarks${query({ branch: b.slug, testbed: firstTestbed })}`)}>benchmarks</a>}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h2>Testbeds</h2>
          <Status of={testbeds} />
          {testbeds.state === 'ok' && <ul id="testbeds">{testbeds.data.rows.map((t) => <li key={t.slug}>{t.slug}{t.spec && <small> on {t.spec}</small>}</li>)}</ul>}
          <h2>Specs</h2>
          <ul id="specs">{specs.length ? specs.map((s) => <li key={s}>{s}</li>) : <li class="muted">none shown (members see their testbeds' specs)</li>}</ul>
        </div>
        <div>
          <h2>Active jobs <small><a href={href('/jobs')} id="all-jobs">all jobs</a></small></h2>
          <Status of={jobs} />
          {jobs.state === 'ok' && (jobs.data.rows.length ? (
            <table class="list" id="active-jobs">
              <thead><tr><th>job</th><th>status</th><th>tier</th><th>runner</th><th>created</th></tr></thead>
              <tbody>{jobs.data.rows.map((j) => <tr key={j.uuid}><td><a href={href(`/jobs/${j.uuid}`)}>{short(j.uuid)}</a></td><td class={`status-${j.status}`}>{j.status}</td><td>{j.tier}</td><td>{j.runner ?? '—'}</td><td>{formatTime(j.created)}</td></tr>)}</tbody>
            </table>
          ) : <p class="muted">No active jobs.</p>)}
        </div>
      </div>
      <h2>Recent reports</h2>
      <Status of={reports} />
      {reports.state === 'ok' && (
        <table class="list" id="reports">
          <thead><tr><th>report</th><th>time</th><th>branch</th><th>testbed</th><th>adapter</th><th>job</th><th>metrics</th><th>alerts</th></tr></thead>
          <tbody>
            {reports.data.rows.map((r) => (
              <tr key={r.uuid}>
                <td><a href={href(`/reports/${r.uuid}`)}>{short(r.uuid)}</a></td>
                <td>{formatTime(r.start_time)}</td>
                <td>{r.branch}</td>
                <td>{r.testbed}</td>
                <td>{r.adapter}</td>
                <td>{r.job_status ?? 'local run'}</td>
                <td class="num">{r.metrics}</td>
                <td class={`num ${r.active_alerts ? 'alerting' : ''}`}>{r.active_alerts}{r.alerts > r.active_alerts ? ` (+${r.alerts - r.active_alerts} closed)` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
