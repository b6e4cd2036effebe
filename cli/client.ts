import type { JobView, NewReportInput, NewRun, ReportCreated, ReportView, RunAccepted } from '../common/schemas';
import type { PipelineSummary, PipelineView } from '../common/schemas/pipelines';
import { CLAIM_TOKEN_HEADER } from '../common/tokens';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

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
    return this.json('POST', `/v0/projects/${encodeURIComponent(project)}/reports`, report);
  }

  /** A pipeline plan as POST /v0/pipelines takes it (checked by the server, which names any bad field). */
  submitPipeline(plan: unknown): Promise<PipelineView> {
    return this.json('POST', '/v0/pipelines', plan);
  }

  pipeline(pipeline: string): Promise<PipelineView> {
    return this.json('GET', `/v0/pipelines/${encodeURIComponent(pipeline)}`);
  }

  pipelines(project: string, query: URLSearchParams): Promise<PipelineSummary[]> {
    return this.json('GET', `/v0/projects/${encodeURIComponent(project)}/pipelines?${query}`);
  }

  /** Cancel, pause or resume a pipeline; the view answered is the pipeline as the call left it. */
  controlPipeline(pipeline: string, action: 'cancel' | 'pause' | 'resume'): Promise<PipelineView> {
    return this.json('POST', `/v0/pipelines/${encodeURIComponent(pipeline)}/${action}`);
  }

  job(project: string, job: string): Promise<JobView> {
    return this.json('GET', `/v0/projects/${encodeURIComponent(project)}/jobs/${job}`);
  }

  report(project: string, report: string): Promise<ReportView> {
    return this.json('GET', `/v0/projects/${encodeURIComponent(project)}/reports/${report}`);
  }

  async output(project: string, job: string, kind: 'stdout' | 'stderr'): Promise<string> {
    const response = await this.fetch('GET', `/v0/projects/${encodeURIComponent(project)}/jobs/${job}/outputs/${kind}`);
    return response.ok ? response.text() : '';
  }

  /** Schedules: `path` is '' for the project's list, else the schedule's UUID and an action (`<id>/pause`). */
  schedules<T>(method: string, project: string, path: string, body?: unknown): Promise<T> {
    return this.json(method, `/v0/projects/${encodeURIComponent(project)}/schedules${path && `/${path}`}`, body);
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(method, path, body);
    const data = (await response.json().catch(() => ({}))) as { message?: string };
    if (!response.ok) throw new ApiError(response.status, data.message ?? `HTTP ${response.status}`);
    return data as T;
  }

  private fetch(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(this.claimToken ? { [CLAIM_TOKEN_HEADER]: this.claimToken } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}
