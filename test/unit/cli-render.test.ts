import { alertCount, renderHtml, renderHuman, renderMarkdown, renderReport, unjudgedMeasures } from '../../cli/render';
import type { MetricView, ReportView } from '../../common/schemas';

const model = {
  uuid: '00000000-0000-4000-8000-000000000001', test: 't_test' as const, lower_boundary: null, upper_boundary: 0.99,
  min_sample_size: null, max_sample_size: null, window: null, created: '2026-01-01T00:00:00.000Z', replaced: null,
};

function metric(over: Partial<MetricView>): MetricView {
  return {
    uuid: '00000000-0000-4000-8000-00000000000a', benchmark: 'parse/json', measure: 'latency', measure_name: 'Latency', units: 'nanoseconds (ns)',
    value: 100, lower_value: null, upper_value: null, previous_value: null, baseline: null, baseline_source: null, change_percent: null,
    boundary: null, alerts: [], ...over,
  };
}

const regressed = metric({
  value: 135, baseline: 100, baseline_source: 'threshold', change_percent: 35,
  boundary: { threshold: '00000000-0000-4000-8000-00000000000b', model, baseline: 100, lower_limit: null, upper_limit: 104.5, skipped: null },
  alerts: [{ uuid: '00000000-0000-4000-8000-00000000000c', side: 'upper', status: 'active', limit: 104.5, value: 135 }],
});
const unjudged = metric({ measure: 'throughput', measure_name: 'Throughput', units: 'operations / second (ops/s)', value: 7407407, previous_value: 1e7, baseline: 1e7, baseline_source: 'previous', change_percent: -25.92593 });
const skipped = metric({ benchmark: 'a|b', boundary: { threshold: '00000000-0000-4000-8000-00000000000b', model, baseline: null, lower_limit: null, upper_limit: null, skipped: 'only 1 samples, t_test needs 2' } });

function report(results: MetricView[], job: Partial<Pick<ReportView, 'job' | 'job_status' | 'job_error'>> = {}): ReportView {
  return {
    uuid: '11111111-1111-4111-8111-111111111111', project: 'demo', branch: 'feature', testbed: 'ci', adapter: 'json', start_time: '2026-01-01T00:00:00.000Z',
    end_time: null, job: null, job_status: null, job_error: null, spec: 'metal', image_digest: 'sha256:ab', settings: {}, results, alerts: [], ...job,
  };
}

