import { isTerminal, type JobStatus } from '../../../common/contracts';
import type { JobSummary } from '../../../common/schemas';
import { getToken, projectPath, query } from '../api';
import { ActionButton } from '../components/action';
import { JobDetail } from '../components/job';
import { Pager } from '../components/pager';
import { formatTime, short } from '../format';
import { Status, useApi } from '../hooks';

const PER_PAGE = 25;
/**
 * Live status by polling the page shown: the job list endpoint itself, so it is authorised exactly as the
 * list is, one indexed query of at most PER_PAGE rows; Preact re-renders only the rows that changed.
 */
const REFRESH_MS = 1500;

/** Cancel, for those the API allows. */
function CancelButton({ project, job }: { project: string; job: string }) {
  return <ActionButton url={`${projectPath(project)}/jobs/${job}/cancel`} name="cancel" label="Cancel" busyLabel="canceling…" />;
}

/** Only signed-in viewers can cancel (anonymous submitters use their claim token from the CLI). */
const cancelable = (status: JobStatus) => getToken() !== null && !isTerminal(status);

/** A project's jobs, newest first, paged, their status kept live; each opens its detail. */
export function JobsPage({ project, params }: { project: string; params: URLSearchParams }) {
  const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
  const jobs = useApi<JobSummary[]>(`${projectPath(project)}/jobs${query({ page, per_page: PER_PAGE })}`, REFRESH_MS);
  const href = (path: string) => `/projects/${encodeURIComponent(project)}${path}`;
  return (
    <section id="jobs-page">
      <h1>Jobs <small><a href={href('')}>{project}</a></small></h1>
      <Status of={jobs} />
      {jobs.state === 'ok' && (
        <>
          <table class="list" id="jobs">
            <thead><tr><th>job</th><th>status</th><th>tier</th><th>attempt</th><th>runner</th><th>created</th><th>started</th><th>finished</th><th>report</th><th /></tr></thead>
            <tbody>
              {jobs.data.rows.map((j) => (
                <tr key={j.uuid} data-job={j.uuid}>
                  <td><a href={href(`/jobs/${j.uuid}`)}>{short(j.uuid)}</a></td>
                  <td class={`status status-${j.status}`}>{j.status}</td>
                  <td>{j.tier}</td>
                  <td class="num">{j.attempt}</td>
                  <td>{j.runner ?? '—'}</td>
                  <td>{formatTime(j.created)}</td>
                  <td>{j.started ? formatTime(j.started) : '—'}</td>
                  <td>{j.finished ? formatTime(j.finished) : '—'}</td>
                  <td>{j.report ? <a href={href(`/reports/${j.report}`)}>{short(j.report)}</a> : '—'}</td>
                  <td>{cancelable(j.status) && <CancelButton key={j.status} project={project} job={j.uuid} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pages={Math.max(1, Math.ceil(jobs.data.total / PER_PAGE))} href={(p) => href(`/jobs${query({ page: p === 1 ? undefined : p })}`)} />
        </>
      )}
    </section>
  );
}

/** One job: its status (with its queue position while queued), phases and times, outputs; live until it ends. */
export function JobPage({ project, job }: { project: string; job: string }) {
  return (
    <section id="job-page">
      <p><a href={`/projects/${encodeURIComponent(project)}/jobs`}>← jobs of {project}</a></p>
      <JobDetail project={project} job={job} refreshMs={REFRESH_MS} actions={(j) => cancelable(j.status) && <CancelButton key={j.status} project={project} job={j.uuid} />} />
    </section>
  );
}
