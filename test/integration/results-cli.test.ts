import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportView } from '../../common/schemas';
import { runCli } from '../harness/cli';
import { Stack } from '../harness/stack';

/** `bin/benchline` as CI runs it: a child process against the stack's api. */
describe('benchline run: results, --err, --format, local commands', () => {
  let stack: Stack;
  let image: string;
  let cwd: string;

  const BENCH_SH = `#!/bin/sh
printf '{"cli-bench": {"latency": {"value": %s}}}\\n' "$1"
`;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
    image = await stack.pushImage('cli', { entrypoint: ['/bench.sh'], files: { '/bench.sh': BENCH_SH } });
    cwd = await mkdtemp(join(tmpdir(), 'benchline-cli-'));
  });
  afterAll(async () => {
    await stack?.stop();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(['run', '--project', stack.project.slug, '--testbed', 'ci', '--poll-interval', '200', ...args], {
      cwd,
      env: { BENCHLINE_API_URL: stack.apiUrl, BENCHLINE_TOKEN: stack.userToken, NO_COLOR: '', ...env },
    });

  const thresholdFlags = ['--threshold-measure', 'latency', '--threshold-test', 't_test', '--threshold-upper-boundary', '0.99'];

  it('--err exits 1 when an alert fires and 0 when none does; markdown for a PR comment', async () => {
    // History on branch `gate`: five runs of the same benchmark, submitted as a local run would.
    for (const v of [100, 101, 99.5, 100.5, 99.8]) {
      const r = await stack.request('POST', `/v0/projects/${stack.project.slug}/reports`, {
        branch: 'gate', testbed: 'ci', adapter: 'json', results: [JSON.stringify({ 'cli-bench': { latency: { value: v } } })],
      });
      expect(r.status).toBe(201);
    }

    const regression = await cli(['--branch', 'gate', '--adapter', 'json', '--image', image, '--err', '--format', 'markdown', ...thresholdFlags, '--', '140']);
    expect(regression.stderr).toContain('benchline: 1 alert (--err)');
    expect(regression.code).toBe(1);
    const md = regression.stdout;
    // stdout is the Markdown alone: progress went to stderr.
    expect(md.startsWith(`## Benchline report: \`${stack.project.slug}\``)).toBe(true);
    expect(md).toContain('**Branch** `gate` · **Testbed** `ci`');
    expect(md).toContain('> [!WARNING]\n> **1 alert**');
    // The alerts first, as the GitHub Action's comment has them (cli/pr-comment.ts), linked to the console's plot.
    expect(md).toMatch(/\| 🚨 cli-bench \| Latency \(ns\) \| 140 \| \+39\.\d\d% \| [\d.]+ \(upper, 1\d\d\.\d\d%\) \| \[plot\]\(http:\/\/127\.0\.0\.1:\d+\/projects\/[^/]+\/perf\?branch=gate&testbed=ci&benchmark=cli-bench&measure=latency\)/);
    expect(md).toContain('| Benchmark | Measure (units) | Value (Δ%) | Lower limit (%) | Upper limit (%) |');
    expect(md).toMatch(/\| cli-bench \| Latency \(ns\) \| 🚨 140 \(\+39\.\d\d%\) \| - \| 🚨 [\d.]+ \(1\d\d\.\d\d%\) \|/);
    expect(md).not.toContain('No threshold found');
    expect(regression.stderr).toMatch(/Job [0-9a-f-]{36} submitted/);

    const fine = await cli(['--branch', 'gate', '--adapter', 'json', '--image', image, '--err', '--format', 'markdown', ...thresholdFlags, '--', '100.2']);
    expect(fine.code).toBe(0);
    expect(fine.stdout).toContain('✅ No alerts.');
    expect(fine.stdout).not.toContain('[!WARNING]');

    // Without --err an alert is reported but does not fail the step (400: the 140 above widened the limit).
    const lenient = await cli(['--branch', 'gate', '--adapter', 'json', '--image', image, '--', '400']);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/1 alert:\n {2}cli-bench latency: 400 ns is above the upper limit/);
    expect(lenient.stdout).not.toContain('\u001b['); // not a terminal: no ANSI
  });

  it('notes when no threshold judged the results', async () => {
    const r = await cli(['--branch', 'unjudged', '--adapter', 'json', '--image', image, '--format', 'markdown', '--err', '--', '7']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('> [!NOTE]\n> No threshold found for `latency` on `unjudged` / `ci`');
  });

  it('a failed job exits 1 with its error', async () => {
    const failing = await stack.pushImage('cli-fail', { entrypoint: ['/bin/sh', '-c', 'echo oops >&2; exit 3'] });
    const r = await cli(['--branch', 'gate', '--image', failing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Job failed: the benchmark exited with code 3');
    expect(r.stderr).toContain('oops');
  });

  it('an anonymous run of a failed job shows its real error and stderr, through the claim token it was given', async () => {
    const failing = await stack.pushImage('cli-anon-fail', { entrypoint: ['/bin/sh', '-c', 'echo "anonymous oops" >&2; exit 3'] });
    const anonymous = ['--project', `cli-anon-${stack.id}`, '--spec', stack.spec.slug, '--image', failing];
    const first = await cli(anonymous, { BENCHLINE_TOKEN: '' });
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('Job failed: the benchmark exited with code 3');
    expect(first.stderr).toContain('anonymous oops');
    const claimToken = /"claim_token": "(benchline_claim_[0-9a-f]{64})"/.exec(first.stdout)![1];

    // A later run of the same project is given no claim token: without the first one's it sees
    // what anyone sees; with it (BENCHLINE_CLAIM_TOKEN), what the first run saw.
    const redacted = await cli(anonymous, { BENCHLINE_TOKEN: '' });
    expect(redacted.code).toBe(1);
    expect(redacted.stderr).toContain("Job failed: the job's error is shown to members of its project's organization");
    expect(redacted.stderr).not.toContain('anonymous oops');
    const later = await cli(anonymous, { BENCHLINE_TOKEN: '', BENCHLINE_CLAIM_TOKEN: claimToken });
    expect(later.code).toBe(1);
    expect(later.stderr).toContain('Job failed: the benchmark exited with code 3');
    expect(later.stderr).toContain('anonymous oops');
  });

  it('runs a command locally, reads its output files, and submits the results as a job-less report', async () => {
    const script = `printf '{"local": {"latency": {"value": 42}}}' > out.json; echo "log line"`;
    const r = await cli(['--branch', 'local', '--adapter', 'json', '--file-path', 'out.json', '--build-time', '--', 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('log line'); // the command's own output, shown as it ran
    expect(r.stdout).toMatch(/^local\n {2}Measure \(units\) +Value/m);
    expect(r.stdout).toMatch(/Latency \(ns\) +42 /);
    expect(r.stdout).toContain('No alerts.');
    const reportId = /Report ([0-9a-f-]{36}) submitted/.exec(r.stdout)![1];
    const report = await stack.report(reportId);
    expect(report).toMatchObject({ branch: 'local', testbed: 'ci', job: null, spec: null, adapter: 'json' });
    expect(report.results.find((m) => m.benchmark === 'local')!.value).toBe(42);
    const build = report.results.find((m) => m.measure === 'build-time')!;
    expect(build.benchmark).toBe(`sh -c ${script}`);
    expect(build.value).toBeGreaterThan(0);
  });

  it('--iter runs the command N times and folds; --format json prints the report alone', async () => {
    // Each iteration prints the next of 5, 9, 7 (a counter file in the working directory).
    const script = `n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; set -- 5 9 7; eval v=\\$$n; printf '{"iter": {"latency": {"value": %s}}}' $v`;
    const r = await cli(['--branch', 'local', '--adapter', 'json', '--iter', '3', '--fold', 'max', '--format', 'json', '--', 'sh', '-c', script]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as ReportView;
    expect(report.results).toEqual([expect.objectContaining({ benchmark: 'iter', value: 9 })]);
    expect(report.settings).toMatchObject({ fold: 'max', iterations: 3 });
    expect(r.stderr).toContain('Iteration 3/3');
  });

  it('local failures exit 1: a command that fails, output nothing understands; bad flags exit 2', async () => {
    const failed = await cli(['--branch', 'local', '--', 'sh', '-c', 'exit 3']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('benchline: the command exited with code 3');

    const garbage = await cli(['--branch', 'local', '--adapter', 'json', '--', 'echo', 'not a benchmark']);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(/body\.results: no benchmark results .*\n?.*not a benchmark/s);

    const usage = await cli(['--branch', 'local', '--threshold-test', 't_test', '--', 'true']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--threshold-* flags need --threshold-measure');
    const badModel = await cli(['--branch', 'local', '--adapter', 'json', '--threshold-measure', 'latency', '--threshold-test', 'z_score', '--threshold-upper-boundary', '3', '--', 'echo', '{"a": {"latency": {"value": 1}}}']);
    expect(badModel.code).toBe(2);
    expect(badModel.stderr).toContain('body.thresholds.0.upper_boundary: z_score upper boundary must be a probability in [0.5, 1), got 3');
  });
});