describe('rendering a report', () => {
  const full = report([regressed, unjudged, skipped]);

  it('counts alerts and the measures no threshold judged', () => {
    expect(alertCount(full)).toBe(1);
    expect(unjudgedMeasures(full)).toEqual(['throughput']);
    expect(unjudgedMeasures(report([regressed]))).toEqual([]);
  });

  it('human: a table per benchmark with value, change, limits; the alert named', () => {
    const text = renderHuman(full);
    expect(text).not.toContain('\u001b[');
    expect(text.split('\n').slice(0, 5)).toEqual([
      'parse/json',
      '  Measure (units)         Value   Change  Lower limit  Upper limit  Status',
      '  ------------------  ---------  -------  -----------  -----------  -----------------------',
      '  Latency (ns)              135  +35.00%            -        104.5  ALERT above upper limit',
      '  Throughput (ops/s)  7,407,407  -25.93%            -            -',
    ]);
    expect(text).toMatch(/^a\|b\n/m);
    expect(text).toContain('only 1 samples, t_test needs 2');
    expect(text).toContain('1 alert:\n  parse/json latency: 135 ns is above the upper limit 104.5');
    expect(text).toContain('No threshold found for throughput on feature / ci');
    expect(renderHuman(report([unjudged]))).toContain('No alerts.');
  });

  it('human with colour: ANSI only around what alerted', () => {
    const text = renderHuman(full, { color: true });
    expect(text).toContain('\u001b[1;31m135\u001b[0m');
    expect(text).toContain('\u001b[1;31m104.5\u001b[0m');
    expect(text).not.toContain('\u001b[1;31m7,407,407');
    // Columns still line up: ANSI codes take no width.
    const line = text.split('\n').find((l) => l.includes('Latency'))!;
    expect(line.replace(/\u001b\[[0-9;]*m/g, '')).toBe('  Latency (ns)              135  +35.00%            -        104.5  ALERT above upper limit');
  });

  it('markdown: where it ran, the alert warning, the table, the no-threshold note', () => {
    const md = renderMarkdown(full);
    expect(md).toContain('## Benchline report: `demo`\n\n**Branch** `feature` · **Testbed** `ci` · **Spec** `metal` · **Base** _none_');
    // The alerts first, as a table (cli/pr-comment.ts: the GitHub Action's comment is this Markdown).
    expect(md).toContain('> [!WARNING]\n> **1 alert**: performance moved outside its threshold.\n\n| Benchmark | Measure (units) | Value | Change | Limit (value / limit) |\n|---|---|---:|---:|---:|\n| 🚨 parse/json | Latency (ns) | 135 | +35.00% | 104.5 (upper, 129.19%) |');
    expect(renderMarkdown(full, { consoleUrl: 'http://b' })).toContain('[plot](http://b/projects/demo/perf?branch=feature&testbed=ci&benchmark=parse%2Fjson&measure=latency)');
    expect(md).toContain(
      [
        '| Benchmark | Measure (units) | Value (Δ%) | Lower limit (%) | Upper limit (%) |',
        '|---|---|---:|---:|---:|',
        '| parse/json | Latency (ns) | 🚨 135 (+35.00%) | - | 🚨 104.5 (129.19%) |',
        '| parse/json | Throughput (ops/s) | 7,407,407 (-25.93%) | - | - |',
        '| a\\|b | Latency (ns) | 100 | - | - |',
      ].join('\n'),
    );
    expect(md).toContain('> [!NOTE]\n> No threshold found for `throughput` on `feature` / `ci`');
    expect(md.indexOf('[!WARNING]')).toBeLessThan(md.indexOf('<details>'));
    expect(md).not.toContain('No alerts');
    const clean = renderMarkdown(report([skipped]));
    expect(clean).not.toContain('[!WARNING]');
    expect(clean).not.toContain('[!NOTE]');
    expect(clean).toContain('✅ No alerts.');
  });

  it('html escapes names and marks alert rows; json is the report itself', () => {
    const html = renderHtml(report([{ ...regressed, benchmark: '<script>' }]));
    expect(html).toContain('<td>&lt;script&gt;</td>');
    expect(html).toContain('<tr class="alert"');
    expect(JSON.parse(renderReport(full, 'json'))).toEqual(full);
  });

  it("a job that did not process: its status and error instead of an empty table, in every format", () => {
    const job = '22222222-2222-4222-8222-222222222222';
    const failed = report([], { job, job_status: 'failed', job_error: 'no benchmark results in <the> output' });
    expect(renderHuman(failed)).toBe(`Job ${job} failed: no benchmark results in <the> output`);
    expect(renderMarkdown(failed)).toContain(`> [!CAUTION]\n> Job ${job} failed: no benchmark results in \\<the\\> output`);
    expect(renderMarkdown(failed)).not.toContain('| Benchmark |');
    expect(renderHtml(failed)).toContain(`Job ${job} failed: no benchmark results in &lt;the&gt; output`);
    expect(renderHuman(report([], { job, job_status: 'pending' }))).toBe(`Job ${job} is pending: its results come once it has run`);
    expect(renderHuman(report([], { job, job_status: 'canceled', job_error: 'canceled' }))).toBe(`Job ${job} canceled: canceled`);
    // A processed job's report and a local run's render their results as before.
    expect(renderHuman(report([regressed], { job, job_status: 'processed' }))).toContain('parse/json');
    expect(renderHuman(report([]))).toBe('(no results)');
  });
});
