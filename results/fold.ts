import { mean, median } from './stats/descriptive';
import type { BenchmarkResults, Measurement } from './types';

/** How several measurements of one benchmark and measure become one (Bencher's `--fold`). */
export type Fold = 'min' | 'max' | 'mean' | 'median';
export const FOLDS = ['min', 'max', 'mean', 'median'] as const satisfies readonly Fold[];

/**
 * Folds measurements of one benchmark + measure. `min`/`max` keep the chosen measurement whole so
 * its bounds still belong to its value; `mean`/`median` fold value and each bound separately, and
 * keep a bound only when every measurement had one (a bound averaged over some runs would mislead).
 */
export function foldMeasurements(measurements: readonly Measurement[], fold: Fold): Measurement {
  if (measurements.length === 0) throw new RangeError('cannot fold zero measurements');
  if (fold === 'min' || fold === 'max') {
    const pick = fold === 'min' ? (a: Measurement, b: Measurement) => b.value < a.value : (a: Measurement, b: Measurement) => b.value > a.value;
    return { ...measurements.reduce((best, m) => (pick(best, m) ? m : best)) };
  }
  const average = fold === 'mean' ? mean : median;
  const folded: Measurement = { value: average(measurements.map((m) => m.value)) };
  for (const bound of ['lower_value', 'upper_value'] as const) {
    const values = measurements.map((m) => m[bound]);
    if (values.every((v): v is number => v !== undefined)) folded[bound] = average(values);
  }
  return folded;
}

/** Measurements gathered per benchmark and measure, in arrival order, to be folded into results. */
export class MeasurementCollector {
  private readonly collected = new Map<string, Map<string, Measurement[]>>();

  add(benchmark: string, measure: string, measurement: Measurement): void {
    let byMeasure = this.collected.get(benchmark);
    if (!byMeasure) this.collected.set(benchmark, (byMeasure = new Map()));
    const list = byMeasure.get(measure);
    if (list) list.push(measurement);
    else byMeasure.set(measure, [measurement]);
  }

  addResults(results: BenchmarkResults): void {
    for (const [benchmark, measures] of Object.entries(results)) {
      for (const [measure, measurement] of Object.entries(measures)) this.add(benchmark, measure, measurement);
    }
  }

  get size(): number {
    return this.collected.size;
  }

  fold(fold: Fold): BenchmarkResults {
    const folded: BenchmarkResults = {};
    for (const [benchmark, byMeasure] of this.collected) {
      folded[benchmark] = {};
      for (const [measure, list] of byMeasure) folded[benchmark][measure] = foldMeasurements(list, fold);
    }
    return folded;
  }
}

/**
 * Folds several iterations of one job (`--iter N --fold F`). A benchmark or measure missing from
 * some iterations is folded over the iterations that have it rather than dropped.
 */
export function foldIterations(iterations: readonly BenchmarkResults[], fold: Fold): BenchmarkResults {
  const collector = new MeasurementCollector();
  for (const results of iterations) collector.addResults(results);
  return collector.fold(fold);
}
