import { z } from 'zod';
import { parseSecretsKey } from './secret-box';

/**
 * A process that cannot start as configured: main() prints `message` as one line on stderr and
 * exits with `exitCode`, with no stack trace (the cause is the operator's setting, not the code).
 */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

/** An environment variable that does not parse: exit code 2, as for a bad command line. */
export class ConfigError extends StartupError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'ConfigError';
  }
}

/**
 * Prints a StartupError as the one line an operator reads (`benchline-<service>: …` on stderr) and
 * exits; anything else is a bug or a crash and goes to `otherwise` (a logger with its stack).
 */
export function exitOnStartupError(service: string, err: unknown, otherwise: (err: unknown) => void): never {
  if (err instanceof StartupError) {
    process.stderr.write(`benchline-${service}: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(err.exitCode);
  }
  otherwise(err);
  process.exit(1);
}

// Every variable is a string or unset; an empty value counts as unset (compose files write `X=`).
const raw = z.string().optional().transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A whole number in [min, max], or `fallback` when unset. */
export const envInt = <F extends number | undefined>(fallback: F, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
  raw.transform((v, ctx): number | F => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (/^-?\d+$/.test(v) && n >= min && n <= max) return n;
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    ctx.addIssue({ code: 'custom', message: `expected a whole number ${range}, got "${v}"` });
    return z.NEVER;
  });

/** A positive number (fractions allowed), or `fallback` when unset. */
export const envPositive = (fallback: number) =>
  raw.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (Number.isFinite(n) && n > 0) return n;
    ctx.addIssue({ code: 'custom', message: `expected a positive number, got "${v}"` });
    return z.NEVER;
  });

/** true/1 or false/0 (what the existing switches already accept), or `fallback` when unset. */
export const envBool = (fallback = false) =>
  raw.transform((v, ctx) => {
    if (v === undefined) return fallback;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    ctx.addIssue({ code: 'custom', message: `expected true, false, 1 or 0, got "${v}"` });
    return z.NEVER;
  });

/** Free text (a name, a token, a path), or `fallback` when unset. Never echoed in errors: it may be a secret. */
export const envString = <T extends string | undefined>(fallback: T) => raw.transform((v) => v ?? fallback);

/** A required value: its absence is the error. */
export const envRequired = () =>
  raw.transform((v, ctx) => {
    if (v !== undefined) return v;
    ctx.addIssue({ code: 'custom', message: 'is required' });
    return z.NEVER;
  });

/**
 * The key secrets are sealed with at rest (common/secret-box.ts): 32 bytes in base64, required.
 * Never echoed: a malformed value is described by its length only.
 */
export const envSecretsKey = () =>
  raw.transform((v, ctx) => {
    if (v === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is required (32 random bytes in base64: openssl rand -base64 32); keep it, rows sealed with it cannot be read without it' });
      return z.NEVER;
    }
    const key = parseSecretsKey(v);
    if (Buffer.isBuffer(key)) return key;
    ctx.addIssue({ code: 'custom', message: key });
    return z.NEVER;
  });

/** One of `values`, or `fallback` when unset. */
export const envEnum = <const T extends string, F extends T | undefined>(values: readonly T[], fallback: F) =>
  raw.transform((v, ctx): T | F => {
    if (v === undefined) return fallback;
    if ((values as readonly string[]).includes(v)) return v as T;
    ctx.addIssue({ code: 'custom', message: `expected one of ${values.join(', ')}, got "${v}"` });
    return z.NEVER;
  });

/** An absolute URL with one of `protocols` (e.g. ['http:', 'https:']), or `fallback` when unset. */
export const envUrl = (fallback: string, protocols: string[]) =>
  raw.transform((v, ctx) => {
    const value = v ?? fallback;
    if (URL.canParse(value) && protocols.includes(new URL(value).protocol)) return value;
    ctx.addIssue({ code: 'custom', message: `expected a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL, got "${value}"` });
    return z.NEVER;
  });

/** host:port (a Temporal frontend, a bind address), or `fallback` when unset. */
export const envHostPort = <F extends string | undefined>(fallback: F) =>
  raw.transform((v, ctx): string | F => {
    const value = v ?? fallback;
    if (value === undefined) return fallback;
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(value);
    if (match && Number(match[2]) <= 65535) return value;
    ctx.addIssue({ code: 'custom', message: `expected host:port, got "${value}"` });
    return z.NEVER;
  });

/** A comma-separated list (blank entries dropped); undefined when unset. */
export const envList = () => raw.transform((v) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean)));

/** What every Benchline process reads: its log level, Temporal, the SDK's metrics address (worker-runtime.ts). */
export const commonEnv = {
  LOG_LEVEL: envEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  TEMPORAL_ADDRESS: envHostPort('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: envString('default'),
  BENCHLINE_METRICS_ADDRESS: envHostPort(undefined),
};

/**
 * Parses the environment against `shape` (one entry per variable): every variable's problem in one
 * ConfigError line, each naming its variable, e.g. `BENCHLINE_API_PORT: expected a whole number …`.
 */
export function parseEnv<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv): z.output<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(`invalid configuration: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}
