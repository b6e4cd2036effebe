import type { PerfData } from '../common/schemas/perf';

/**
 * The perf plot as a standalone SVG, for READMEs and pull-request comments (which show images, not
 * scripts): each series' line, its boundary band, alert markers and change-point lines, as the
 * console draws them, with the y range, time range and a legend. Pure: data in, markup out.
 */
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const MARGIN = { left: 64, right: 12, top: 12, bottom: 28 };
const LEGEND_LINE = 16;

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fixed = (n: number) => n.toFixed(1);

function formatNumber(value: number): string {
  const abs = Math.abs(value);
  return abs !== 0 && (abs >= 1e6 || abs < 1e-3) ? value.toExponential(2) : String(Number(value.toPrecision(4)));
}

export function renderPerfSvg(data: PerfData, options: { width: number; height: number; log: boolean }): string {
  const { width, log } = options;
  const legendHeight = data.series.length * LEGEND_LINE;
  const height = options.height + legendHeight;
  const plot = { left: MARGIN.left, top: MARGIN.top, right: width - MARGIN.right, bottom: options.height - MARGIN.bottom };
  const usable = (v: number | null): v is number => v !== null && Number.isFinite(v) && (!log || v > 0);
  const times = data.reports.times;
  const ys = data.series.flatMap((s) => [...s.values, ...s.lower_limits, ...s.upper_limits]).filter(usable);
  const parts: string[] = [];
  if (!ys.length || !times.length) {
    parts.push(`<text x="${width / 2}" y="${options.height / 2}" text-anchor="middle">no data</text>`);
  } else {
    const [t0, t1] = [Math.min(...times), Math.max(...times)];
    const scale = (v: number) => (log ? Math.log10(v) : v);
    let [lo, hi] = [Math.min(...ys.map(scale)), Math.max(...ys.map(scale))];
    const pad = (hi - lo || Math.abs(hi) || 1) * 0.05;
    [lo, hi] = [lo - pad, hi + pad];
    const x = (t: number) => plot.left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (plot.right - plot.left);
    const y = (v: number) => plot.bottom - ((scale(v) - lo) / (hi - lo)) * (plot.bottom - plot.top);
    parts.push(`<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="#fff" stroke="#ddd"/>`);
    for (const [v, anchorY] of [[hi, plot.top], [lo, plot.bottom]] as const) {
      parts.push(`<text x="${plot.left - 6}" y="${fixed(anchorY + 4)}" text-anchor="end">${escape(formatNumber(log ? 10 ** v : v))}</text>`);
    }
    const day = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
    parts.push(`<text x="${plot.left}" y="${options.height - 8}">${day(t0)}</text>`);
    parts.push(`<text x="${plot.right}" y="${options.height - 8}" text-anchor="end">${day(t1)}</text>`);
    data.series.forEach((s, i) => {
      const color = COLORS[i % COLORS.length];
      const at = (k: number) => times[s.reports[k]];
      // The band, one polygon per run of points with a limit; a one-sided limit's band runs to the edge.
      for (let k = 0; k < s.values.length; k++) {
        if (s.lower_limits[k] === null && s.upper_limits[k] === null) continue;
        let end = k;
        while (end + 1 < s.values.length && (s.lower_limits[end + 1] !== null || s.upper_limits[end + 1] !== null)) end++;
        const upper: string[] = [];
        const lower: string[] = [];
        for (let j = k; j <= end; j++) {
          const u = s.upper_limits[j];
          const l = s.lower_limits[j];
          upper.push(`${fixed(x(at(j)))},${fixed(usable(u) ? y(u) : plot.top)}`);
          lower.unshift(`${fixed(x(at(j)))},${fixed(usable(l) ? y(l) : plot.bottom)}`);
        }
        parts.push(`<polygon class="band" points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.13"/>`);
        k = end;
      }
      const line = s.values.flatMap((v, k) => (usable(v) ? [`${fixed(x(at(k)))},${fixed(y(v))}`] : []));
      parts.push(`<polyline class="series" points="${line.join(' ')}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
      for (const cp of s.change_points) parts.push(`<line class="change-point" x1="${fixed(x(at(cp.index)))}" x2="${fixed(x(at(cp.index)))}" y1="${plot.top}" y2="${plot.bottom}" stroke="#555" stroke-dasharray="3,3"/>`);
      for (const a of s.alerts) {
        const v = s.values[a.index];
        if (usable(v)) parts.push(`<circle class="alert" cx="${fixed(x(at(a.index)))}" cy="${fixed(y(v))}" r="5" fill="${a.status === 'active' ? '#e0001b' : '#999'}"/>`);
      }
      const legendY = options.height + i * LEGEND_LINE + 12;
      parts.push(`<rect x="${plot.left}" y="${legendY - 9}" width="10" height="10" fill="${color}"/>`);
      parts.push(`<text x="${plot.left + 16}" y="${legendY}">${escape(`${s.benchmark} · ${s.measure} (${s.units}) · ${s.branch} · ${s.testbed}`)}</text>`);
    });
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" fill="#1b1f24">${parts.join('')}</svg>`;
}
