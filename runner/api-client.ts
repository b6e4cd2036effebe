import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { withClientSpan } from '../common/tracing';
import { reportedBuild, type ReportedBuild } from '../common/build-info';
import { RUNNER_LEASE_HELD } from '../common/contracts';
import { CLAIM_TICKET_HEADER, type ClaimedJob, type RunnerRegistered } from '../common/schemas';
import type { OutputKind } from '../db/rows';

/** How long a clean exit waits to give its lease back. */
const RELEASE_TIMEOUT_MS = 5000;

export class RunnerApiError extends Error {
  /** How long the api asked to be left alone (Retry-After), when it did. */
  retryAfterMs?: number;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The api stayed unreachable (or overloaded) for the runner's whole outage window. */
export class ApiUnreachableError extends Error {}

/** The api refused this runner itself rather than a job: it must stop taking work. */
export function isRunnerRefusal(err: RunnerApiError): boolean {
  return err.status === 401 || err.code === 'runner_unavailable' || err.code === RUNNER_LEASE_HELD;
}

export interface RunnerApiOptions {
  /** How long a job's calls keep being retried through an api outage before the job fails (default 300 s). */
  outageWindowSeconds?: number;
  /** Longest pause between two tries, unless the api asks for longer with Retry-After (default 10 s). */
  maxBackoffMs?: number;
  /** One try's limit: a hung api counts as an unreachable one (default 60 s). */
  requestTimeoutMs?: number;
  /** The host name the runner's lease shows (default: the OS's). */
  hostname?: string;
}

/** Answers that mean "not now" (a proxy without a backend, an api without its database, overload), not "no". */
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);
const FIRST_BACKOFF_MS = 250;

/** A job's claim: the attempt's ticket, and the signal that ends retries when the job is canceled. */
export interface JobCall {
  ticket: string;
  signal?: AbortSignal;
}

/**
 * The runner's side of the runner-facing API, authenticated with its runner token. A job's calls
 * (claim, running, uploads) are idempotent on the api's side, so they are retried with exponential
 * backoff through network errors and 429/502/503/504 for up to the outage window; then they fail
 * with an ApiUnreachableError that names the api and what the runner was doing.
 */
export class RunnerApi {
  private readonly outageWindowMs: number;
  private readonly maxBackoffMs: number;
  private readonly requestTimeoutMs: number;
  /** This daemon process, as the runner's lease names it. */
  readonly instance = randomUUID();
  readonly hostname: string;

  constructor(
    private readonly baseUrl: string,
    private readonly runner: string,
    private readonly token: string,
    options: RunnerApiOptions = {},
  ) {
    this.outageWindowMs = (options.outageWindowSeconds ?? 300) * 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.hostname = options.hostname || osHostname();
  }

  /**
   * Registers, and with each later call (the daemon's pings) renews this daemon's lease on the
   * runner; a 409 runner_lease_held says another daemon holds it. Not retried: the daemon registers
   * at start (again once its executor is known) and then pings; a missed ping is simply the next one's.
   * `build` stands in for this process's own (tests of drift report another).
   */
  register(body: { version: string; executor: string; host: Record<string, unknown>; stopping?: boolean; build?: ReportedBuild }): Promise<RunnerRegistered> {
    return this.send('POST', 'register', {}, { instance: this.instance, hostname: this.hostname, pid: process.pid, build: reportedBuild(), ...body });
  }

  /**
   * Gives the lease back on a clean exit, so the next daemon need not wait for it to expire. Briefly:
   * with the api down the lease expires by itself anyway, and a supervisor's stop timeout is short.
   */
  release(): Promise<void> {
    return this.send('POST', 'release', {}, { instance: this.instance }, AbortSignal.timeout(RELEASE_TIMEOUT_MS));
  }

  claim(jobId: string, call: JobCall): Promise<ClaimedJob> {
    return this.retried('claiming the job', call.signal, () => this.send('POST', `jobs/${jobId}/claim`, ticketHeader(call), undefined, call.signal));
  }

  markRunning(jobId: string, call: JobCall, executor: string, execution: Record<string, unknown>): Promise<void> {
    return this.retried('marking the job running', call.signal, () => this.send('POST', `jobs/${jobId}/running`, ticketHeader(call), { executor, execution }, call.signal));
  }

  uploadOutput(jobId: string, call: JobCall, kind: OutputKind, path: string, content: Buffer): Promise<void> {
    const query = new URLSearchParams({ kind, path });
    const what = kind === 'file' ? `uploading output file ${path}` : `uploading ${kind}`;
    return this.retried(what, call.signal, () => this.send('PUT', `jobs/${jobId}/outputs?${query}`, ticketHeader(call), content, call.signal));
  }

  private async retried<T>(what: string, signal: AbortSignal | undefined, send: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.outageWindowMs;
    for (let tries = 0; ; tries++) {
      let waitMs = Math.min(this.maxBackoffMs, FIRST_BACKOFF_MS * 2 ** tries);
      let problem: string;
      try {
        return await send();
      } catch (err) {
        if (signal?.aborted) throw err;
        if (err instanceof RunnerApiError) {
          if (!TRANSIENT_STATUSES.has(err.status)) throw err;
          waitMs = err.retryAfterMs ?? waitMs;
          problem = `HTTP ${err.status}`;
        } else {
          // fetch's own failure (refused, reset, DNS, our timeout): the cause says which.
          problem = String((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ApiUnreachableError(`the api at ${this.baseUrl} was unreachable for ${Math.round(this.outageWindowMs / 1000)} s while ${what} (last: ${problem})`);
      }
      // The last try lands on the deadline rather than past it.
      await sleep(Math.min(waitMs, left), undefined, { signal });
    }
  }

  private async send<T>(method: string, path: string, headers: Record<string, string>, body?: unknown, signal?: AbortSignal): Promise<T> {
    const binary = Buffer.isBuffer(body);
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    // The route's shape, not its ids, names the span; the traceparent header continues the job's trace in the api.
    const operation = path.split('?')[0].replace(/^jobs\/[^/]+/, 'jobs/:job');
    const response = await withClientSpan(`${method} /v0/runners/:runner/${operation}`, { 'http.request.method': method }, (trace) => fetch(`${this.baseUrl}/v0/runners/${encodeURIComponent(this.runner)}/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': binary ? 'application/octet-stream' : 'application/json' }),
        ...headers,
        ...trace,
      },
      body: body === undefined ? undefined : binary ? new Uint8Array(body) : JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    }));
    if (response.status === 204) return undefined as T;
    const data = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
    if (!response.ok) {
      const err = new RunnerApiError(response.status, data.error ?? 'error', data.message ?? `HTTP ${response.status}`);
      err.retryAfterMs = retryAfterMs(response.headers.get('retry-after'));
      throw err;
    }
    return data as T;
  }
}

function ticketHeader(call: JobCall): Record<string, string> {
  return { [CLAIM_TICKET_HEADER]: call.ticket };
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds from now. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}
