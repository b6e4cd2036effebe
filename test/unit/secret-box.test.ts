import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecretsKey, isSealed, open, openCredentials, parseSecretsKey, seal, sealJobCredentials, SecretOpenError, type RegistryCredentials } from '../../common/secret-box';
import { devSecretsKey } from '../../devenv/secrets-key';

const key = parseSecretsKey(generateSecretsKey()) as Buffer;
const otherKey = parseSecretsKey(generateSecretsKey()) as Buffer;

/** The message of what `run` throws (it must throw). */
const thrown = (run: () => unknown): Error => {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
};

/** Flips one bit of one base64 part (0 iv, 1 tag, 2 ciphertext) of a sealed value. */
function tampered(sealed: string, part: number): string {
  const [s, v, ...parts] = sealed.split(':');
  const bytes = Buffer.from(parts[part], 'base64');
  bytes[0] ^= 1;
  parts[part] = bytes.toString('base64');
  return [s, v, ...parts].join(':');
}

describe('secret box (AES-256-GCM at rest)', () => {
  it('seals into a self-describing string without the plaintext, and opens it again', () => {
    const sealed = seal('hunter2-registry-password', key);
    expect(sealed).toMatch(/^sealed:v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain('hunter2');
    expect(isSealed(sealed)).toBe(true);
    expect(open(sealed, key)).toBe('hunter2-registry-password');
    // A fresh IV each time: equal secrets do not give equal rows.
    expect(seal('hunter2-registry-password', key)).not.toBe(sealed);
    expect(open(seal('', key), key)).toBe('');
  });

  it('a value written before sealing (plaintext) opens as it is', () => {
    expect(isSealed('whsec_abc')).toBe(false);
    expect(open('whsec_abc', key)).toBe('whsec_abc');
  });

  it('a wrong key fails with one clear error naming the variable, not a crypto stack', () => {
    const err = thrown(() => open(seal('s3cret', key), otherKey));
    expect(err).toBeInstanceOf(SecretOpenError);
    expect(err.message).toBe('a sealed secret does not open with BENCHLINE_SECRETS_KEY: the key is not the one that sealed it, or the value was altered');
  });

  it.each([
    ['the iv', 0],
    ['the tag', 1],
    ['the ciphertext', 2],
  ])('altering %s is detected', (_what, part) => {
    const sealed = seal('s3cret', key);
    expect(thrown(() => open(tampered(sealed, part), key))).toBeInstanceOf(SecretOpenError);
  });

  it('a truncated or malformed sealed value is refused, not decrypted to garbage', () => {
    const sealed = seal('s3cret', key);
    expect(thrown(() => open(sealed.split(':').slice(0, 4).join(':'), key)).message).toContain('not in the sealed:v1 form');
    expect(thrown(() => open(`sealed:v1:AAAA:${sealed.split(':')[3]}:${sealed.split(':')[4]}`, key)).message).toContain('not in the sealed:v1 form');
  });

  it('the key must be 32 bytes of base64', () => {
    expect(parseSecretsKey(generateSecretsKey())).toHaveLength(32);
    expect(parseSecretsKey(Buffer.alloc(16).toString('base64'))).toBe('expected 32 bytes in base64 (openssl rand -base64 32), got 16 bytes');
    expect(parseSecretsKey('not base64!')).toContain('not base64');
  });

  it('job credentials: the password is sealed once (a template copied into a job stays as it is) and opened for use', () => {
    const job = { image: 'r/i:1', image_credentials: { username: 'ci', password: 'pw' } };
    const sealed = sealJobCredentials(job, key);
    expect(sealed.image_credentials.username).toBe('ci');
    expect(isSealed(sealed.image_credentials.password)).toBe(true);
    expect(job.image_credentials.password).toBe('pw'); // the body is not changed in place
    expect(sealJobCredentials(sealed, key)).toEqual(sealed);
    expect(openCredentials(sealed.image_credentials, key)).toEqual({ username: 'ci', password: 'pw' });
    expect(openCredentials({ username: 'ci', password: 'legacy' }, key)).toEqual({ username: 'ci', password: 'legacy' });
    const anonymous: { image: string; image_credentials?: RegistryCredentials } = { image: 'r/i:1' };
    expect(sealJobCredentials(anonymous, key)).toBe(anonymous);
    expect(openCredentials(undefined, key)).toBeUndefined();
  });
});

describe("npm run dev's key", () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'benchline-key-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('made on the first run, owner-only, and the same one on every later run', async () => {
    const first = await devSecretsKey(dir, {});
    expect(first.source).toBe(`${join(dir, 'secrets.key')} (new)`);
    expect(parseSecretsKey(first.key)).toHaveLength(32);
    expect((await stat(join(dir, 'secrets.key'))).mode & 0o777).toBe(0o600);
    const again = await devSecretsKey(dir, {});
    expect(again).toEqual({ key: first.key, source: join(dir, 'secrets.key') });
    expect(open(seal('pw', parseSecretsKey(first.key) as Buffer), parseSecretsKey(again.key) as Buffer)).toBe('pw');
  });

  it('BENCHLINE_SECRETS_KEY wins, and writes nothing', async () => {
    const set = generateSecretsKey();
    expect(await devSecretsKey(dir, { BENCHLINE_SECRETS_KEY: set })).toEqual({ key: set, source: 'BENCHLINE_SECRETS_KEY' });
    await expect(stat(join(dir, 'secrets.key'))).rejects.toThrow('ENOENT');
  });

  it('a damaged key file is an error saying what to do, never replaced (rows sealed with it would be lost)', async () => {
    await writeFile(join(dir, 'secrets.key'), 'short\n');
    await expect(devSecretsKey(dir, {})).rejects.toThrow(/secrets\.key: expected 32 bytes .*restore the key/);
    expect(await readFile(join(dir, 'secrets.key'), 'utf8')).toBe('short\n');
  });
});
