import type { JobSummary, JobView, NewReportInput, NewRun, ReportCreated, ReportView, RunAccepted } from '../common/schemas';
import type { PipelineSummary, PipelineView } from '../common/schemas/pipelines';
import { CLAIM_TOKEN_HEADER } from '../common/tokens';

/** The API answered with an error status: `message` is the API's own (naming the field or resource). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** No answer at all: the API could not be reached at `url` (refused, unresolvable, reset). */
export class ApiUnreachableError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot reach the Benchline API at ${url}: ${reason}`);
  }
}

/** What a failed fetch says: undici hides the socket error (ECONNREFUSED, ENOTFOUND) in `cause`. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** One output of a job: its stdout, its stderr, or a file it collected (by path). */
export type OutputRef = { kind: 'stdout' | 'stderr' } | { kind: 'file'; path: string };

/** The user-facing API as the CLI calls it. */
export class BenchlineClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    /** An anonymous submission's claim token: its holder reads the job and report as a member would. */
    private readonly claimToken?: string,
  ) {}

  /** This client, also sending the claim token an anonymous submission was given. */
  withClaimToken(claimToken: string): BenchlineClient {
    return new BenchlineClient(this.baseUrl, this.token, claimToken);
  }

  submit(run: NewRun): Promise<RunAccepted> {
    return this.json('POST', '/v0/run', run);
  }

  /** Results of a local run, parsed and judged by the server at once. */
  submitReport(project: string, report: NewReportInput): Promise<ReportCreated> {
    return this.json('POST', `${projectPath(project)}/reports`, report);
  }

  /** A pipeline plan as POST /v0/pipelines takes it (checked by the server, which names any bad field). */
  submitPipeline(plan: unknown): Promise<PipelineView> {
    return this.json('POST', '/v0/pipelines', plan);
  }

  pipeline(pipeline: string): Promise<PipelineView> {
    return this.json('GET', `/v0/pipelines/${encodeURIComponent(pipeline)}`);
  }

  pipelines(project: string, query: URLSearchParams): Promise<PipelineSummary[]> {
    return this.json('GET', `${projectPath(project)}/pipelines?${query}`);
  }

  /** Cancel, pause or resume a pipeline; the view answered is the pipeline as the call left it. */
  controlPipeline(pipeline: string, action: 'cancel' | 'pause' | 'resume'): Promise<PipelineView> {
    return this.json('POST', `/v0/pipelines/${encodeURIComponent(pipeline)}/${action}`);
  }

  job(project: string, job: string): Promise<JobView> {
    return this.json('GET', `${projectPath(project)}/jobs/${encodeURIComponent(job)}`);
  }

  jobs(project: string, query: URLSearchParams): Promise<JobSummary[]> {
    return this.json('GET', `${projectPath(project)}/jobs?${query}`);
  }

  /** Asks the job's workflow to cancel it; the job reaches `canceled` once its runner (if any) has stopped it. */
  cancelJob(project: string, job: string): Promise<JobView> {
    return this.json('POST', `${projectPath(project)}/jobs/${encodeURIComponent(job)}/cancel`, {});
  }

  report(project: string, report: string): Promise<ReportView> {
    return this.json('GET', `${projectPath(project)}/reports/${encodeURIComponent(report)}`);
  }

  /** An output's bytes; ApiError 404 when the job has no such output (or the caller may not read it). */
  async output(project: string, job: string, output: OutputRef): Promise<Buffer> {
    const query = output.kind === 'file' ? `?${new URLSearchParams({ path: output.path })}` : '';
    const response = await this.fetch('GET', `${projectPath(project)}/jobs/${encodeURIComponent(job)}/outputs/${output.kind}${query}`);
    if (!response.ok) throw await apiError(response);
    return Buffer.from(await response.arrayBuffer());
  }

  /** stdout or stderr as text, or '' when the job has none (it never ran, or the caller may not read it). */
  async outputText(project: string, job: string, kind: 'stdout' | 'stderr'): Promise<string> {
    try {
      return (await this.output(project, job, { kind })).toString('utf8');
    } catch (err) {
      if (err instanceof ApiError) return '';
      throw err;
    }
  }

  /** Schedules: `path` is '' for the project's list, else the schedule's UUID and an action (`<id>/pause`). */
  schedules<T>(method: string, project: string, path: string, body?: unknown): Promise<T> {
    return this.json(method, `${projectPath(project)}/schedules${path && `/${path}`}`, body);
  }

  /** Any other JSON call: the resource commands (alerts, thresholds, runners, specs) name their paths. */
  call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.json(method, path, body);
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(method, path, body);
    if (!response.ok) throw await apiError(response);
    // 204 and other empty bodies (DELETE) are undefined.
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
    try {
      return await fetch(url, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(this.claimToken ? { [CLAIM_TOKEN_HEADER]: this.claimToken } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiUnreachableError(this.baseUrl, networkReason(err));
    }
  }
}

export const projectPath = (project: string) => `/v0/projects/${encodeURIComponent(project)}`;

/** The API's error body names what went wrong; a body that is not JSON (a proxy's page) is named by its status. */
async function apiError(response: Response): Promise<ApiError> {
  const data = (await response.json().catch(() => ({}))) as { message?: string };
  return new ApiError(response.status, data.message ?? `${response.status} ${response.statusText}`.trim());
}
