import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSecretsKey, parseSecretsKey, SECRETS_KEY_VARIABLE } from '../common/secret-box';

/**
 * `npm run dev`'s sealing key: BENCHLINE_SECRETS_KEY when set, else the one kept in the data
 * directory, else a new one written there (owner-only) on the first run. Kept, not regenerated:
 * the rows earlier runs sealed (registry passwords, webhook secrets) must still open after a restart.
 */
export async function devSecretsKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ key: string; source: string }> {
  if (env[SECRETS_KEY_VARIABLE]?.trim()) return { key: env[SECRETS_KEY_VARIABLE]!.trim(), source: SECRETS_KEY_VARIABLE };
  const file = join(dataDir, 'secrets.key');
  try {
    // 'wx': never overwrite a key that exists, whatever happened since the check.
    const key = generateSecretsKey();
    await writeFile(file, `${key}\n`, { flag: 'wx', mode: 0o600 });
    return { key, source: `${file} (new)` };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = (await readFile(file, 'utf8')).trim();
  const parsed = parseSecretsKey(key);
  if (!Buffer.isBuffer(parsed)) throw new Error(`${file}: ${parsed}; restore the key that sealed this data directory's rows, or remove ${dataDir} to start afresh`);
  return { key, source: file };
}
