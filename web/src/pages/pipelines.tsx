import { useEffect, useState } from 'preact/hooks';
import { JOB_STATUSES } from '../../../common/contracts';
import type { CriticalPathView, PipelineSummary, PipelineView } from '../../../common/schemas/pipelines';
import { getToken, projectPath, query } from '../api';
import { ActionButton } from '../components/action';
import { Pager } from '../components/pager';
import { criticalEdges, isCriticalEdge, layoutInput, pollInterval, shapeKey, toDrawing, type DagDrawing } from '../dag';
import { formatTime, short } from '../format';
import { Status, useApi } from '../hooks';
import { navigate } from '../router';

const PER_PAGE = 25;
/**
 * Live pages poll (one request at a time, only while the tab is visible) while something can still
 * change: the list for new and ending pipelines; a pipeline until it ends (then it changes no more),
 * at pollInterval for its size.
 */
const LIST_REFRESH_MS = 3000;
/** The critical path is a heavier read (median run times of past jobs) and moves slowly: polled less often. */
const CRITICAL_REFRESH_MS = 5000;
const DAG_LAYOUT = 'benchline:dag-layout';

const pipelineHref = (project: string, path = '') => `/projects/${encodeURIComponent(project)}/pipelines${path}`;
const jobHref = (project: string, job: string) => `/projects/${encodeURIComponent(project)}/jobs/${job}`;
const counts = (c: Record<string, number>) => Object.entries(c).filter(([, n]) => n).map(([s, n]) => `${n} ${s}`).join(' · ') || '—';

