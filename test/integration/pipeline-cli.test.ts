import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineView } from '../../common/schemas/pipelines';
import { waitFor } from '../../devenv/wait';
import { runCli } from '../harness/cli';
import { Stack } from '../harness/stack';

/** `bin/benchline pipeline …` as CI runs it: a child process against the stack's api. */
describe('benchline pipeline', () => {
  let stack: Stack;
  let ok: string;
  let failing: string;
  let cwd: string;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
    await stack.startRunner();
    [ok, failing] = await Promise.all([
      stack.pushImage('ok', { entrypoint: ['/bin/echo', '{"pipeline-bench": {"latency": {"value": 7}}}'] }),
      stack.pushImage('exit3', { entrypoint: ['/bin/sh', '-c', 'echo "boom" >&2; exit 3'] }),
    ]);
    cwd = await mkdtemp(join(tmpdir(), 'benchline-pipeline-cli-'));
  });
  afterAll(async () => {
    await stack?.stop();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  const cli = (args: string[], stdin?: string) =>
    runCli(['pipeline', ...args], { cwd, stdin, env: { BENCHLINE_API_URL: stack.apiUrl, BENCHLINE_TOKEN: stack.userToken, NO_COLOR: '' } });
  const plan = async (name: string, text: string) => {
    await writeFile(join(cwd, name), text);
    return name;
  };
  const yamlPlan = (jobs: string) => `project: ${stack.project.slug}\njobs:\n${jobs}`;
  const job = (key: string, image: string, needs = '') => `  - key: ${key}\n    branch: main\n    testbed: ci\n    adapter: json\n    job:\n      image: ${image}\n${needs}`;

  it('run: follows a YAML plan, prints each job’s results, and exits 1 when a required job did not process', async () => {
    const file = await plan('cascade.yaml', yamlPlan(job('build', ok) + job('bench', failing, '    needs: [{ job: build }]\n') + job('after', ok, '    needs:\n      - job: bench\n')));
    const r = await cli(['run', file, '--poll-interval', '200']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Pipeline [0-9a-f-]{36} submitted: 3 jobs$/m);
    expect(r.stdout).toMatch(/ {2}\d\d:\d\d:\d\d {2}build: processed \(runner runner-/);
    expect(r.stdout).toMatch(/ {2}\d\d:\d\d:\d\d {2}after: skipped/);
    // In key order.
    expect(r.stdout).toMatch(/=== after: skipped\nskipped: job "bench" failed\n\n=== bench: failed\nthe benchmark exited with code 3\n\n=== build: processed\n[^]*pipeline-bench/);
    expect(r.stdout).toMatch(/^Pipeline failed: 1 failed, 1 skipped, 1 processed$/m);
    expect(r.stderr).toBe('benchline: required jobs did not process: after (skipped), bench (failed)\n');

    // The same plan with its failing jobs optional succeeds as a command.
    const tolerant = await cli(['run', file, '--poll-interval', '200', '--optional', 'bench', '--optional', 'after']);
    expect([tolerant.code, tolerant.stderr]).toEqual([0, '']);
  });

  it('run: a JSON plan from standard input, its project given on the command line', async () => {
    const json = JSON.stringify({ jobs: [{ key: 'only', branch: 'main', testbed: 'ci', adapter: 'json', job: { image: ok } }] });
    const r = await cli(['run', '-', '--project', stack.project.slug, '--poll-interval', '200'], json);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/=== only: processed\n[^]*pipeline-bench/);
    expect(r.stdout).toMatch(/Pipeline succeeded: 1 processed/);
  });

  it('run --detach, list, view, pause, resume and cancel', async () => {
    const later = new Date(Date.now() + 600000).toISOString();
    const file = await plan('later.json', JSON.stringify({ project: stack.project.slug, start_after: later, jobs: [{ key: 'nightly', branch: 'main', testbed: 'ci', job: { image: ok } }] }));
    const submitted = await cli(['run', file, '--detach']);
    expect(submitted.code).toBe(0);
    const id = /Pipeline ([0-9a-f-]{36}) submitted/.exec(submitted.stdout)![1];

    const list = await cli(['list', '--project', stack.project.slug, '--status', 'running']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${id} +running +1 `, 'm'));

    const view = await cli(['view', id]);
    expect(view.stdout).toMatch(new RegExp(`^nightly +scheduled ${later.replace(/[.]/g, '\\.')} +- +- +1`, 'm'));

    const paused = await cli(['pause', id, '--format', 'json']);
    expect([paused.code, paused.stderr]).toEqual([0, '']);
    expect((JSON.parse(paused.stdout) as PipelineView).paused).not.toBeNull();
    expect((await cli(['view', id])).stdout).toMatch(new RegExp(`^Pipeline ${id} \\(${stack.project.slug}\\): running \\(paused since `, 'm'));
    const resumed = await cli(['resume', id]);
    expect([resumed.code, resumed.stderr]).toEqual([0, '']);
    expect(resumed.stdout).toMatch(new RegExp(`^Pipeline ${id} \\(${stack.project.slug}\\): running$`, 'm'));
    expect((await cli(['pause', '--help'])).stdout).toMatch(/--format <format>/);

    expect((await cli(['cancel', id])).stdout).toBe(`Pipeline ${id}: cancel requested\n`);
    const canceled = await waitFor('the pipeline to be canceled', async () => {
      const r = await cli(['view', id, '--format', 'json']);
      const p = JSON.parse(r.stdout) as PipelineView;
      return p.status === 'canceled' ? p : undefined;
    }, 60000, 200);
    expect(canceled.jobs[0].status).toBe('canceled');
    expect((await cli(['cancel', id])).code).toBe(2);
    // Pausing an ended pipeline: the API's 409, a usage error.
    const late = await cli(['pause', id]);
    expect([late.code, late.stderr]).toEqual([2, `benchline: pipeline ${id} is already canceled (HTTP 409)\n`]);
  });

  it('a plan the server refuses is a usage error (exit 2) naming the field', async () => {
    const file = await plan('cycle.yaml', yamlPlan(job('a', ok, '    needs: [{ job: b }]\n') + job('b', ok, '    needs: [{ job: a }]\n')));
    const r = await cli(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('benchline: body.jobs: the needs form a cycle: a → b → a (each job needs the next) (HTTP 400)\n');
    const broken = await cli(['run', await plan('broken.yaml', 'project: [unclosed')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^benchline: broken\.yaml is not YAML or JSON: /);
  });
});
