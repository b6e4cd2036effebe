import { commentMarker, GITHUB_COMMENT_LIMIT, perfUrl, renderComment } from '../../cli/pr-comment';
import type { MetricView, ReportView } from '../../common/schemas';
import { nextLink } from '../../action/github';

const model = {
  uuid: '00000000-0000-4000-8000-000000000001', test: 't_test' as const, lower_boundary: null, upper_boundary: 0.99,
  min_sample_size: null, max_sample_size: null, window: null, created: '2026-01-01T00:00:00.000Z', replaced: null,
};
const boundary = (upper: number) => ({ threshold: model.uuid, model, baseline: 100, lower_limit: null, upper_limit: upper, skipped: null });

function metric(over: Partial<MetricView>): MetricView {
  return {
    uuid: '00000000-0000-4000-8000-00000000000a', benchmark: 'parse/json', measure: 'latency', measure_name: 'Latency', units: 'nanoseconds (ns)',
    value: 100, lower_value: null, upper_value: null, previous_value: null, baseline: 100, baseline_source: 'threshold', change_percent: 0,
    boundary: boundary(104.5), alerts: [], ...over,
  };
}
const alerted = (benchmark: string, value: number) =>
  metric({ benchmark, value, change_percent: value - 100, alerts: [{ uuid: model.uuid, side: 'upper', status: 'active', limit: 104.5, value }] });

function report(results: MetricView[], over: Partial<ReportView> = {}): ReportView {
  return {
    uuid: '11111111-1111-4111-8111-111111111111', project: 'demo', branch: 'feature', testbed: 'ci', adapter: 'json', start_time: '2026-01-01T00:00:00.000Z',
    end_time: null, job: null, job_status: null, job_error: null, spec: 'metal', image_digest: null, settings: {}, results, alerts: [], ...over,
  };
}

const CONSOLE = 'https://benchline.example.com';

