import type { JobStatus, PipelineCounts, PipelineStatus, RetryOn } from '../common/contracts';
import type { Plan, Tier } from '../common/tiers';

/** Row shapes as Postgres returns them (snake_case, Date timestamps). */
export interface OrganizationRow {
  id: string; slug: string; name: string; plan: Plan; claimed: boolean; created_at: Date;
  /** SHA-256 of the one-time token that claims an unclaimed organization; never shown. */
  claim_token_hash: string | null;
}
export interface UserRow {
  id: string; slug: string; name: string; email: string | null;
  /** A server admin manages specs and runners and may change any organization's plan. */
  admin: boolean;
  created_at: Date;
}
export interface ProjectRow { id: string; organization_id: string; slug: string; name: string; visibility: 'public' | 'private'; created_at: Date }
export interface BranchRow { id: string; project_id: string; slug: string; name: string }
export interface TestbedRow { id: string; project_id: string; slug: string; name: string; spec_id: string | null }
export interface SpecRow {
  id: string; slug: string; name: string; architecture: string; cpus: number; memory_mib: number; disk_mib: number;
  network: boolean; is_default: boolean; archived_at: Date | null; created_at: Date;
  /** An operator's pause of dispatch (migration 011): runners' claims of its jobs are refused meanwhile. */
  paused_at: Date | null; pause_reason: string | null; resumed_at: Date | null;
}
export interface RunnerRow {
  id: string; slug: string; name: string; token_hash: string; organization_id: string | null;
  locked_at: Date | null; archived_at: Date | null; last_seen_at: Date | null;
  version: string | null; executor: string | null; host: Record<string, unknown> | null; created_at: Date;
  /** What its daemon last reported of its build (common/build-info.ts). */
  build: { id: string; git_sha: string | null; version: string; node: string; platform: string } | null;
}
export interface ReportRow {
  id: string; project_id: string; branch_id: string; testbed_id: string; adapter: string;
  settings: Record<string, unknown>; start_time: Date; end_time: Date | null; created_at: Date;
}

/** What the submitter asked the runner to do: private, only the claiming runner receives it. */
export interface JobConfig {
  image: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  file_paths?: string[];
  image_credentials?: { username: string; password: string };
  /** The job's retry policy as submitted; absent: the default (common/contracts DEFAULT_RETRY_POLICY). */
  retry?: { max_attempts: number; backoff_seconds: number; on: RetryOn[] };
}

export interface JobRow {
  id: string; report_id: string; project_id: string; organization_id: string;
  spec_id: string | null; requested_spec_id: string | null;
  status: JobStatus; tier: Tier; priority: number; timeout_seconds: number; config: JobConfig;
  image_digest: string | null; source_ip: string; idempotency_key: string | null; submitted_by: string | null;
  runner_id: string | null; attempt: number; error: string | null; exit_code: number | null;
  /** SHA-256 of the latest runJob attempt's claim ticket, and that attempt's number. */
  claim_ticket_hash: string | null; claim_ticket_attempt: number | null;
  execution: Record<string, unknown> | null;
  /** The pipeline the job belongs to, and its key there; null for a single run. */
  pipeline_id: string | null; pipeline_key: string | null;
  /** A delayed job (a run's or a pipeline's) does not start before this time: `scheduled` until then. */
  start_after: Date | null;
  /** What concurrency rules match (migration 011). */
  labels: Record<string, string>;
  created_at: Date; claimed_at: Date | null; started_at: Date | null; completed_at: Date | null; finished_at: Date | null;
}

/** A runJob attempt that failed and was tried again (the job row holds the last attempt). */
export interface JobAttemptRow {
  job_id: string; attempt: number; kind: RetryOn; error: string; runner_id: string | null; exit_code: number | null;
  dispatched_at: Date; claimed_at: Date | null; started_at: Date | null; ended_at: Date; retry_at: Date;
}

export interface PipelineRow {
  id: string; project_id: string; organization_id: string; status: PipelineStatus;
  idempotency_key: string | null; submitted_by: string | null;
  /** Written by the pipeline's workflow when it ends; null while it runs. */
  counts: PipelineCounts | null;
  max_parallel: number | null;
  /** Set while the pipeline is paused (its workflow holds the truth: see migration 011). */
  paused_at: Date | null;
  created_at: Date; finished_at: Date | null;
}
/** A project's concurrency rule: at most `max` of its jobs whose labels include `match` run at once. */
export interface ConcurrencyRuleRow { id: string; project_id: string; match: Record<string, string>; max: number; created_at: Date }
export interface PipelineEdgeRow { pipeline_id: string; job_id: string; needs_job_id: string; requires_success: boolean }
export type OutputKind = 'stdout' | 'stderr' | 'file';

/** A job's place at one of its gates (db/permits.ts): holding a permit, or waiting in `seq` order (one seq per job). */
export interface PermitRow {
  job_id: string;
  gate: string;
  permits: number;
  held: boolean;
  /** bigserial: node-postgres returns it as a string. */
  seq: string;
  created_at: Date;
}
