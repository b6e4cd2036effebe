import type { ReportView } from '../../../common/schemas';
import { JobDetail } from '../components/job';
import { projectPath } from '../api';
import { formatPercent, formatTime, formatValue, short } from '../format';
import { Status, useApi } from '../hooks';

/** A report's judged metrics, as the CLI's table shows them: value, change, limits, alerts highlighted. */
export function ReportPage({ project, report }: { project: string; report: string }) {
  const loaded = useApi<ReportView>(`${projectPath(project)}/reports/${encodeURIComponent(report)}`);
  if (loaded.state !== 'ok') return <Status of={loaded} />;
  const r = loaded.data.rows;
  return (
    <section id="report">
      <h1>Report {short(r.uuid)} <small>{r.branch} · {r.testbed} · {formatTime(r.start_time)}</small></h1>
      <p>
        adapter {r.adapter} · {r.job ? <>job {short(r.job)} <span class={`status-${r.job_status}`}>{r.job_status}</span></> : 'local run'}
        {r.image_digest && <> · image {short(r.image_digest, 16)}</>}
        {r.spec && <> · spec {r.spec}</>}
      </p>
      {r.job_error && <p class="error">{r.job_error}</p>}
      <table class="list" id="report-results">
        <thead><tr><th>benchmark</th><th>measure</th><th>value</th><th>baseline</th><th>change</th><th>lower limit</th><th>upper limit</th><th>alert</th></tr></thead>
        <tbody>
          {r.results.map((m) => (
            <tr key={m.uuid} class={m.alerts.some((a) => a.status === 'active') ? 'alerting' : undefined}>
              <td class="name">{m.benchmark}</td>
              <td>{m.measure}</td>
              <td class="num">{formatValue(m.value)} <small>{m.units}</small></td>
              <td class="num">{formatValue(m.baseline)}</td>
              <td class="num">{formatPercent(m.change_percent)}</td>
              <td class="num">{formatValue(m.boundary?.lower_limit)}</td>
              <td class="num">{formatValue(m.boundary?.upper_limit)}</td>
              <td>{m.alerts.map((a) => <span key={a.uuid} class={`badge ${a.status}`}>{a.side} {a.status}</span>)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {r.job && <JobDetail project={project} job={r.job} />}
    </section>
  );
}
