import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from '../harness/stack';

/** action.yml's entry, as its `run` step starts it. */
const ACTION = join(__dirname, '..', '..', 'bin', 'benchline-action');

interface Recorded {
  method: string;
  path: string;
  authorization?: string;
  body?: { body?: string; state?: string; context?: string; description?: string; target_url?: string };
}

/**
 * GitHub's REST API as far as the action uses it (issue comments with Link-header pages, commit
 * statuses), recording every request: GitHub itself is unreachable from here, so GITHUB_API_URL
 * points the action at this server, as it would at a GitHub Enterprise Server.
 */
class FakeGitHub {
  readonly requests: Recorded[] = [];
  readonly comments: Array<{ id: number; body: string }> = [];
  private nextId = 1000;
  private server!: Server;
  url!: string;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req).then(([status, body, headers]) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown, Record<string, string>?]> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const url = new URL(req.url!, this.url);
    this.requests.push({ method: req.method!, path: url.pathname, authorization: req.headers.authorization, body: text ? JSON.parse(text) : undefined });
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /repos/acme/widgets/issues/7/comments') {
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      const next = page * perPage < this.comments.length ? { link: `<${this.url}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"` } : undefined;
      return [200, this.comments.slice((page - 1) * perPage, page * perPage), next];
    }
    if (route === 'POST /repos/acme/widgets/issues/7/comments') {
      const comment = { id: this.nextId++, body: JSON.parse(text).body as string };
      this.comments.push(comment);
      return [201, { ...comment, html_url: `https://github.example/acme/widgets/pull/7#issuecomment-${comment.id}` }];
    }
    const patch = /^PATCH \/repos\/acme\/widgets\/issues\/comments\/(\d+)$/.exec(route);
    const comment = patch && this.comments.find((c) => c.id === Number(patch[1]));
    if (comment) {
      comment.body = JSON.parse(text).body;
      return [200, comment];
    }
    if (/^POST \/repos\/acme\/widgets\/statuses\/[0-9a-f]{40}$/.test(route)) return [201, { id: 1 }];
    return [404, { message: 'Not Found' }];
  }

  /** The requests since `from`, as "METHOD path". */
  calls(from = 0): string[] {
    return this.requests.slice(from).map((r) => `${r.method} ${r.path}`);
  }
}

