/** Numbers and times as the tables show them. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(3);
  return value.toLocaleString('en', { maximumFractionDigits: abs >= 100 ? 1 : 3 });
}

export const formatPercent = (value: number | null | undefined): string =>
  value === null || value === undefined ? '—' : `${value >= 0 ? '+' : ''}${value.toFixed(2)} %`;

export const formatTime = (iso: string | number): string => new Date(iso).toISOString().replace('T', ' ').slice(0, 19);

export const short = (id: string | null | undefined, n = 8): string => (id ? id.replace(/^sha256:/, '').slice(0, n) : '—');
