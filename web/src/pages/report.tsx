import { useState } from 'preact/hooks';
import type { JobView, ReportView } from '../../../common/schemas';
import { getToken, projectPath, query } from '../api';
import { formatPercent, formatTime, formatValue, short } from '../format';
import { Status, useApi } from '../hooks';

/** Nested facts (the executor, its accelerator, the host's tuning) as `a.b: value` lines. */
function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value === null || typeof value !== 'object') return [[prefix, String(value)]];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

/** An output, fetched with the session's token when asked for (outputs are for members only). */
function Output({ base, job, kind, path, size }: { base: string; job: string; kind: string; path: string; size: number }) {
  const [text, setText] = useState<string | null>(null);
  const show = async () => {
    const token = getToken();
    const response = await fetch(`${base}/jobs/${job}/outputs/${kind}${query({ path })}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    setText(response.ok ? await response.text() : `HTTP ${response.status}`);
  };
  return (
    <li>
      <button type="button" onClick={show}>{kind}{path && ` ${path}`}</button> <small>{size} bytes</small>
      {text !== null && <pre class="output">{text}</pre>}
    </li>
  );
}

/** The job behind a report: its status and phases, where it ran, its outputs and its workflow. */
function JobSection({ project, job }: { project: string; job: string }) {
  const base = projectPath(project);
  const loaded = useApi<JobView>(`${base}/jobs/${job}`);
  if (loaded.state !== 'ok') return <Status of={loaded} />;
  const j = loaded.data.rows;
  const phases = [['created', j.created], ['claimed', j.claimed], ['started', j.started], ['completed', j.completed], ['finished', j.finished]] as const;
  return (
    <section id="job">
      <h2>Job {short(j.uuid)} <span class={`status-${j.status}`}>{j.status}</span> <small>attempt {j.attempt} · tier {j.tier} · runner {j.runner ?? '—'}{j.queue_position !== null && ` · queue position ${j.queue_position}`}</small></h2>
      {j.error && <p class="error">{j.error}</p>}
      <p>{phases.filter(([, t]) => t).map(([name, t]) => <span key={name} class="phase">{name} {formatTime(t!)} </span>)} · exit code {j.exit_code ?? '—'} · <a href={j.temporal_ui_url} target="_blank" rel="noreferrer">Temporal UI</a></p>
      {j.outputs.length > 0 && <ul class="outputs">{j.outputs.map((o) => <Output key={`${o.kind}/${o.path}`} base={base} job={j.uuid} kind={o.kind} path={o.path} size={o.size_bytes} />)}</ul>}
      {j.execution !== undefined && j.execution !== null && (
        <table class="list facts"><tbody>{flatten(j.execution).map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}</tbody></table>
      )}
    </section>
  );
}

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
      {r.job && <JobSection project={project} job={r.job} />}
    </section>
  );
}