describe('the GitHub Action (action.yml → bin/benchline-action) against a recording GitHub API', () => {
  let stack: Stack;
  let github: FakeGitHub;
  let dir: string;
  const HEAD_SHA = 'a'.repeat(40);
  const MERGE_SHA = 'b'.repeat(40);

  beforeAll(async () => {
    stack = await Stack.start();
    github = new FakeGitHub();
    await github.start();
    dir = await mkdtemp(join(tmpdir(), 'benchline-action-'));
    await writeFile(join(dir, 'event.json'), JSON.stringify({ action: 'synchronize', number: 7, pull_request: { number: 7, head: { sha: HEAD_SHA, ref: 'feature' }, base: { ref: 'main' } } }));
    // Other bots' comments (and another project's Benchline comment) fill the first page: the action must page on.
    for (let n = 0; n < 120; n++) github.comments.push({ id: n + 1, body: n === 50 ? '<!-- benchline:other-project/feature/ci -->\nnot ours' : `comment ${n}` });
    // Someone quoting our comment later (set once the marker is known): holds the marker, but not first.
    quoted = { id: 121, body: '' };
    github.comments.push(quoted);
    // The base branch's history: five runs near 100 ns.
    for (const v of [100, 101, 99.5, 100.5, 99.8]) {
      const r = await stack.request('POST', `/v0/projects/${stack.project.slug}/reports`, {
        branch: 'main', testbed: 'ci', adapter: 'json', results: [JSON.stringify({ 'action-bench': { latency: { value: v } } })],
      });
      expect(r.status).toBe(201);
    }
  });
  afterAll(async () => {
    await stack?.stop();
    await github?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** One step of a workflow: the environment GitHub Actions gives a step on a pull_request event, and the action's inputs. */
  function runAction(value: number, inputs: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; summary: string; output: string }> {
    const summary = join(dir, `summary-${value}-${Date.now()}.md`);
    const output = join(dir, `output-${value}-${Date.now()}`);
    const env = {
      PATH: process.env.PATH!,
      HOME: process.env.HOME ?? dir,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: join(dir, 'event.json'),
      GITHUB_REPOSITORY: 'acme/widgets',
      GITHUB_SHA: MERGE_SHA,
      GITHUB_HEAD_REF: 'feature',
      GITHUB_BASE_REF: 'main',
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: output,
      GITHUB_API_URL: github.url,
      INPUT_API_URL: stack.apiUrl,
      INPUT_TOKEN: stack.userToken,
      INPUT_PROJECT: stack.project.slug,
      INPUT_TESTBED: 'ci',
      INPUT_ADAPTER: 'json',
      INPUT_COMMAND: `echo '{"action-bench": {"latency": {"value": ${value}}}}'`,
      INPUT_ARGS: '--threshold-measure latency --threshold-test t_test --threshold-upper-boundary 0.99',
      INPUT_GITHUB_TOKEN: 'ghs_test',
      ...inputs,
    };
    return new Promise((resolve, reject) => {
      const child = spawn(ACTION, [], { cwd: dir, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.once('error', reject);
      child.once('close', async (code) => resolve({ code, stdout, stderr, summary: await readFile(summary, 'utf8').catch(() => ''), output: await readFile(output, 'utf8').catch(() => '') }));
    });
  }

  let quoted: { id: number; body: string };
  const marker = () => `<!-- benchline:${stack.project.slug}/feature/ci -->`;
  const statuses = (from: number) => github.requests.slice(from).filter((r) => r.path.includes('/statuses/'));

  it('first run: one new comment, a pending then successful status on the PR head, the summary', async () => {
    quoted.body = `> ${marker()}\n> ## Benchline report\n\nwhy is this slower?`;
    const first = await runAction(100.2);
    expect({ code: first.code, stderr: first.stderr.slice(-2000) }).toEqual({ code: 0, stderr: expect.any(String) });
    // Both pages read, then one POST: no earlier comment of ours.
    expect(github.calls()).toEqual([
      `POST /repos/acme/widgets/statuses/${HEAD_SHA}`,
      'GET /repos/acme/widgets/issues/7/comments',
      'GET /repos/acme/widgets/issues/7/comments',
      'POST /repos/acme/widgets/issues/7/comments',
      `POST /repos/acme/widgets/statuses/${HEAD_SHA}`,
    ]);
    expect(github.requests.every((r) => r.authorization === 'Bearer ghs_test')).toBe(true);
    const context = `benchline / ${stack.project.slug} / feature / ci`;
    expect(statuses(0).map((r) => [r.body?.state, r.body?.context])).toEqual([['pending', context], ['success', context]]);
    expect(statuses(0)[1].body?.target_url).toMatch(new RegExp(`^${stack.apiUrl}/projects/${stack.project.slug}/reports/[0-9a-f-]{36}$`));

    const ours = github.comments.filter((c) => c.body.startsWith(marker()));
    expect(ours).toHaveLength(1);
    expect(ours[0].id).not.toBe(quoted.id);
    const body = ours[0].body;
    expect(body.startsWith(`${marker()}\n## Benchline report: \`${stack.project.slug}\``)).toBe(true);
    expect(body).toContain('**Branch** `feature` · **Testbed** `ci` · **Base** `main` · **Adapter** `json`');
    expect(body).toContain('✅ No alerts.');
    expect(body).toMatch(/\| action-bench \| Latency \(ns\) \| 100\.2 \([+-]\d+\.\d\d%\) \| - \| [\d.]+ \(\d+\.\d\d%\) \|/);
    // The job summary has the same Markdown, without the marker.
    expect(first.summary).toContain('## Benchline report:');
    expect(first.summary).not.toContain('<!-- benchline:');
    expect(first.output).toMatch(/^alerts=0\nreport=[0-9a-f-]{36}\n$/);
  });

  it('second run with an alert: the same comment updated (PATCH, no second POST), the status fails, the step fails', async () => {
    const from = github.requests.length;
    const commentsBefore = github.comments.length;
    const ours = github.comments.find((c) => c.body.startsWith(marker()))!;
    const second = await runAction(140, { INPUT_FAIL_ON_ALERT: 'true' });
    expect(second.code).toBe(1);
    expect(second.stdout).toContain('::error::benchline: 1 alert (fail-on-alert)');
    expect(github.calls(from)).toEqual([
      `POST /repos/acme/widgets/statuses/${HEAD_SHA}`,
      'GET /repos/acme/widgets/issues/7/comments',
      'GET /repos/acme/widgets/issues/7/comments',
      `PATCH /repos/acme/widgets/issues/comments/${ours.id}`,
      `POST /repos/acme/widgets/statuses/${HEAD_SHA}`,
    ]);
    expect(github.comments).toHaveLength(commentsBefore);
    expect(statuses(from).map((r) => r.body?.state)).toEqual(['pending', 'failure']);
    expect(statuses(from)[1].body?.description).toBe('1 alert: performance moved outside its threshold');

    const body = github.comments.find((c) => c.id === ours.id)!.body;
    expect(body.startsWith(marker())).toBe(true);
    expect(body).toContain('> [!WARNING]\n> **1 alert**');
    const plot = `${stack.apiUrl}/projects/${stack.project.slug}/perf?branch=feature&branch=main&testbed=ci&benchmark=action-bench&measure=latency`;
    expect(body).toMatch(new RegExp(`\\| 🚨 action-bench \\| Latency \\(ns\\) \\| 140 \\| \\+\\d+\\.\\d\\d% \\| [\\d.]+ \\(upper, 1\\d\\d\\.\\d\\d%\\) \\| \\[plot\\]\\(${plot.replace(/[.?]/g, '\\$&')}\\)`));
    // Alerts before the collapsed results.
    expect(body.indexOf('🚨 action-bench')).toBeLessThan(body.indexOf('<details>'));
    expect(body).not.toContain('No alerts');
    // The other project's comment is untouched.
    expect(github.comments.find((c) => c.id === 51)!.body).toBe('<!-- benchline:other-project/feature/ci -->\nnot ours');
  });

  it('fail-on-alert false: the status still fails, the step does not', async () => {
    const from = github.requests.length;
    const third = await runAction(300, { INPUT_FAIL_ON_ALERT: 'false' });
    expect(third.code).toBe(0);
    expect(statuses(from).map((r) => r.body?.state)).toEqual(['pending', 'failure']);
    expect(github.calls(from).filter((c) => c.endsWith('/comments') && c.startsWith('POST'))).toEqual([]);
    expect(third.output).toMatch(/^alerts=1\n/);
  });

  it('a benchmark that fails: the comment says why, the status is an error, the step fails', async () => {
    const from = github.requests.length;
    const failed = await runAction(0, { INPUT_COMMAND: 'echo no results here; exit 3' });
    expect(failed.code).toBe(1);
    expect(statuses(from).map((r) => r.body?.state)).toEqual(['pending', 'error']);
    const body = github.comments.find((c) => c.body.startsWith(marker()))!.body;
    expect(body).toContain('> [!CAUTION]\n> benchline exited 1:');
    expect(github.comments.filter((c) => c.body.startsWith(marker()))).toHaveLength(1);
  });

  it('a pipeline: its own comment (marker by plan file), each job\'s results or failure, the Temporal links', async () => {
    await stack.startRunner();
    const [ok, failing] = await Promise.all([
      stack.pushImage('action-ok', { entrypoint: ['/bin/echo', '{"pipeline-bench": {"latency": {"value": 7}}}'] }),
      stack.pushImage('action-exit3', { entrypoint: ['/bin/sh', '-c', 'echo boom >&2; exit 3'] }),
    ]);
    const job = (key: string, image: string) => `  - key: ${key}\n    branch: feature\n    testbed: ci\n    adapter: json\n    job:\n      image: ${image}\n`;
    await writeFile(join(dir, 'plan.yaml'), `project: ${stack.project.slug}\njobs:\n${job('build', ok)}${job('bench', failing)}`);
    const from = github.requests.length;
    const r = await runAction(0, { INPUT_COMMAND: '', INPUT_ARGS: '--poll-interval 200', INPUT_PIPELINE: 'plan.yaml' });
    expect(r.code).toBe(1);
    const pipelineMarker = `<!-- benchline:${stack.project.slug}/pipeline/plan.yaml -->`;
    expect(github.calls(from).filter((c) => c.startsWith('POST /repos/acme/widgets/issues/'))).toEqual(['POST /repos/acme/widgets/issues/7/comments']);
    const body = github.comments.find((c) => c.body.startsWith(pipelineMarker))!.body;
    expect(body).toContain('## Benchline pipeline: `' + stack.project.slug + '`');
    expect(body).toMatch(/\*\*Pipeline\*\* \[`[0-9a-f-]{36}`\]\(http:\/\/[^)]+\/workflows\/[^)]+\) \(failed\)/);
    expect(body).toMatch(/> \[!CAUTION\]\n> \*\*bench\*\*: Job [0-9a-f-]{36} failed: the benchmark exited with code 3/);
    expect(body).toContain('**build** · `feature` / `ci`');
    expect(body).toMatch(/\| pipeline-bench \| Latency \(ns\) \| 7/);
    expect(statuses(from).map((s) => [s.body?.state, s.body?.context])).toEqual([
      ['pending', `benchline / ${stack.project.slug} / pipeline plan.yaml`],
      ['error', `benchline / ${stack.project.slug} / pipeline plan.yaml`],
    ]);
    // The single run's comment is still the only other one of ours.
    expect(github.comments.filter((c) => c.body.startsWith(`<!-- benchline:${stack.project.slug}/`))).toHaveLength(2);
    expect(quoted.body).toContain('why is this slower?');
  });

  it('an image job on a runner: the spec in the header, the Temporal workflow linked from the alert', async () => {
    const slow = await stack.pushImage('action-slow', { entrypoint: ['/bin/echo', '{"action-bench": {"latency": {"value": 500}}}'] });
    const from = github.requests.length;
    const r = await runAction(0, { INPUT_COMMAND: '', INPUT_IMAGE: slow, INPUT_ARGS: '--poll-interval 200', INPUT_FAIL_ON_ALERT: 'false' });
    expect(r.code).toBe(0);
    expect(github.calls(from)).toContain(`PATCH /repos/acme/widgets/issues/comments/${github.comments.find((c) => c.body.startsWith(marker()))!.id}`);
    const body = github.comments.find((c) => c.body.startsWith(marker()))!.body;
    expect(body).toContain(`**Branch** \`feature\` · **Testbed** \`ci\` · **Spec** \`${stack.spec.slug}\` · **Base** \`main\``);
    const temporal = body.match(/\*\*Job\*\* \[Temporal workflow\]\((http:\/\/[^)]+\/workflows\/[^)]+)\)/)?.[1];
    expect(temporal).toBeDefined();
    expect(body).toMatch(/\| 🚨 action-bench \| Latency \(ns\) \| 500 \|/);
    expect(body).toContain(`· [Temporal](${temporal}) |`);
  });

  it('bad inputs: named, before anything is sent', async () => {
    const from = github.requests.length;
    const bad = await runAction(1, { INPUT_COMMAND: '', INPUT_FAIL_ON_ALERT: 'maybe' });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('::error::benchline: input fail-on-alert must be true or false, got "maybe"');
    expect(github.requests.length).toBe(from);
  });
});
