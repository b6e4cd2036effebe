import { NOW_US_SH } from '../../devenv/images';

/**
 * Benchmark scripts for test images (busybox sh). WINDOW records when it really ran — microsecond
 * kernel time at start and end, reported as BMF — so tests can check concurrency from the
 * benchmarks' own clocks rather than from bookkeeping timestamps.
 */
export const WINDOW_SH = `#!/bin/sh
${NOW_US_SH}
t0=$(now_us); sleep "\${1:-1}"; t1=$(now_us)
printf '{"window": {"start": {"value": %s}, "end": {"value": %s}}}\\n' "$t0" "$t1"
`;

export interface Window {
  start: number;
  end: number;
}

/** The largest number of windows open at one instant. */
export function maxOverlap(windows: Window[]): number {
  const edges = windows.flatMap((w) => [[w.start, 1], [w.end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, delta] of edges) max = Math.max(max, (open += delta));
  return max;
}
