/** Percentiles by nearest rank, for printing latency figures. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summary(samples: number[]): { n: number; p50: number; p90: number; p99: number; max: number; mean: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export function printRows(title: string, rows: [string, ReturnType<typeof summary>][], unit = 'ms'): void {
  console.log(`\n${title}`);
  console.log(`  ${'path'.padEnd(44)} ${'n'.padStart(5)} ${'p50'.padStart(9)} ${'p90'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}`);
  for (const [name, s] of rows) {
    const f = (v: number) => `${v.toFixed(1)}${unit}`.padStart(9);
    console.log(`  ${name.padEnd(44)} ${String(s.n).padStart(5)} ${f(s.p50)} ${f(s.p90)} ${f(s.p99)} ${f(s.max)}`);
  }
}
