import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { MAX_PER_PAGE, MAX_PLOT_SERIES } from '../../../common/limits';
import type { PerfData, PerfSeries } from '../../../common/schemas/perf';
import { projectPath, query } from '../api';
import { formatTime, formatValue, short } from '../format';
import { Status, useApi } from '../hooks';
import { navigate } from '../router';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const PARTS = ['branch', 'testbed', 'benchmark', 'measure'] as const;
const ALERT_COLOR = '#e0001b';
const PLOT_HEIGHT = 420;
const PLOT_DRAWN = 'benchline:plot-drawn';

/** A series with its points' times and reports resolved from the answer's report table. */
interface Line extends PerfSeries {
  times: number[];
  uuids: string[];
  jobs: (string | null)[];
  versions: (string | null)[];
}

/** One hovered point of one series, as the details panel shows it. */
interface Hovered {
  line: Line;
  index: number;
  color: string;
}

const label = (s: PerfSeries) => `${s.benchmark} · ${s.measure} · ${s.branch} · ${s.testbed}`;
const alpha = (hex: string, a: string) => `${hex}${a}`;

const linesOf = (data: PerfData): Line[] =>
  data.series.map((s) => ({
    ...s,
    times: s.reports.map((r) => data.reports.times[r]),
    uuids: s.reports.map((r) => data.reports.uuids[r]),
    jobs: s.reports.map((r) => data.reports.jobs[r]),
    versions: s.reports.map((r) => data.reports.versions[r]),
  }));

/**
 * The uPlot chart: per series a line, its boundary band (between the lower and upper limits, drawn
 * under the lines with its dashed edges), alert markers and change-point markers. Series come
 * aligned on one time axis (uPlot.join); the band and markers are drawn in uPlot's hooks.
 */
