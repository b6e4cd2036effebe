import type { ClaimedJob, RunnerRegistered } from '../common/schemas';
import type { OutputKind } from '../db/rows';

export class RunnerApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The api refused this runner itself rather than a job: it must stop taking work. */
export function isRunnerRefusal(err: RunnerApiError): boolean {
  return err.status === 401 || err.code === 'runner_unavailable';
}

/** The runner's side of the runner-facing API, authenticated with its runner token. */
export class RunnerApi {
  constructor(
    private readonly baseUrl: string,
    private readonly runner: string,
    private readonly token: string,
  ) {}

  register(body: { version: string; executor: string; host: Record<string, unknown> }): Promise<RunnerRegistered> {
    return this.call('POST', 'register', body);
  }

  claim(jobId: string, attempt: number): Promise<ClaimedJob> {
    return this.call('POST', `jobs/${jobId}/claim`, { attempt });
  }

  markRunning(jobId: string, executor: string, execution: Record<string, unknown>): Promise<void> {
    return this.call('POST', `jobs/${jobId}/running`, { executor, execution });
  }

  uploadOutput(jobId: string, kind: OutputKind, path: string, content: Buffer): Promise<void> {
    const query = new URLSearchParams({ kind, path });
    return this.call('PUT', `jobs/${jobId}/outputs?${query}`, content);
  }

  private async call<T>(method: string, path: string, body: unknown): Promise<T> {
    const binary = Buffer.isBuffer(body);
    const response = await fetch(`${this.baseUrl}/v0/runners/${encodeURIComponent(this.runner)}/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        'content-type': binary ? 'application/octet-stream' : 'application/json',
      },
      body: binary ? new Uint8Array(body) : JSON.stringify(body),
    });
    if (response.status === 204) return undefined as T;
    const data = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
    if (!response.ok) throw new RunnerApiError(response.status, data.error ?? 'error', data.message ?? `HTTP ${response.status}`);
    return data as T;
  }
}
