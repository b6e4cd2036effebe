import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const PROMETHEUS = join(ROOT, 'deploy/prometheus');

/** Runs Debian's promtool (scripts/bootstrap.sh installs package `prometheus`), returning its output. */
function promtool(...args: string[]): string {
  try {
    return execFileSync('promtool', args, { cwd: PROMETHEUS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('promtool is missing: run scripts/bootstrap.sh (Debian package prometheus)');
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout}${e.stderr}`);
  }
}

/**
 * The alert rules in deploy/ are valid Prometheus rules, and promtool's rule tests (alerts.test.yml)
 * raise each of the seed's alerts on synthetic series (a job queued too long, a runner whose lease
 * conflicts keep increasing, a stale runner, a daemon stuck stopping, a drifted build, a failing
 * webhook endpoint, a spec with queued jobs and no runner) and stay quiet for the series beside them
 * that are fine.
 */
describe('deploy/prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('raise the expected alerts on synthetic series (promtool test rules)', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
  });

  it('cover every alert of the seed', () => {
    const rules = readFileSync(join(PROMETHEUS, 'alerts.yml'), 'utf8');
    const alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]);
    expect(alerts).toEqual(expect.arrayContaining([
      'BenchlineRunnerTwoActiveDaemons', 'BenchlineRunnerStale', 'BenchlineRunnerStuckStopping', 'BenchlineRunnerBuildDrift', 'BenchlineJobsQueuedTooLong', 'BenchlineWebhookEndpointFailing',
    ]));
    // Each of them has a promtool case that expects it to fire.
    const tested = readFileSync(join(PROMETHEUS, 'alerts.test.yml'), 'utf8');
    const firing = [...tested.matchAll(/alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels/g)].map((m) => m[1]);
    expect(new Set(firing)).toEqual(new Set(alerts));
  });
});

describe('deploy/grafana dashboard', () => {
  it('is a Grafana dashboard whose panels all query Prometheus', () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/benchline.json'), 'utf8'));
    expect(dashboard).toMatchObject({ uid: 'benchline', title: 'Benchline' });
    const panels = (dashboard.panels as { type: string; targets?: { expr: string }[]; gridPos: object }[]).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    for (const p of panels) expect(p.targets?.length && p.targets.every((t) => /benchline_/.test(t.expr))).toBeTruthy();
  });
});