describe('the pull-request comment', () => {
  it('header, then alerts with their links, then every result collapsed', () => {
    const md = renderComment({
      project: 'demo', base: 'main', consoleUrl: CONSOLE, marker: commentMarker('demo', 'feature', 'ci'),
      entries: [{ report: report([alerted('parse/json', 135), metric({ benchmark: 'parse/xml' })]), temporalUrl: 'http://temporal/wf/1' }],
    });
    expect(md.startsWith('<!-- benchline:demo/feature/ci -->\n## Benchline report: `demo`\n\n**Branch** `feature` · **Testbed** `ci` · **Spec** `metal` · **Base** `main` · **Adapter** `json`')).toBe(true);
    const plot = `${CONSOLE}/projects/demo/perf?branch=feature&branch=main&testbed=ci&benchmark=parse%2Fjson&measure=latency`;
    expect(md).toContain(`| 🚨 parse/json | Latency (ns) | 135 | +35.00% | 104.5 (upper, 129.19%) | [plot](${plot}) · [report](${CONSOLE}/projects/demo/reports/11111111-1111-4111-8111-111111111111) · [Temporal](http://temporal/wf/1) |`);
    expect(md.indexOf('[!WARNING]')).toBeLessThan(md.indexOf('<details>'));
    expect(md).toContain('<details><summary>All results (2 results)</summary>');
    expect(md).toContain('| parse/xml | Latency (ns) | 100 (+0.00%) | - | 104.5 (95.69%) |');
    expect(md).not.toContain('Truncated');
    expect(md).not.toContain('No alerts');
  });

  it('the perf link carries the parameters the console reads (web/src/pages/perf.tsx)', () => {
    const url = new URL(perfUrl(CONSOLE, report([]), { benchmark: 'a b', measure: 'latency' }, 'main'));
    expect(url.pathname).toBe('/projects/demo/perf');
    expect(url.searchParams.getAll('branch')).toEqual(['feature', 'main']);
    expect(Object.fromEntries(['testbed', 'benchmark', 'measure'].map((k) => [k, url.searchParams.get(k)]))).toEqual({ testbed: 'ci', benchmark: 'a b', measure: 'latency' });
  });

  it('says why nothing was judged when no threshold applies', () => {
    const md = renderComment({ project: 'demo', entries: [{ report: report([metric({ boundary: null, baseline_source: 'previous' })]) }] });
    expect(md).toContain('> [!NOTE]\n> No threshold found for `latency` on `feature` / `ci`, so nothing was judged there');
    expect(md).toContain("**Base** _none_ (compared with the branch's own history)");
    expect(md).toContain('✅ No alerts.');
  });

  it('a job that did not process, or a CLI that failed, says so instead of results', () => {
    const failed = renderComment({ project: 'demo', entries: [{ report: report([], { job: '22222222-2222-4222-8222-222222222222', job_status: 'failed', job_error: 'exit 3' }) }] });
    expect(failed).toContain('> [!CAUTION]\n> Job 22222222-2222-4222-8222-222222222222 failed: exit 3');
    expect(failed).not.toContain('No alerts');
    expect(renderComment({ project: 'demo', entries: [{ error: 'benchline exited 2:\nbenchline: cannot reach http://x' }] })).toContain('> [!CAUTION]\n> benchline exited 2:\n> benchline: cannot reach http://x');
  });

  it('a pipeline: alerts of every job first, with the job key; results per job', () => {
    const md = renderComment({
      project: 'demo', pipeline: { uuid: '33333333-3333-4333-8333-333333333333', status: 'succeeded', temporalUrl: 'http://temporal/p' },
      entries: [{ key: 'build', report: report([metric({})]) }, { key: 'parse', report: report([alerted('parse/json', 140)]) }],
    });
    expect(md).toContain('## Benchline pipeline: `demo`');
    expect(md).toContain('**Pipeline** [`33333333-3333-4333-8333-333333333333`](http://temporal/p) (succeeded)');
    expect(md).toContain('| Job | Benchmark |');
    expect(md).toContain('| parse | 🚨 parse/json | Latency (ns) | 140 |');
    expect(md).toContain('**build** · `feature` / `ci`');
  });

  it('an oversized report: the detail is cut under the limit with a note, every alert kept', () => {
    const results = [...Array.from({ length: 12_000 }, (_, n) => metric({ benchmark: `bench/${String(n).padStart(5, '0')}/with-a-long-name` })), ...[1, 2, 3].map((n) => alerted(`regressed/${n}`, 130 + n))];
    const md = renderComment({ project: 'demo', base: 'main', consoleUrl: CONSOLE, marker: commentMarker('demo', 'feature', 'ci'), entries: [{ report: report(results) }] });
    expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    // Close to the limit: the cut keeps as many rows as fit.
    expect(md.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT - 200);
    for (const n of [1, 2, 3]) expect(md).toContain(`| 🚨 regressed/${n} | Latency (ns) | ${130 + n} |`);
    const shown = md.split('\n').filter((l) => l.startsWith('| bench/')).length;
    expect(shown).toBeGreaterThan(100);
    expect(md).toContain(`> Truncated view: ${shown} of 12,003 results shown`.replace('12,003', '12003'));
    expect(md).toContain(`The full report: [console](${CONSOLE}/projects/demo/reports/11111111-1111-4111-8111-111111111111)`);
    expect(md.indexOf('Truncated view')).toBeLessThan(md.indexOf('<details>'));
    expect(md.trimEnd().endsWith('Benchline</sub>')).toBe(true);
    expect(md).toContain('</details>');
  });

  it('thousands of alerts: still every alert, in a compact table', () => {
    const results = Array.from({ length: 900 }, (_, n) => alerted(`b${n}`, 200));
    const md = renderComment({ project: 'demo', consoleUrl: CONSOLE, entries: [{ report: report(results) }] });
    expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(md.split('\n').filter((l) => l.startsWith('| 🚨 b')).length).toBe(900);
    expect(md).not.toContain('[plot]');
  });

  it('markers cannot end their HTML comment early; Link headers give the next page', () => {
    expect(commentMarker('p', 'a--b', 'c')).toBe('<!-- benchline:p/a-b/c -->');
    expect(nextLink('<https://api.github.com/repos/o/r/issues/1/comments?page=2>; rel="next", <https://api.github.com/repos/o/r/issues/1/comments?page=5>; rel="last"')).toBe('https://api.github.com/repos/o/r/issues/1/comments?page=2');
    expect(nextLink('<https://api.github.com/x?page=1>; rel="prev"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });
});
