/**
 * The contract between the runner's runJob activity and the places a benchmark can run (a bubblewrap
 * sandbox, a microVM). An executor runs one command to completion, timeout or cancellation, and hands
 * back what it printed and the files it was asked for. It never talks to the api or Temporal.
 */
export type ExecutorName = 'sandbox' | 'microvm';

/** Output caps, the same for every executor. */
export const OUTPUT_LIMITS = { maxTotalBytes: 25 * 1024 * 1024, maxFiles: 255 } as const;

export type ExecutionPhase = 'booting' | 'running' | 'collecting';

export interface ExecutionRequest {
  jobId: string;
  /** The unpacked image root filesystem. Shared by jobs through the image cache: never modify it. */
  rootfs: string;
  /**
   * Identifies the image by source and digest (the image cache's key), for executors that cache
   * derived artefacts (e.g. an initramfs): keyed by digest alone they would cross tenants.
   */
  imageKey: string;
  /** Entrypoint + cmd, already resolved against the image config. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  /** Output files to collect after the command exits: absolute, or relative to `cwd`. */
  filePaths: string[];
  resources: { cpus: number; memoryMiB: number };
  /** Per-job scratch directory on the host, empty at start; the runner deletes it afterwards. */
  scratchDir: string;
  /** Aborted when the job is canceled: the executor kills everything it started and returns. */
  signal: AbortSignal;
  onPhase?: (phase: ExecutionPhase) => void;
}

export interface OutputFile {
  path: string;
  content: Buffer;
}

export interface ExecutionResult {
  /** Exit code of the command; null when it never exited on its own (timeout, cancel, setup error). */
  exitCode: number | null;
  timedOut: boolean;
  canceled: boolean;
  stdout: Buffer;
  stderr: Buffer;
  files: OutputFile[];
  /** Wall time of the command itself, in milliseconds. */
  durationMs: number;
  /** Why the job failed before or around the command, in words for the user (missing entrypoint, output over the cap…). */
  error?: string;
  /** Executor facts worth recording with the job (VMM, acceleration, kernel…). */
  metadata: Record<string, unknown>;
}

export interface Executor {
  readonly name: ExecutorName;
  /** What this executor is, for the runner's registration and each job's metadata. */
  describe(): Record<string, unknown>;
  run(request: ExecutionRequest): Promise<ExecutionResult>;
  /**
   * The image cache evicted this image (by its key): drop whatever the executor derived from it
   * (the microVM's packed archive), so those go with it (they are not counted against the cache's
   * budget). No job uses it then.
   */
  forgetImage?(imageKey: string): Promise<void>;
}
