import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOOLS_DIR } from './paths';

/** The schemathesis bootstrap installs (PyPI, pinned, in a venv under .tools/). */
export const SCHEMATHESIS = join(TOOLS_DIR, 'schemathesis', 'bin', 'schemathesis');

export interface FuzzOptions {
  /** Where the api listens, e.g. http://127.0.0.1:8080 (the document is read from /v0/openapi.json). */
  apiUrl: string;
  /** A user API token: sent on every request, so authenticated routes are exercised. */
  token: string;
  /** Requests to aim for; the run's examples per operation are sized from it. */
  requests: number;
  seed?: number;
  /** Receives schemathesis' own output as it runs. */
  log?: (line: string) => void;
}

export interface FuzzResult {
  requests: number;
  /** Responses with a 5xx status. */
  serverErrors: number;
  /** Distinct failures schemathesis reported (any check: conformance, 5xx, acceptance…). */
  failures: number;
  /** schemathesis' exit status: 0 when no check failed and no error happened. */
  exitCode: number;
  /** The failure section of schemathesis' output, for the report. */
  summary: string;
}

/**
 * Every check, every phase (examples, coverage, fuzzing, stateful). Two checks take the statuses
 * that mean "not this input" beyond their defaults, because a schema cannot say everything the
 * server checks:
 * - positive_data_acceptance: a schema-valid body still meets business rules (a spec that does not
 *   exist, a slug already taken, an image reference the registry parser refuses): 400 and 409.
 * - the same check and negative_data_rejection: 429 from the submission rate limit, 503 never (a
 *   503 is counted as a server error below).
 */
const CONFIG = `
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]
`;

/** Runs schemathesis against a running api and counts what it saw (from its HAR report). */
export async function fuzz(options: FuzzOptions): Promise<FuzzResult> {
  if (!existsSync(SCHEMATHESIS)) throw new Error(`schemathesis is not installed at ${SCHEMATHESIS}: run npm run bootstrap`);
  const dir = await mkdtemp(join(tmpdir(), 'benchline-fuzz-'));
  try {
    const document = (await (await fetch(`${options.apiUrl}/v0/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    const config = join(dir, 'schemathesis.toml');
    await import('node:fs/promises').then((fs) => fs.writeFile(config, CONFIG));
    const har = join(dir, 'requests.har');
    const args = [
      '--config-file', config,
      'run', `${options.apiUrl}/v0/openapi.json`,
      '--checks', 'all',
      '--phases', 'examples,coverage,fuzzing,stateful',
      '--header', `Authorization: Bearer ${options.token}`,
      '--max-examples', String(Math.max(1, Math.ceil(options.requests / operations))),
      '--workers', '4',
      '--report', 'har', '--report-har-path', har,
      '--no-color',
      ...(options.seed === undefined ? [] : ['--seed', String(options.seed)]),
    ];
    const output: string[] = [];
    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(SCHEMATHESIS, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SCHEMATHESIS_HOOKS: '' } });
      for (const stream of [child.stdout!, child.stderr!]) {
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          output.push(chunk);
          options.log?.(chunk);
        });
      }
      child.once('error', reject);
      child.once('exit', (code) => resolve(code ?? 1));
    });
    const text = output.join('');
    const entries = existsSync(har) ? ((JSON.parse(await readFile(har, 'utf8')) as { log: { entries: { response: { status: number } }[] } }).log.entries) : [];
    const failures = Number(/(\d+) failures?\b/.exec(text.split('SUMMARY').pop() ?? '')?.[1] ?? (exitCode === 0 ? 0 : NaN));
    return {
      requests: entries.length,
      serverErrors: entries.filter((e) => e.response.status >= 500).length,
      failures,
      exitCode,
      summary: text.includes('FAILURES') ? text.slice(text.indexOf('FAILURES')) : text.slice(-4000),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
