import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets Benchline must use again later (a registry password a runner pulls with, a webhook's
 * signing key) cannot be hashed like tokens: they are sealed with AES-256-GCM under the server's
 * key (BENCHLINE_SECRETS_KEY) before they are written, and opened only where they are used.
 *
 * A sealed value describes itself, `sealed:v1:<iv>:<tag>:<ciphertext>` (base64 each), so rows
 * written before sealing existed (plaintext) are told apart and still work, and a later scheme can
 * take `v2` without a migration.
 */
const PREFIX = 'sealed:v1:';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
// 96-bit IVs are GCM's native size; a random one per value (2^-32 collision odds only after ~2^32 seals under one key).
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The variable the key is read from, named in every error about it. */
export const SECRETS_KEY_VARIABLE = 'BENCHLINE_SECRETS_KEY';

/** A sealed value that does not open: another key sealed it, or it was altered. Its message never holds the value. */
export class SecretOpenError extends Error {
  constructor(reason: string) {
    super(`a sealed secret does not open with ${SECRETS_KEY_VARIABLE}: ${reason}`);
    this.name = 'SecretOpenError';
  }
}

/** The key from its base64 text, or why not (for the env parser to name the variable). */
export function parseSecretsKey(text: string): Buffer | string {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return `expected ${KEY_BYTES} bytes in base64 (openssl rand -base64 ${KEY_BYTES}), got something that is not base64`;
  const key = Buffer.from(text, 'base64');
  return key.length === KEY_BYTES ? key : `expected ${KEY_BYTES} bytes in base64 (openssl rand -base64 ${KEY_BYTES}), got ${key.length} bytes`;
}

/** A new random key as BENCHLINE_SECRETS_KEY holds it. */
export function generateSecretsKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

export function isSealed(text: string): boolean {
  return text.startsWith(PREFIX);
}

export function seal(plaintext: string, key: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${PREFIX}${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${ciphertext.toString('base64')}`;
}

/** The plaintext of a sealed value; a value written before sealing (plaintext) comes back as it is. */
export function open(text: string, key: Buffer): string {
  if (!isSealed(text)) return text;
  const parts = text.slice(PREFIX.length).split(':');
  if (parts.length !== 3) throw new SecretOpenError('the value is not in the sealed:v1 form');
  const [iv, tag, ciphertext] = parts.map((p) => Buffer.from(p, 'base64'));
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretOpenError('the value is not in the sealed:v1 form');
  const decipher = createDecipheriv(ALGORITHM, key, iv);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    // GCM cannot tell a wrong key from altered bytes: both fail authentication.
    throw new SecretOpenError('the key is not the one that sealed it, or the value was altered');
  }
}

/** Registry credentials as submitted; in a stored job config or template, `password` is sealed. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/**
 * A job config (or a template's) with its registry password sealed, for writing. An already sealed
 * password (a scheduled run copying its template) is kept as it is, never sealed twice.
 */
export function sealJobCredentials<J extends { image_credentials?: RegistryCredentials }>(job: J, key: Buffer): J {
  const credentials = job.image_credentials;
  if (!credentials || isSealed(credentials.password)) return job;
  return { ...job, image_credentials: { ...credentials, password: seal(credentials.password, key) } };
}

/** A stored job config's credentials with the password opened, for the registry (or undefined). */
export function openCredentials(credentials: RegistryCredentials | undefined, key: Buffer): RegistryCredentials | undefined {
  return credentials && { ...credentials, password: open(credentials.password, key) };
}

type WithJob = { job: { image_credentials?: RegistryCredentials } };

/** A run body (or a pipeline job, a run template) with its job's registry password sealed. */
export function sealRunCredentials<R extends WithJob>(run: R, key: Buffer): R {
  return { ...run, job: sealJobCredentials(run.job, key) };
}

/** A pipeline body (or template) with every job's registry password sealed. */
export function sealPipelineCredentials<P extends { jobs: WithJob[] }>(pipeline: P, key: Buffer): P {
  return { ...pipeline, jobs: pipeline.jobs.map((job) => sealRunCredentials(job, key)) };
}