/** A project's pipelines, newest first, paged, their status kept live. */
export function PipelinesPage({ project, params }: { project: string; params: URLSearchParams }) {
  const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
  const list = useApi<PipelineSummary[]>(`${projectPath(project)}/pipelines${query({ page, per_page: PER_PAGE })}`, LIST_REFRESH_MS);
  return (
    <section id="pipelines-page">
      <h1>Pipelines <small><a href={`/projects/${encodeURIComponent(project)}`}>{project}</a></small></h1>
      <Status of={list} />
      {list.state === 'ok' && (list.data.rows.length ? (
        <>
          <table class="list" id="pipelines">
            <thead><tr><th>pipeline</th><th>status</th><th>jobs</th><th>by status</th><th>created</th><th>duration</th></tr></thead>
            <tbody>
              {list.data.rows.map((p) => (
                <tr key={p.uuid} data-pipeline={p.uuid}>
                  <td><a href={pipelineHref(project, `/${p.uuid}`)}>{short(p.uuid)}</a></td>
                  <td class={`status status-${p.status}`}>{p.status}{p.paused && ' (paused)'}</td>
                  <td class="num">{p.job_count}</td>
                  <td>{counts(p.counts)}</td>
                  <td>{formatTime(p.created)}</td>
                  <td class="num">{p.duration_seconds === null ? '—' : `${p.duration_seconds.toFixed(1)} s`}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pages={Math.max(1, Math.ceil(list.data.total / PER_PAGE))} href={(p) => pipelineHref(project, query({ page: p === 1 ? undefined : p }))} />
        </>
      ) : <p class="muted">No pipelines yet.</p>)}
    </section>
  );
}

/**
 * elkjs lays the graph out; its bundled build (the layout engine compiled to JavaScript, about
 * 1.6 MB) is loaded only when a pipeline page first needs it, so other pages never fetch it.
 */
let elk: Promise<{ layout: (graph: ReturnType<typeof layoutInput>) => Promise<ReturnType<typeof layoutInput>> }> | undefined;
const layoutEngine = () => (elk ??= import('elkjs/lib/elk.bundled.js').then(({ default: ELK }) => new ELK()));

/** The layout of the graph's shape: computed once per shape, kept while only statuses change. */
function useLayout(view: PipelineView | null): { drawing: DagDrawing | null; error?: string } {
  const key = view ? shapeKey(view) : null;
  const [laid, setLaid] = useState<{ key: string; drawing: DagDrawing | null; error?: string } | null>(null);
  useEffect(() => {
    if (!view || key === null) return;
    let current = true;
    layoutEngine()
      .then((engine) => {
        // User timing: how long the layout alone took (the engine loaded), for `npm run bench` and tests.
        const begun = performance.now();
        return engine.layout(layoutInput(view)).then((result) => (performance.measure(DAG_LAYOUT, { start: begun }), result));
      })
      .then(
        (result) => current && setLaid({ key, drawing: toDrawing(result, view) }),
        (err) => current && setLaid({ key, drawing: null, error: String(err?.message ?? err) }),
      );
    return () => {
      current = false;
    };
  }, [key]);
  return laid && laid.key === key ? laid : { drawing: null };
}

/** The DAG as SVG: each job a box coloured by its status, each need an arrow, the critical path marked. */
function Dag({ view, critical, project }: { view: PipelineView; critical: string[]; project: string }) {
  const { drawing, error } = useLayout(view);
  if (error) return <p class="error">Layout failed: {error}</p>;
  if (!drawing) return <p class="loading">Laying out {view.jobs.length} jobs…</p>;
  const jobs = new Map(view.jobs.map((j) => [j.key, j]));
  const onPath = new Set(critical);
  const pathEdges = criticalEdges(critical);
  const open = (key: string) => navigate(jobHref(project, jobs.get(key)!.uuid));
  return (
    <div class="dag-scroll">
      <svg id="dag" class="dag" width={drawing.width} height={drawing.height} viewBox={`0 0 ${drawing.width} ${drawing.height}`} data-nodes={drawing.nodes.length} data-edges={drawing.edges.length} role="img" aria-label={`pipeline of ${view.jobs.length} jobs`}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" /></marker>
          <marker id="arrow-critical" class="critical" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" /></marker>
        </defs>
        {drawing.edges.map((e) => {
          const hot = isCriticalEdge(pathEdges, e);
          return (
            <path key={`${e.from}>${e.to}`} class={`edge${hot ? ' critical' : ''}${e.requiresSuccess ? '' : ' soft'}`} d={e.path} data-from={e.from} data-to={e.to} data-critical={hot ? 'true' : undefined} marker-end={`url(#${hot ? 'arrow-critical' : 'arrow'})`} />
          );
        })}
        {drawing.nodes.map((n) => {
          const job = jobs.get(n.key)!;
          const hot = onPath.has(n.key);
          return (
            <g
              key={n.key}
              class={`node status-${job.status}${hot ? ' critical' : ''}`}
              transform={`translate(${n.x},${n.y})`}
              data-job={n.key}
              data-uuid={job.uuid}
              data-status={job.status}
              data-critical={hot ? 'true' : undefined}
              tabIndex={0}
              role="link"
              onClick={() => open(n.key)}
              onKeyDown={(e) => e.key === 'Enter' && open(n.key)}
            >
              <title>{`${n.key}: ${job.status}${job.error ? ` (${job.error})` : ''}${hot ? ' · on the critical path' : ''}`}</title>
              <rect width={n.width} height={n.height} rx={6} />
              <text x={10} y={18} class="key">{n.key.length > 20 ? `${n.key.slice(0, 19)}…` : n.key}</text>
              <text x={10} y={34} class="sub">{job.status}{job.attempt > 1 ? ` · attempt ${job.attempt}` : ''}</text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** One pipeline: its DAG, kept live while it runs, its critical path, and its controls. */
export function PipelinePage({ project, pipeline }: { project: string; pipeline: string }) {
  const [ended, setEnded] = useState(false);
  const [size, setSize] = useState(0);
  const path = `/v0/pipelines/${encodeURIComponent(pipeline)}`;
  const loaded = useApi<PipelineView>(path, ended ? undefined : pollInterval(size));
  const critical = useApi<CriticalPathView>(`${path}/critical-path`, ended ? undefined : Math.max(CRITICAL_REFRESH_MS, pollInterval(size)));
  const status = loaded.state === 'ok' ? loaded.data.rows.status : null;
  const jobCount = loaded.state === 'ok' ? loaded.data.rows.jobs.length : 0;
  useEffect(() => setEnded(status !== null && status !== 'running'), [status]);
  useEffect(() => setSize(jobCount), [jobCount]);
  if (loaded.state !== 'ok') return <Status of={loaded} />;
  const p = loaded.data.rows;
  const chain = critical.state === 'ok' ? critical.data.rows.path.map((j) => j.key) : [];
  const control = (action: string, label: string, busyLabel: string) => (
    <ActionButton key={`${action}/${p.status}/${p.paused}`} url={`${path}/${action}`} name={action} label={label} busyLabel={busyLabel} />
  );
  return (
    <section id="pipeline-page">
      <p><a href={pipelineHref(project)}>← pipelines of {project}</a></p>
      <h1>
        Pipeline {short(p.uuid)} <span id="pipeline-status" class={`status-${p.status}`}>{p.status}{p.paused && ' (paused)'}</span>{' '}
        {/* Only signed-in viewers can act; the API decides whether they may. */}
        {getToken() !== null && p.status === 'running' && (
          <span class="controls">{p.paused ? control('resume', 'Resume', 'resuming…') : control('pause', 'Pause', 'pausing…')} {control('cancel', 'Cancel', 'canceling…')}</span>
        )}
      </h1>
      <p class="muted">
        {p.jobs.length} jobs · {counts(p.counts)} · created {formatTime(p.created)}
        {p.finished && ` · finished ${formatTime(p.finished)}`}
        {p.duration_seconds !== null && ` · ${p.duration_seconds.toFixed(1)} s`}
        {p.max_parallel !== null && ` · at most ${p.max_parallel} at once`} · <a href={p.temporal_ui_url} target="_blank" rel="noreferrer">Temporal UI</a>
      </p>
      <Dag view={p} critical={chain} project={project} />
      <p class="legend">{JOB_STATUSES.map((s) => <span key={s} class={`swatch status-${s}`}>{s}</span>)}<span class="swatch critical">critical path</span></p>
      {critical.state === 'ok' && (
        <p id="critical-path" class="muted">
          Critical path{critical.data.rows.estimated && ' (forecast)'}: {chain.join(' → ')} · wall time {critical.data.rows.wall_seconds.toFixed(1)} s
        </p>
      )}
    </section>
  );
}
