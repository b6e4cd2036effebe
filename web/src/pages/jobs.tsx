import { isTerminal, type JobStatus } from '../../../common/contracts';
import type { JobListItem } from '../../../common/schemas';
import { getToken, projectPath, query } from '../api';
import { ActionButton } from '../components/action';
import { mergeJobChanges } from '../job-merge';
import { JobDetail } from '../components/job';
import { Pager } from '../components/pager';
import { formatTime, short } from '../format';
import { Status } from '../hooks';
import { useLiveJobs } from '../live';

const PER_PAGE = 25;

/** Cancel, for those the API allows. */
function CancelButton({ project, job }: { project: string; job: string }) {
  return <ActionButton url={`${projectPath(project)}/jobs/${job}/cancel`} name="cancel" label="Cancel" busyLabel="canceling…" />;
}

/** Only signed-in viewers can cancel (anonymous submitters use their claim token from the CLI). */
const cancelable = (status: JobStatus) => getToken() !== null && !isTerminal(status);

/** A project's jobs, newest first, paged, kept live from the project's job changes; each opens its detail. */
export function JobsPage({ project, params }: { project: string; params: URLSearchParams }) {
  const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
  const jobs = useLiveJobs<JobListItem[]>(project, `${projectPath(project)}/jobs${query({ page, per_page: PER_PAGE })}`, {
    queued: (rows) => rows.filter((j) => j.status === 'pending').map((j) => j.uuid),
    // Later pages take no new jobs: those land on page 1 and only shift the pages after it.
    merge: (data, changes) => mergeJobChanges(data, page === 1 ? changes : { ...changes, jobs: changes.jobs.filter((j) => data.rows.some((r) => r.uuid === j.uuid)) }, PER_PAGE),
  });
  const href = (path: string) => `/projects/${encodeURIComponent(project)}${path}`;
  return (
    <section id="jobs-page">
      <h1>Jobs <small><a href={href('')}>{project}</a></small></h1>
      <Status of={jobs} />
      {jobs.state === 'ok' && (
        <>
          <table class="list" id="jobs">
            <thead><tr><th>job</th><th>status</th><th>queue</th><th>tier</th><th>attempt</th><th>runner</th><th>created</th><th>started</th><th>finished</th><th>report</th><th /></tr></thead>
            <tbody>
              {jobs.data.rows.map((j) => (
                <tr key={j.uuid} data-job={j.uuid}>
                  <td><a href={href(`/jobs/${j.uuid}`)}>{short(j.uuid)}</a></td>
                  <td class={`status status-${j.status}`}>{j.status}</td>
                  <td class="num queue-position" title="jobs ahead of it in its spec's queue">{j.queue_position ?? ''}</td>
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
      <JobDetail project={project} job={job} live actions={(j) => cancelable(j.status) && <CancelButton key={j.status} project={project} job={j.uuid} />} />
    </section>
  );
}
