import { renderPerfSvg } from '../../api/perf-svg';
import type { PerfData } from '../../common/schemas/perf';

describe('renderPerfSvg', () => {
  const data: PerfData = {
    reports: { uuids: ['a', 'b', 'c', 'd'].map((c) => `${c.repeat(8)}-0000-4000-8000-000000000000`), times: [0, 60_000, 120_000, 180_000], jobs: [null, null, null, null], versions: [null, null, null, null] },
    series: [
      {
        branch: 'main', testbed: 'ci', benchmark: '<parse & "lex">', measure: 'latency', units: 'ns', total_points: 4,
        reports: [0, 1, 2, 3], values: [100, 101, 99, 160], lower_limits: [null, null, null, null], upper_limits: [null, 110, 111, 112],
        alerts: [{ index: 3, uuid: 'eeeeeeee-0000-4000-8000-000000000000', side: 'upper', status: 'active', limit: 112 }],
        change_points: [{ index: 3, uuid: 'ffffffff-0000-4000-8000-000000000000', percent_change: 60 }],
      },
    ],
  };

  it('draws the line, a one-sided band to the plot edge, the alert and the change point, and escapes names', () => {
    const svg = renderPerfSvg(data, { width: 400, height: 200, log: false });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="400" height="216"/);
    expect(svg.match(/<polyline class="series" points="([^"]+)"/)![1].split(' ')).toHaveLength(4);
    // Upper limits from the second point on, the lower edge at the plot's bottom (y = 200 - 28).
    const band = svg.match(/<polygon class="band" points="([^"]+)"/)![1].split(' ');
    expect(band).toHaveLength(6);
    expect(band.slice(3).every((p) => p.endsWith(',172.0'))).toBe(true);
    expect(svg.match(/<circle class="alert"/g)).toHaveLength(1);
    expect(svg.match(/<line class="change-point"/g)).toHaveLength(1);
    expect(svg).toContain('&#60;parse &#38; &#34;lex&#34;&#62;');
    expect(svg).not.toContain('<parse');
  });

  it('leaves out what a log axis cannot show, and says when there is nothing', () => {
    const negative: PerfData = { ...data, series: [{ ...data.series[0], values: [-1, 101, 99, 160], upper_limits: [null, null, null, null], alerts: [], change_points: [] }] };
    expect(renderPerfSvg(negative, { width: 400, height: 200, log: true }).match(/<polyline class="series" points="([^"]+)"/)![1].split(' ')).toHaveLength(3);
    expect(renderPerfSvg({ reports: { uuids: [], times: [], jobs: [], versions: [] }, series: [] }, { width: 400, height: 200, log: false })).toContain('no data');
  });
});
