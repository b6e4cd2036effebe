import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commonEnv, envEnum, envInt, envRequired, envString, envUrl, parseEnv } from '../common/env';
import { outboundEnv } from '../net/outbound';
import type { ExecutorName } from './executors/executor';
import { DEFAULT_IMAGE_CACHE_MAX_BYTES } from './images';

/** Every variable the runner daemon reads (it never touches the database: all goes through the api). */
const runnerEnv = {
  ...commonEnv,
  ...outboundEnv,
  BENCHLINE_API_URL: envUrl('http://127.0.0.1:8080', ['http:', 'https:']),
  BENCHLINE_RUNNER: envRequired(),
  BENCHLINE_RUNNER_TOKEN: envRequired(),
  BENCHLINE_EXECUTOR: envEnum(['microvm', 'sandbox'], undefined),
  BENCHLINE_CACHE_DIR: envString(join(tmpdir(), 'benchline-runner')),
  BENCHLINE_IMAGE_CACHE_MAX_BYTES: envInt(DEFAULT_IMAGE_CACHE_MAX_BYTES, { min: 1 }),
  BENCHLINE_KERNEL: envString(undefined),
  BENCHLINE_SPEC: envString(undefined),
  BENCHLINE_API_OUTAGE_WINDOW_SECONDS: envInt(undefined, { min: 1 }),
  BENCHLINE_PING_INTERVAL_MS: envInt(undefined, { min: 1 }),
  BENCHLINE_SHUTDOWN_GRACE_SECONDS: envInt(300),
  BENCHLINE_HOSTNAME: envString(undefined),
};

export interface RunnerConfig {
  apiUrl: string;
  runner: string;
  token: string;
  temporalAddress: string;
  namespace: string;
  executor?: ExecutorName;
  cacheDir: string;
  /** Budget for unpacked images under the cache dir; least recently used ones go beyond it. */
  imageCacheMaxBytes: number;
  kernelPath?: string;
  spec?: string;
  /** Unset: the daemon's defaults. */
  apiOutageWindowSeconds?: number;
  pingIntervalMs?: number;
  shutdownGraceSeconds: number;
  /** The host name the runner's lease shows (containers with generated names; tests posing as other hosts). */
  hostname?: string;
}

/** Throws a ConfigError naming each variable that does not parse. */
export function runnerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  const e = parseEnv(runnerEnv, env);
  return {
    apiUrl: e.BENCHLINE_API_URL,
    runner: e.BENCHLINE_RUNNER,
    token: e.BENCHLINE_RUNNER_TOKEN,
    temporalAddress: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    executor: e.BENCHLINE_EXECUTOR,
    cacheDir: e.BENCHLINE_CACHE_DIR,
    imageCacheMaxBytes: e.BENCHLINE_IMAGE_CACHE_MAX_BYTES,
    kernelPath: e.BENCHLINE_KERNEL,
    spec: e.BENCHLINE_SPEC,
    apiOutageWindowSeconds: e.BENCHLINE_API_OUTAGE_WINDOW_SECONDS,
    pingIntervalMs: e.BENCHLINE_PING_INTERVAL_MS,
    shutdownGraceSeconds: e.BENCHLINE_SHUTDOWN_GRACE_SECONDS,
    hostname: e.BENCHLINE_HOSTNAME,
  };
}
