import type { RunnerView } from '../../../common/schemas/runners';
import { query } from '../api';
import { Pager } from '../components/pager';
import { formatTime, short } from '../format';
import { Status, useApi } from '../hooks';

/** Live like the job list: the list endpoint again every few seconds, re-rendering only what changed. */
const REFRESH_MS = 3000;
const PER_PAGE = 100;

const ACCELERATOR_LABELS: Record<NonNullable<RunnerView['accelerator']>, string> = {
  firecracker: 'Firecracker (KVM)',
  kvm: 'KVM (QEMU)',
  emulation: 'emulation (QEMU TCG)',
  none: 'none (sandbox)',
};

/** A build id as a badge: a SHA's first 12 hex digits, a CI build id as it is. */
const buildLabel = (id: string) => (/^[0-9a-f]{40}$/.test(id) ? id.slice(0, 12) : id);

function Drift({ runner }: { runner: RunnerView }) {
  if (!runner.drift) return null;
  return <span class="badge drift" title={runner.drift.reason}>drift</span>;
}

function RunnerRow({ runner }: { runner: RunnerView }) {
  const job = runner.current_job;
  return (
    <tr data-runner={runner.slug} class={runner.drift ? 'drifting' : undefined}>
      <td class="name">{runner.name}<br /><small class="muted">{runner.slug}{runner.organization && ` · ${runner.organization} only`}</small></td>
      <td>{runner.specs.join(', ') || <span class="muted">none</span>}</td>
      <td class={`state state-${runner.state}`}>
        {runner.state}
        {runner.daemon?.stopping && runner.daemon.live && <small class="muted"> (stopping)</small>}
      </td>
      <td>{job ? <a href={`/projects/${encodeURIComponent(job.project)}/jobs/${job.uuid}`}>{short(job.uuid)}</a> : <span class="muted">—</span>} {job && <small class="muted">{job.status}</small>}</td>
      <td class="build">
        {runner.version ?? '—'} {runner.build && <code title={runner.build.git_sha ?? undefined}>{buildLabel(runner.build.id)}</code>} <Drift runner={runner} />
        {runner.drift && <div class="drift-reason"><small>{runner.drift.reason}</small></div>}
        {runner.build && <div><small class="muted">Node {runner.build.node}, {runner.build.platform}</small></div>}
      </td>
      <td>{runner.accelerator ? ACCELERATOR_LABELS[runner.accelerator] : <span class="muted">—</span>}</td>
      <td class="tuning">{runner.tuning_warnings.length ? runner.tuning_warnings.map((w) => <span class="badge warn">{w}</span>) : <span class="muted">ok</span>}</td>
      <td>
        {runner.last_seen ? formatTime(runner.last_seen) : <span class="muted">never</span>}
        {runner.daemon && <div><small class="muted">{runner.daemon.host} pid {runner.daemon.pid}</small></div>}
      </td>
    </tr>
  );
}

/** The fleet board (server admins): what each runner serves and runs, on which build, and whether its host is tuned for benchmarks. */
export function RunnersPage({ params }: { params: URLSearchParams }) {
  const page = Math.max(1, Number(params.get('page')) || 1);
  const runners = useApi<RunnerView[]>(`/v0/runners${query({ archived: 'false', per_page: PER_PAGE, page })}`, REFRESH_MS);
  if (runners.state !== 'ok') {
    return (
      <>
        <h1>Runners</h1>
        {runners.state === 'error' && runners.status === 403 ? <p class="error">Only server admins see the runner board.</p> : <Status of={runners} />}
      </>
    );
  }
  const rows = runners.data.rows;
  const drifting = rows.filter((r) => r.drift).length;
  return (
    <>
      <h1>Runners <small>{runners.data.total} unarchived{drifting > 0 && <span class="error"> · {drifting} on a drifting build</span>}</small></h1>
      <table class="list" id="runner-board">
        <thead>
          <tr><th>Runner</th><th>Specs</th><th>State</th><th>Current job</th><th>Version and build</th><th>Accelerator</th><th>Host tuning</th><th>Last seen</th></tr>
        </thead>
        <tbody>
          {rows.map((r) => <RunnerRow key={r.uuid} runner={r} />)}
        </tbody>
      </table>
      <Pager page={page} pages={Math.max(1, Math.ceil(runners.data.total / PER_PAGE))} href={(p) => `/runners${query({ page: p === 1 ? undefined : p })}`} />
    </>
  );
}
