import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { isTerminal } from '../../../common/contracts';
import type { JobView } from '../../../common/schemas';
import { getToken, projectPath, query } from '../api';
import { formatTime, short } from '../format';
import { Status, useApi } from '../hooks';
import { useLiveJobs, type LiveJobs } from '../live';

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

/** A job's detail stays live: it is fetched again when the job changed or its queue position moved. */
const liveJob: LiveJobs<JobView> = {
  queued: (j) => (j.status === 'pending' ? [j.uuid] : []),
  merge: (page, changes) => {
    const j = page.rows;
    const position = changes.queue_positions.find((p) => p.job === j.uuid)?.position ?? null;
    return changes.jobs.some((c) => c.uuid === j.uuid) || position !== j.queue_position ? 'reload' : page;
  },
  // An ended job changes no more.
  done: (j) => isTerminal(j.status),
};

/**
 * A job: its status and phases, where it ran, its outputs and its workflow. `live`, it stays current
 * until the job ends, from the project's job changes (api/routes/projects.ts).
 */
export function JobDetail({ project, job, live, actions }: { project: string; job: string; live?: boolean; actions?: (job: JobView) => ComponentChildren }) {
  const base = projectPath(project);
  const path = `${base}/jobs/${job}`;
  const once = useApi<JobView>(live ? null : path);
  const kept = useLiveJobs<JobView>(project, live ? path : null, liveJob);
  const loaded = live ? kept : once;
  if (loaded.state !== 'ok') return <Status of={loaded} />;
  const j = loaded.data.rows;
  const phases = [['created', j.created], ['claimed', j.claimed], ['started', j.started], ['completed', j.completed], ['finished', j.finished]] as const;
  return (
    <section id="job">
      <h2>Job {short(j.uuid)} <span class={`status-${j.status}`}>{j.status}</span> <small>attempt {j.attempt} · tier {j.tier} · runner {j.runner ?? '—'}{j.queue_position !== null && <> · queue position <span id="queue-position">{j.queue_position}</span></>}</small> {actions?.(j)}</h2>
      {j.error && <p class="error">{j.error}</p>}
      <p>{phases.filter(([, t]) => t).map(([name, t]) => <span key={name} class="phase">{name} {formatTime(t!)} </span>)} · exit code {j.exit_code ?? '—'} · <a href={j.temporal_ui_url} target="_blank" rel="noreferrer">Temporal UI</a></p>
      {j.outputs.length > 0 && <ul class="outputs">{j.outputs.map((o) => <Output key={`${o.kind}/${o.path}`} base={base} job={j.uuid} kind={o.kind} path={o.path} size={o.size_bytes} />)}</ul>}
      {j.execution !== undefined && j.execution !== null && (
        <table class="list facts"><tbody>{flatten(j.execution).map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}</tbody></table>
      )}
    </section>
  );
}

