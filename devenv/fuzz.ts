import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOOLS_DIR } from './paths';

/** The schemathesis bootstrap installs (PyPI, pinned, in a venv under .tools/). */
export const SCHEMATHESIS = join(TOOLS_DIR, 'schemathesis', 'bin', 'schemathesis');

export interface FuzzOptions {
  /** Where the api listens, e.g. http://127.0.0.1:8080 (the document is read from /v0/openapi.json). */
  apiUrl: string;
  /** A user API token, for the operations whose security is `bearer` (required or optional). */
  token: string;
  /** A runner token, for the runner-facing operations (security `runner`). */
  runnerToken?: string;
  /** Path parameters of resources that exist (organization, project, runner…), so calls get past 404. */
  parameters?: Record<string, string>;
  /** Requests to make at least: rounds run until this many were sent. */
  requests: number;
  /**
   * Schemathesis phases; default all four. The coverage phase (every keyword's boundary and
   * violation, deterministic) costs about 100 s of generation on a small machine whatever the count.
   */
  phases?: ('examples' | 'coverage' | 'fuzzing' | 'stateful')[];
  seed?: number;
  /** Receives schemathesis' own output as it runs. */
  log?: (chunk: string) => void;
}

export interface FuzzResult {
  requests: number;
  /** Responses with a 5xx status. */
  serverErrors: number;
  /** Failures schemathesis reported (any check: conformance, 5xx, acceptance…), over all rounds. */
  failures: number;
  /** Errors of schemathesis itself (a schema it cannot use…), over all rounds. */
  errors: number;
  /** Each round's summary and failures, for the report. */
  summary: string;
}

/**
 * Every check runs. One takes statuses beyond its defaults, because a schema cannot say everything
 * the server checks: positive_data_acceptance meets 400 for schema-valid bodies that break a
 * business rule (a spec that does not exist, an image reference the parser refuses, a slug that
 * cannot be derived from a name), 409 for a slug already taken, 429 from the submission rate limit.
 * A 5xx is never accepted (not_a_server_error).
 */
function config(options: FuzzOptions): string {
  const toml = (value: string) => JSON.stringify(value);
  const lines = [
    '[checks.positive_data_acceptance]',
    'expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]',
    '',
    // Schemathesis' own list, and 414/431: a request whose URL is too long to read (a long string
    // parameter, percent-encoded) is refused before its parameters are looked at.
    '[checks.negative_data_rejection]',
    'expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429", "431"]',
    '',
    // Each security scheme of the document gets its own token.
    '[auth.openapi.bearer]',
    `bearer = ${toml(options.token)}`,
  ];
  if (options.runnerToken) lines.push('', '[auth.openapi.runner]', `bearer = ${toml(options.runnerToken)}`);
  if (options.parameters) lines.push('', '[parameters]', ...Object.entries(options.parameters).map(([k, v]) => `${toml(k)} = ${toml(v)}`));
  return `${lines.join('\n')}\n`;
}

/** Counts per status of one run, read from its HAR report (every request schemathesis sent). */
async function statuses(har: string): Promise<number[]> {
  if (!existsSync(har)) return [];
  const { log } = JSON.parse(await readFile(har, 'utf8')) as { log: { entries: { response: { status: number } }[] } };
  return log.entries.map((e) => e.response.status);
}

/** Runs schemathesis against a running api, round after round until `requests` were sent. */
export async function fuzz(options: FuzzOptions): Promise<FuzzResult> {
  if (!existsSync(SCHEMATHESIS)) throw new Error(`schemathesis is not installed at ${SCHEMATHESIS}: run npm run bootstrap`);
  const dir = await mkdtemp(join(tmpdir(), 'benchline-fuzz-'));
  try {
    const document = (await (await fetch(`${options.apiUrl}/v0/openapi.json`)).json()) as { paths: Record<string, object> };
    const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    const configFile = join(dir, 'schemathesis.toml');
    await writeFile(configFile, config(options));
    const result: FuzzResult = { requests: 0, serverErrors: 0, failures: 0, errors: 0, summary: '' };
    // Requests one generated example costs (the checks resend it without auth, with other methods…):
    // a low first guess, so one round usually reaches the target; then what the last round measured.
    let perExample = 1;
    for (let round = 0; result.requests < options.requests; round++) {
      const har = join(dir, `round-${round}.har`);
      const examples = Math.max(1, Math.ceil((options.requests - result.requests) / operations / perExample));
      const args = [
        '--config-file', configFile,
        'run', `${options.apiUrl}/v0/openapi.json`,
        '--checks', 'all',
        '--phases', (options.phases ?? ['examples', 'coverage', 'fuzzing', 'stateful']).join(','),
        '--max-examples', String(examples),
        // One worker: hypothesis describes strategies with ast.parse, which CPython 3.11 cannot run in
        // several threads at once ("AST constructor recursion depth mismatch").
        '--workers', '1',
        '--report', 'har', '--report-har-path', har,
        '--no-color',
        ...(options.seed === undefined ? [] : ['--seed', String(options.seed + round)]),
      ];
      const { output, code } = await run(SCHEMATHESIS, args, options.log);
      const sent = await statuses(har);
      if (!sent.length) throw new Error(`schemathesis sent no request:\n${output.slice(-4000)}`);
      result.requests += sent.length;
      perExample = Math.max(1, sent.length / operations / examples);
      result.serverErrors += sent.filter((status) => status >= 500).length;
      const tail = output.slice(output.lastIndexOf('= SUMMARY ='));
      // Its last line: "==== 2 failures, 1 error, 3 warnings in 120.5s ====".
      const last = tail.trim().split('\n').pop() ?? '';
      const failures = countIn(last, /(\d+) failures?\b/);
      const errors = countIn(last, /(\d+) errors?\b/);
      result.failures += failures;
      // A failed exit that the summary does not explain is an error too.
      result.errors += errors || (code !== 0 && !failures ? 1 : 0);
      const details = Math.min(...['= ERRORS =', '= FAILURES =', '= SUMMARY ='].map((h) => output.indexOf(h)).filter((i) => i >= 0));
      result.summary += `--- round ${round + 1}: ${sent.length} requests\n${output.slice(details)}\n`;
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const countIn = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);

/** Runs a command, streaming its output to `log`; resolves with all of it and its exit status. */
function run(command: string, args: string[], log?: (chunk: string) => void): Promise<{ output: string; code: number }> {
  return new Promise((resolve, reject) => {
    const chunks: string[] = [];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        chunks.push(chunk);
        log?.(chunk);
      });
    }
    child.once('error', reject);
    child.once('exit', (code) => resolve({ output: chunks.join(''), code: code ?? 1 }));
  });
}
