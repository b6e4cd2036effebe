import type { Command, CommanderError } from 'commander';
import type { JobSummary, JobView, ReportView } from '../../common/schemas';
import type { ReportListItem } from '../../common/schemas/perf';
import type { AlertView, ThresholdView } from '../../common/schemas/results';
import type { RunnerView } from '../../common/schemas/runners';
import type { SpecView } from '../../common/schemas/specs';
import { buildProgram } from '../../cli/program';
import { createRunner, createUser, grantAdmin } from '../../db/seed';
import { freePort, waitFor } from '../../devenv/wait';
import { runCli, startCli } from '../harness/cli';
import { Stack } from '../harness/stack';

/** Every `benchline` command as CI runs it (bin/benchline, a child process) against the real api, runner and Temporal. */
describe('benchline commands', () => {
  let stack: Stack;
  let image: string;
  let admin: string;
  let env: Record<string, string>;

  // `<value>` prints a result (and writes it to out.json); `sleep` runs until it is canceled.
  const BENCH_SH = `#!/bin/sh
echo "bench stderr line" >&2
if [ "$1" = sleep ]; then exec sleep 617; fi
printf '{"cli-cmd": {"latency": {"value": %s}}}' "$1" | tee /work/out.json
`;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
    image = await stack.pushImage('cli-cmd', { entrypoint: ['/bench.sh'], workingDir: '/work', files: { '/bench.sh': BENCH_SH, '/work/.keep': '' } });
    const created = await createUser(stack.db, { slug: `admin-${stack.id}` });
    await grantAdmin(stack.db, created.user.id);
    admin = created.token;
    env = { BENCHLINE_API_URL: stack.apiUrl, BENCHLINE_TOKEN: stack.userToken, BENCHLINE_PROJECT: stack.project.slug, NO_COLOR: '' };
  });
  afterAll(() => stack?.stop());

  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra } });
  const json = <T>(r: { code: number | null; stdout: string; stderr: string }, code = 0): T => {
    expect([r.code, r.stderr]).toEqual([code, expect.any(String)]);
    return JSON.parse(r.stdout) as T;
  };
  const runArgs = (...args: string[]) => ['run', '--testbed', 'ci', '--adapter', 'json', '--poll-interval', '200', '--image', image, ...args];
  const submittedJob = (output: string) => /Job ([0-9a-f-]{36}) submitted/.exec(output)?.[1];

  it('--help works for every command and exits 0', async () => {
    const paths: string[][] = [];
    const walk = (command: Command, path: string[]) => {
      paths.push(path);
      for (const sub of command.commands) walk(sub, [...path, sub.name()]);
    };
    walk(buildProgram(), []);
    expect(paths.length).toBeGreaterThan(35);
    for (const expected of [['job', 'wait'], ['job', 'logs'], ['report', 'view'], ['alert', 'silence'], ['runner', 'rotate-token'], ['spec', 'list'], ['threshold', 'delete'], ['pipeline', 'run'], ['schedule', 'create']]) {
      expect(paths).toContainEqual(expected);
    }
    // Every command parses --help as the binary does (in this process: a node process each would take a minute here).
    for (const path of paths) {
      const program = buildProgram();
      let out = '';
      const capture = (command: Command) => {
        command.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
        command.commands.forEach(capture);
      };
      capture(program);
      const exit = await program.parseAsync(['node', 'benchline', ...path, '--help']).then(() => undefined, (err: CommanderError) => err);
      expect([path, exit?.exitCode, exit?.code]).toEqual([path, 0, 'commander.helpDisplayed']);
      expect(out).toContain(`Usage: benchline ${path.join(' ')}`.trim());
      // Every command (each leaf of the tree) takes --format.
      const leaf = path.length > 0 && !paths.some((p) => p.length > path.length && p.slice(0, path.length).join(' ') === path.join(' '));
      if (leaf) expect([path, out]).toEqual([path, expect.stringContaining('--format <format>')]);
    }
    // The binary exits 0 for the help of the program, a group and a command, and prints the exit codes.
    for (const path of [[], ['runner'], ['job', 'wait']]) {
      const r = await cli([...path, '--help']);
      expect([path, r.code, r.stderr]).toEqual([path, 0, '']);
      expect(r.stdout).toContain(`Usage: benchline ${path.join(' ')}`.trim());
    }
    expect((await cli(['job', 'wait', '--help'])).stdout).toContain('Exit codes: 0 ok; 1 the job failed');
  });

  it('run --show-output, then job list/view/logs and report list/view on its job', async () => {
    const r = await cli(runArgs('--branch', 'main', '--show-output', '--format', 'json', '--file-path', 'out.json', '--', '12.5'));
    const report = json<ReportView>(r);
    expect(report.results).toEqual([expect.objectContaining({ benchmark: 'cli-cmd', measure: 'latency', value: 12.5 })]);
    // The job's output after it ended, on stderr: stdout holds the report alone.
    expect(r.stderr).toContain('--- stdout ---\n{"cli-cmd": {"latency": {"value": 12.5}}}\n');
    expect(r.stderr).toContain('--- stderr ---\nbench stderr line\n');
    const jobId = report.job!;

    const jobs = json<JobSummary[]>(await cli(['job', 'list', '--format', 'json', '--status', 'processed']));
    expect(jobs.map((j) => j.uuid)).toContain(jobId);
    expect((await cli(['job', 'list'])).stdout).toMatch(new RegExp(`^${jobId} +processed +runner-`, 'm'));

    const view = json<JobView>(await cli(['job', 'view', jobId, '--format', 'json']));
    expect(view).toMatchObject({ uuid: jobId, status: 'processed', report: report.uuid, exit_code: 0 });
    const human = await cli(['job', 'view', jobId]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Job ${jobId} (${stack.project.slug}): processed on runner runner-`);
    expect(human.stdout).toMatch(/^file +out\.json +\d+$/m);

    const stdout = await cli(['job', 'logs', jobId]);
    expect([stdout.code, stdout.stdout]).toEqual([0, '{"cli-cmd": {"latency": {"value": 12.5}}}']);
    expect((await cli(['job', 'logs', jobId, 'stderr'])).stdout).toBe('bench stderr line\n');
    expect((await cli(['job', 'logs', jobId, 'out.json'])).stdout).toBe('{"cli-cmd": {"latency": {"value": 12.5}}}');
    expect(json<{ output: string; content: string }>(await cli(['job', 'logs', jobId, 'stderr', '--format', 'json']))).toMatchObject({ output: 'stderr', content: 'bench stderr line\n' });
    const missing = await cli(['job', 'logs', jobId, 'nope.txt']);
    expect([missing.code, missing.stderr]).toEqual([4, 'benchline: file nope.txt not found (HTTP 404)\n']);

    const reports = json<ReportListItem[]>(await cli(['report', 'list', '--format', 'json', '--branch', 'main']));
    expect(reports).toContainEqual(expect.objectContaining({ uuid: report.uuid, job: jobId, metrics: 1 }));
    expect(json<ReportView>(await cli(['report', 'view', report.uuid, '--format', 'json'])).results[0].value).toBe(12.5);
    const md = await cli(['report', 'view', report.uuid, '--format', 'markdown']);
    expect(md.stdout.startsWith(`## Benchline report: \`${stack.project.slug}\``)).toBe(true);
    expect((await cli(['report', 'view', report.uuid])).stdout).toMatch(/Latency \(ns\) +12\.5 /);
  });

  it('run --detach prints `job wait`, which follows the job as run does: --err exits 1 on the alert; then alerts and thresholds', async () => {
    for (const v of [100, 101, 99.5, 100.5, 99.8]) {
      const r = await stack.request('POST', `/v0/projects/${stack.project.slug}/reports`, { branch: 'gate', testbed: 'ci', adapter: 'json', results: [JSON.stringify({ 'cli-cmd': { latency: { value: v } } })] });
      expect(r.status).toBe(201);
    }
    const detached = await cli(runArgs('--branch', 'gate', '--detach', '--format', 'json', '--threshold-measure', 'latency', '--threshold-test', 't_test', '--threshold-upper-boundary', '0.99', '--', '140'));
    // A script reads the job from stdout; people read the command that follows it on stderr.
    const { job: jobId } = json<{ job: string }>(detached);
    expect(detached.stderr).toContain(`Follow it with: benchline job wait ${jobId} --project ${stack.project.slug}\n`);

    const waited = await cli(['job', 'wait', jobId, '--project', stack.project.slug, '--err', '--format', 'json', '--poll-interval', '200']);
    const report = json<ReportView>(waited, 1);
    expect(report.results[0].alerts).toEqual([expect.objectContaining({ side: 'upper', status: 'active', value: 140 })]);
    expect(waited.stderr).toMatch(/ {2}\d\d:\d\d:\d\d {2}processed \(runner runner-/);
    expect(waited.stderr).toContain('benchline: 1 alert (--err)');
    // The same job again, in the human format and without --err: the alert is shown, the step passes.
    const again = await cli(['job', 'wait', jobId]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/1 alert:\n {2}cli-cmd latency: 140 ns is above the upper limit/);

    const alerts = json<AlertView[]>(await cli(['alert', 'list', '--format', 'json', '--status', 'active', '--branch', 'gate']));
    expect(alerts).toEqual([expect.objectContaining({ benchmark: 'cli-cmd', measure: 'latency', value: 140, report: report.uuid })]);
    const alertId = alerts[0].uuid;
    expect((await cli(['alert', 'list'])).stdout).toMatch(new RegExp(`^${alertId} +active +cli-cmd +latency +140 `, 'm'));
    expect(json<AlertView>(await cli(['alert', 'dismiss', alertId, '--format', 'json'])).status).toBe('dismissed');
    const silenced = await cli(['alert', 'silence', alertId]);
    expect([silenced.code, silenced.stdout]).toEqual([0, expect.stringMatching(new RegExp(`^Alert ${alertId}: silenced: cli-cmd latency 140 is above the upper limit`))]);
    expect(json<AlertView[]>(await cli(['alert', 'list', '--format', 'json', '--status', 'active']))).toEqual([]);

    // The run's flags made the latency threshold; another is created, refused twice, deleted.
    const thresholds = json<ThresholdView[]>(await cli(['threshold', 'list', '--format', 'json', '--branch', 'gate']));
    expect(thresholds).toEqual([expect.objectContaining({ branch: 'gate', testbed: 'ci', measure: 'latency', model: expect.objectContaining({ test: 't_test', upper_boundary: 0.99 }) })]);
    const create = ['threshold', 'create', '--branch', 'gate', '--testbed', 'ci', '--measure', 'throughput', '--test', 'percentage', '--upper-boundary', '0.1'];
    const created = json<ThresholdView>(await cli([...create, '--format', 'json']));
    expect(created).toMatchObject({ measure: 'throughput', model: { test: 'percentage', upper_boundary: 0.1 } });
    const duplicate = await cli(create);
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toMatch(/^benchline: a threshold for gate \+ ci \+ throughput already exists .* \(HTTP 409\)\n$/);
    const badModel = await cli(['threshold', 'create', '--branch', 'gate', '--testbed', 'ci', '--measure', 'other', '--test', 'z_score', '--upper-boundary', '3']);
    expect([badModel.code, badModel.stderr]).toEqual([2, expect.stringContaining('body.upper_boundary: z_score upper boundary must be a probability')]);
    expect((await cli(['threshold', 'list', '--branch', 'gate'])).stdout).toMatch(new RegExp(`^${created.uuid} +gate +ci +throughput +percentage +- +0\\.1 `, 'm'));
    expect(json<{ deleted: boolean }>(await cli(['threshold', 'delete', created.uuid, '--format', 'json'])).deleted).toBe(true);
    expect((await cli(['threshold', 'delete', created.uuid])).code).toBe(4);
  });

  it('Ctrl-C on run cancels the job and waits for the cancel to land; --keep-on-interrupt leaves it to job cancel', async () => {
    const running = startCli(runArgs('--branch', 'sigint', '--', 'sleep'), { env });
    const jobId = await waitFor('the job to be submitted', async () => submittedJob(running.output()), 60000, 100);
    await stack.waitForJob(jobId, (j) => j.status === 'running');
    running.child.kill('SIGINT');
    const interrupted = await running.exited;
    expect(interrupted.stderr).toContain(`benchline: SIGINT: canceling job ${jobId}`);
    expect(interrupted.stderr).toContain(`benchline: SIGINT: job ${jobId} ended canceled`);
    expect(interrupted.code).toBe(130);
    // It exited after the cancel landed, not before.
    expect((await stack.job(jobId)).status).toBe('canceled');

    // SIGTERM (what CI sends a canceled step) with --keep-on-interrupt: the job goes on.
    const kept = startCli(runArgs('--branch', 'sigint', '--keep-on-interrupt', '--', 'sleep'), { env });
    const keptId = await waitFor('the job to be submitted', async () => submittedJob(kept.output()), 60000, 100);
    await stack.waitForJob(keptId, (j) => j.status === 'running');
    kept.child.kill('SIGTERM');
    const left = await kept.exited;
    expect(left.code).toBe(143);
    expect(left.stderr).toContain(`job ${keptId} is left running (--keep-on-interrupt); follow it again with: benchline job wait ${keptId} --project ${stack.project.slug}`);
    expect((await stack.job(keptId)).status).toBe('running');

    const cancel = await cli(['job', 'cancel', keptId]);
    expect([cancel.code, cancel.stdout]).toEqual([0, `Job ${keptId}: cancel requested\n`]);
    // job wait on a job that ends canceled: exit 1 with why, as run says it.
    const waited = await cli(['job', 'wait', keptId, '--poll-interval', '200']);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toMatch(/Job canceled: /);
    const late = await cli(['job', 'cancel', keptId]);
    expect([late.code, late.stderr]).toEqual([2, `benchline: job ${keptId} is already canceled (HTTP 409)\n`]);
  });

  it('runner and spec commands (server admins)', async () => {
    const { runner } = await createRunner(stack.db, { slug: `parked-${stack.id}`, specIds: [stack.spec.id], seen: true });
    const asAdmin = (args: string[]) => cli(args, { BENCHLINE_TOKEN: admin });
    const runners = json<RunnerView[]>(await asAdmin(['runner', 'list', '--format', 'json', '--per-page', '200']));
    expect(runners.map((r) => r.slug)).toContain(runner.slug);
    expect(json<RunnerView>(await asAdmin(['runner', 'view', runner.slug, '--format', 'json']))).toMatchObject({ uuid: runner.id, specs: [stack.spec.slug], locked: null });
    expect(json<RunnerView>(await asAdmin(['runner', 'lock', runner.slug, '--format', 'json'])).locked).not.toBeNull();
    expect((await asAdmin(['runner', 'view', runner.id])).stdout).toMatch(/^state: locked since /m);
    expect(json<RunnerView>(await asAdmin(['runner', 'unlock', runner.slug, '--format', 'json'])).locked).toBeNull();
    const rotated = await asAdmin(['runner', 'rotate-token', runner.slug]);
    expect([rotated.code, rotated.stdout]).toEqual([0, expect.stringMatching(/\nbenchline_runner_[0-9a-f]{64}\n$/)]);
    expect(json<{ token: string }>(await asAdmin(['runner', 'rotate-token', runner.slug, '--format', 'json'])).token).toMatch(/^benchline_runner_/);
    expect(json<RunnerView>(await asAdmin(['runner', 'archive', runner.slug, '--format', 'json'])).archived).not.toBeNull();
    expect((await asAdmin(['runner', 'list', '--archived', 'true'])).stdout).toMatch(new RegExp(`^${runner.slug} .* archived `, 'm'));
    // Not an admin: refused (2); no such runner: 4.
    const member = await cli(['runner', 'list']);
    expect([member.code, member.stderr]).toEqual([2, 'benchline: only server admins may do this (HTTP 403)\n']);
    expect((await asAdmin(['runner', 'view', 'no-such-runner'])).code).toBe(4);

    const specs = json<SpecView[]>(await cli(['spec', 'list', '--format', 'json', '--per-page', '200']));
    expect(specs).toContainEqual(expect.objectContaining({ slug: stack.spec.slug, archived: null }));
    expect((await cli(['spec', 'list', '--per-page', '200'])).stdout).toMatch(new RegExp(`^${stack.spec.slug} `, 'm'));
  });

  it('pipeline and schedule lists print JSON; errors name what failed with exit codes 2, 3 and 4', async () => {
    expect(json<unknown[]>(await cli(['pipeline', 'list', '--format', 'json']))).toEqual([]);
    expect(json<unknown[]>(await cli(['schedule', 'list', '--format', 'json']))).toEqual([]);

    const port = await freePort();
    const unreachable = await cli(['job', 'list'], { BENCHLINE_API_URL: `http://127.0.0.1:${port}` });
    expect([unreachable.code, unreachable.stderr]).toEqual([3, `benchline: cannot reach the Benchline API at http://127.0.0.1:${port}: ECONNREFUSED\n`]);
    const runUnreachable = await cli(runArgs('--branch', 'main', '--', '1'), { BENCHLINE_API_URL: `http://127.0.0.1:${port}/` });
    expect([runUnreachable.code, runUnreachable.stderr]).toEqual([3, `benchline: cannot reach the Benchline API at http://127.0.0.1:${port}: ECONNREFUSED\n`]);

    const unknown = '00000000-0000-4000-8000-000000000000';
    const notFound = await cli(['job', 'view', unknown]);
    expect([notFound.code, notFound.stderr]).toEqual([4, `benchline: job "${unknown}" not found (HTTP 404)\n`]);
    expect((await cli(['job', 'wait', unknown])).code).toBe(4);
    expect((await cli(['report', 'view', unknown])).code).toBe(4);
    expect((await cli(['alert', 'dismiss', unknown])).code).toBe(4);

    const usage = await cli(['job', 'view']);
    expect([usage.code, usage.stderr]).toEqual([2, "error: missing required argument 'job'\n"]);
    const empty = await cli(['job', 'list'], { BENCHLINE_PROJECT: '' });
    expect([empty.code, empty.stderr]).toEqual([2, expect.stringMatching(/^benchline: params\.project: .* \(HTTP 400\)\n$/)]);
    expect((await cli(['job', 'list', '--format', 'yaml'])).code).toBe(2);
    expect((await cli(['job'])).code).toBe(2);
    const badStatus = await cli(['job', 'list', '--status', 'bogus']);
    expect([badStatus.code, badStatus.stderr]).toEqual([2, expect.stringMatching(/^benchline: querystring\.status.* \(HTTP 400\)\n$/)]);
  });
});