function Chart({ data, log, project }: { data: PerfData; log: boolean; project: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [hovered, setHovered] = useState<Hovered[]>([]);
  useEffect(() => {
    const el = host.current!;
    const lines = linesOf(data);
    const positive = (v: number | null) => (log && v !== null && v <= 0 ? null : v);
    const tables = lines.map((s) => [s.times.map((t) => t / 1000), s.values.map(positive)] as uPlot.AlignedData);
    const aligned = tables.length ? uPlot.join(tables) : ([[]] as unknown as uPlot.AlignedData);
    // Where each series' point lies on the joined axis: hover and click map back to the report.
    const indexAt = lines.map((s) => new Map(s.times.map((t, i) => [t / 1000, i])));
    const seriesOpts: uPlot.Series[] = [
      {},
      ...lines.map((s, i): uPlot.Series => ({ label: label(s), stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true, points: { show: s.values.length <= 200, size: 4 } })),
    ];
    const banded = lines.filter((s) => s.lower_limits.some((v) => v !== null) || s.upper_limits.some((v) => v !== null));
    /** One band per run of points that have a limit: a one-sided threshold's band runs to the plot's edge. */
    const drawBands = (u: uPlot) => {
      const ctx = u.ctx;
      const { left, top, width, height } = u.bbox;
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, height);
      ctx.clip();
      lines.forEach((s, i) => {
        const color = COLORS[i % COLORS.length];
        const x = (k: number) => u.valToPos(s.times[k] / 1000, 'x', true);
        const y = (v: number | null, edge: number) => (positive(v) === null ? edge : u.valToPos(v!, 'y', true));
        const has = (k: number) => s.lower_limits[k] !== null || s.upper_limits[k] !== null;
        for (let k = 0; k < s.times.length; k++) {
          if (!has(k)) continue;
          let end = k;
          while (end + 1 < s.times.length && has(end + 1)) end++;
          const upper = new Path2D();
          const lower = new Path2D();
          const band = new Path2D();
          for (let j = k; j <= end; j++) {
            const [px, py] = [x(j), y(s.upper_limits[j], top)];
            upper[j === k ? 'moveTo' : 'lineTo'](px, py);
            band[j === k ? 'moveTo' : 'lineTo'](px, py);
          }
          for (let j = end; j >= k; j--) band.lineTo(x(j), y(s.lower_limits[j], top + height));
          for (let j = k; j <= end; j++) lower[j === k ? 'moveTo' : 'lineTo'](x(j), y(s.lower_limits[j], top + height));
          band.closePath();
          ctx.fillStyle = alpha(color, '22');
          ctx.fill(band);
          ctx.strokeStyle = alpha(color, '88');
          ctx.lineWidth = devicePixelRatio;
          ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
          if (s.upper_limits.slice(k, end + 1).some((v) => v !== null)) ctx.stroke(upper);
          if (s.lower_limits.slice(k, end + 1).some((v) => v !== null)) ctx.stroke(lower);
          k = end;
        }
      });
      ctx.restore();
    };
    const drawMarkers = (u: uPlot) => {
      const ctx = u.ctx;
      let alerts = 0;
      let changes = 0;
      ctx.save();
      lines.forEach((s) => {
        ctx.strokeStyle = '#555';
        ctx.setLineDash([3, 3]);
        for (const cp of s.change_points) {
          const x = u.valToPos(s.times[cp.index] / 1000, 'x', true);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          changes++;
        }
        ctx.setLineDash([]);
        for (const a of s.alerts) {
          const value = positive(s.values[a.index]);
          if (value === null) continue;
          ctx.fillStyle = a.status === 'active' ? ALERT_COLOR : '#999';
          ctx.beginPath();
          ctx.arc(u.valToPos(s.times[a.index] / 1000, 'x', true), u.valToPos(value, 'y', true), 6 * devicePixelRatio, 0, 2 * Math.PI);
          ctx.fill();
          alerts++;
        }
      });
      ctx.restore();
      // What was drawn, for tests and for assistive tools (a canvas says nothing by itself).
      el.dataset.alertMarkers = String(alerts);
      el.dataset.changePoints = String(changes);
      el.dataset.bands = String(banded.length);
      el.dataset.points = String(lines.reduce((n, s) => n + s.values.length, 0));
      el.dataset.series = lines.map(label).join('\n');
      // User timing: when the plot was first drawn, as `npm run bench` reads it.
      if (!performance.getEntriesByName(PLOT_DRAWN).length) performance.mark(PLOT_DRAWN);
    };
    // The y range covers the limits too, so a band is never cut off where the line is flat.
    let limitLow = Infinity;
    let limitHigh = -Infinity;
    for (const s of lines) for (const v of [...s.lower_limits, ...s.upper_limits]) {
      if (positive(v) === null) continue;
      limitLow = Math.min(limitLow, v!);
      limitHigh = Math.max(limitHigh, v!);
    }
    const plot = new uPlot(
      {
        width: el.clientWidth || 900,
        height: PLOT_HEIGHT,
        series: seriesOpts,
        scales: {
          x: { time: true },
          y: {
            distr: log ? 3 : 1,
            range: (_u, min, max) => {
              const lo = Math.min(min, limitLow);
              const hi = Math.max(max, limitHigh);
              return log ? uPlot.rangeLog(lo, hi, 10, true) : uPlot.rangeNum(lo, hi, 0.1, true);
            },
          },
        },
        axes: [{}, { size: 70, values: (_u, ticks) => ticks.map((t) => formatValue(t)) }],
        legend: { show: true, live: false },
        cursor: { focus: { prox: 30 } },
        focus: { alpha: 0.4 },
        hooks: {
          drawAxes: [drawBands],
          draw: [drawMarkers],
          setCursor: [
            (u) => {
              const idx = u.cursor.idx;
              if (idx === null || idx === undefined) return setHovered([]);
              const x = u.data[0][idx];
              setHovered(lines.flatMap((line, i) => {
                const index = indexAt[i].get(x);
                return index === undefined ? [] : [{ line, index, color: COLORS[i % COLORS.length] }];
              }));
            },
          ],
        },
      },
      aligned,
      el,
    );
    const open = () => {
      const idx = plot.cursor.idx;
      if (idx === null || idx === undefined) return;
      const x = plot.data[0][idx];
      const i = lines.findIndex((_, k) => indexAt[k].has(x));
      if (i >= 0) navigate(`/projects/${encodeURIComponent(project)}/reports/${lines[i].uuids[indexAt[i].get(x)!]}`);
    };
    plot.over.addEventListener('click', open);
    const resize = () => plot.setSize({ width: el.clientWidth, height: PLOT_HEIGHT });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [data, log, project]);
  return (
    <>
      <div ref={host} id="plot" class="plot" />
      <div id="hover" class="hover">
        {hovered.map(({ line: s, index, color }) => {
          const alert = s.alerts.find((a) => a.index === index);
          return (
            <div key={label(s)} style={{ borderLeftColor: color }}>
              <b>{formatValue(s.values[index])} {s.units}</b> {label(s)} · {formatTime(s.times[index])}
              <br />report {short(s.uuids[index])} · job {short(s.jobs[index])} · version {short(s.versions[index], 12)}
              {alert && <span class="badge active">alert: {alert.side} limit {formatValue(alert.limit)} ({alert.status})</span>}
            </div>
          );
        })}
      </div>
    </>
  );
}

/** What each part of a series is listed by: a branch's or testbed's or measure's slug, a benchmark's name. */
const LISTS = { branch: 'branches', testbed: 'testbeds', benchmark: 'benchmarks', measure: 'measures' } as const;
const PICKER_FILTER_FROM = 8;

/**
 * One part's choices as checkboxes over the project's list (its first MAX_PER_PAGE, in name order),
 * with a filter once the list is long; names chosen beyond the list stay chosen (the text field).
 */
function Picker({ project, part, chosen, onChange }: { project: string; part: (typeof PARTS)[number]; chosen: string[]; onChange: (chosen: string[]) => void }) {
  const list = useApi<Array<{ slug?: string; name: string }>>(`${projectPath(project)}/${LISTS[part]}${query({ per_page: MAX_PER_PAGE })}`);
  const [filter, setFilter] = useState('');
  const names = list.state === 'ok' ? list.data.rows.map((r) => (part === 'benchmark' ? r.name : r.slug!)) : [];
  const shown = names.filter((n) => n.toLowerCase().includes(filter.toLowerCase()));
  const toggle = (name: string) => onChange(chosen.includes(name) ? chosen.filter((c) => c !== name) : [...chosen, name]);
  return (
    <fieldset class="picker" id={`pick-${part}`}>
      <legend>{LISTS[part]} <small>{chosen.length} chosen{list.state === 'ok' && list.data.total > names.length && ` · first ${names.length} of ${list.data.total} listed`}</small></legend>
      {names.length > PICKER_FILTER_FROM && <input type="search" name={`filter-${part}`} placeholder="filter" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />}
      {list.state === 'ok' ? (
        <div class="options">
          {shown.map((name) => (
            <label key={name}><input type="checkbox" value={name} checked={chosen.includes(name)} onChange={() => toggle(name)} /> {name}</label>
          ))}
        </div>
      ) : <Status of={list} />}
    </fieldset>
  );
}

/** The perf plot; every choice (series, time range, axis) is in the URL, so it can be shared and the back button works. */
export function PerfPage({ project, params }: { project: string; params: URLSearchParams }) {
  const chosen = Object.fromEntries(PARTS.map((p) => [p, params.getAll(p)])) as Record<(typeof PARTS)[number], string[]>;
  const start = params.get('start') ?? '';
  const end = params.get('end') ?? '';
  const log = params.get('log') === '1';
  // A branch's history reaches into its start point unless asked not to (`own=1`).
  const own = params.get('own') === '1';
  const [draft, setDraft] = useState<Record<string, string>>({});
  useEffect(() => setDraft({ ...Object.fromEntries(PARTS.map((p) => [p, chosen[p].join(', ')])), start, end }), [params.toString()]);
  const count = PARTS.reduce((n, p) => n * chosen[p].length, 1);
  const complete = count > 0 && count <= MAX_PLOT_SERIES;
  const maxPoints = Math.max(16, Math.min(10000, Math.round(window.innerWidth)));
  const api = complete
    ? `${projectPath(project)}/perf${query({ ...chosen, start_point: own ? 'false' : undefined, start_time: start ? new Date(start).toISOString() : undefined, end_time: end ? new Date(end).toISOString() : undefined, max_points: maxPoints })}`
    : null;
  const loaded = useApi<PerfData>(api);
  const url = (changes: Record<string, string | string[] | undefined>) =>
    `/projects/${encodeURIComponent(project)}/perf${query({ ...chosen, start: start || undefined, end: end || undefined, log: log ? '1' : undefined, own: own ? '1' : undefined, ...changes })}`;
  const apply = () => {
    const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    navigate(url({ ...Object.fromEntries(PARTS.map((p) => [p, list(draft[p])])), start: draft.start || undefined, end: draft.end || undefined }));
  };
  const field = (name: string, placeholder: string) => (
    <label>
      {name}
      <input name={name} placeholder={placeholder} value={draft[name] ?? ''} onInput={(e) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })} />
    </label>
  );
  return (
    <section id="perf">
      <h1>Perf <small>{project}</small></h1>
      <form class="toolbar wrap" onSubmit={(e) => { e.preventDefault(); apply(); }}>
        {field('branch', 'main, feature')}
        {field('testbed', 'ci')}
        {field('benchmark', 'names, comma-separated')}
        {field('measure', 'latency')}
        {field('start', 'YYYY-MM-DD')}
        {field('end', 'YYYY-MM-DD')}
        <button type="submit">Plot</button>
        <label class="check">
          <input type="checkbox" name="log" checked={log} onChange={() => navigate(url({ log: log ? undefined : '1' }))} /> log axis
        </label>
        <label class="check" title="a branch's history includes the reports of the branch it started from, before the fork">
          <input type="checkbox" name="start-point" checked={!own} onChange={() => navigate(url({ own: own ? undefined : '1' }))} /> with start-point history
        </label>
      </form>
      <div class="pickers">
        {PARTS.map((part) => <Picker key={part} project={project} part={part} chosen={chosen[part]} onChange={(list) => navigate(url({ [part]: list }))} />)}
      </div>
      <p class={count > MAX_PLOT_SERIES ? 'error' : 'muted'} id="series-count">{count} series{count > MAX_PLOT_SERIES && ` (a plot holds at most ${MAX_PLOT_SERIES}: choose fewer)`}</p>
      {count === 0 && <p class="muted">Choose at least one branch, testbed, benchmark and measure.</p>}
      {api && <Status of={loaded} />}
      {loaded.state === 'ok' && api && (
        <>
          <p class="muted" id="plot-summary">
            {loaded.data.rows.series.map((s) => `${label(s)}: ${s.values.length}${s.values.length < s.total_points ? ` of ${s.total_points} (downsampled)` : ''} points`).join('; ')}
          </p>
          <Chart data={loaded.data.rows} log={log} project={project} />
        </>
      )}
    </section>
  );
}
