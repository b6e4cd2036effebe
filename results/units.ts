/**
 * Units and numbers as benchmark harnesses print them. Every adapter converts through here so that
 * `latency` is always nanoseconds and `throughput` always operations per second.
 */

/** Nanoseconds in one unit. Three spellings of micro: `us`, U+00B5 (micro sign) and U+03BC (Greek mu). */
const NANOS_PER_UNIT: Record<string, number> = {
  ps: 1e-3,
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  sec: 1e9,
  min: 60e9,
  hr: 3600e9,
  h: 3600e9,
};

/** Time units as a regex alternation, longest first so `ms` is not read as `m` + `s`. */
export const TIME_UNIT_PATTERN = '(?:ps|ns|us|µs|μs|ms|sec|s)';

/**
 * A number as harnesses print it: optional sign, thousands separators (`1,234,567.8`), optional
 * exponent. Commas are only accepted between digit groups so `1, 2` in a list is not one number.
 */
export const NUMBER_PATTERN = '[-+]?(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?(?:[eE][-+]?\\d+)?|[-+]?\\.\\d+(?:[eE][-+]?\\d+)?';

/** Parses a printed number, dropping thousands separators; NaN when it is not one. */
export function parseNumber(text: string): number {
  const trimmed = text.trim().replace(/,/g, '').replace(/_/g, '');
  if (trimmed === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) return Number.NaN;
  return Number(trimmed);
}

export function isTimeUnit(unit: string): boolean {
  return Object.hasOwn(NANOS_PER_UNIT, unit.trim());
}

/** Converts `value` in `unit` to nanoseconds; throws on a unit that is not a time unit. */
export function toNanoseconds(value: number, unit: string): number {
  const factor = NANOS_PER_UNIT[unit.trim()];
  if (factor === undefined) throw new RangeError(`unknown time unit "${unit}"`);
  return value * factor;
}

/** Converts "`value` operations per `unit`" to operations per second. */
export function toOpsPerSecond(value: number, perUnit: string): number {
  return (value * 1e9) / toNanoseconds(1, perUnit);
}

/** SI prefixes as criterion prints them on throughput (`Kelem/s`, `Melem/s`, `Gelem/s`). */
const SI_PREFIX: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

export function siPrefixFactor(prefix: string): number | undefined {
  return SI_PREFIX[prefix];
}

// ESC [ ... final-byte: colour and cursor sequences some harnesses print even when piped.
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI_ESCAPE, '');
}

/** Lines without their terminators, for output written on any platform; ANSI colour removed. */
export function outputLines(text: string): string[] {
  return stripAnsi(text).split(/\r?\n|\r/);
}
