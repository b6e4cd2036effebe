import { Command, InvalidArgumentError, Option } from 'commander';
import type { ThresholdView } from '../../common/schemas/results';
import { THRESHOLD_TESTS } from '../../results/thresholds';
import { projectPath } from '../client';
import { clientOf, listQuery, print, projectCommand, withFormat, withPaging, type FormatOptions, type ProjectOptions } from '../options';
import { formatNumber, table } from '../render';

type Filters = { branch?: string; testbed?: string; measure?: string };

const number = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expects a number, got "${v}"`);
  return n;
};

const cell = (n: number | null | undefined) => (n === null || n === undefined ? '-' : formatNumber(n));

function rows(thresholds: ThresholdView[]): string {
  return table(
    ['threshold', 'branch', 'testbed', 'measure', 'test', 'lower', 'upper', 'min samples', 'max samples', 'window s'],
    thresholds.map((t) => [
      t.uuid, t.branch, t.testbed, t.measure, t.model?.test ?? '-', cell(t.model?.lower_boundary), cell(t.model?.upper_boundary),
      cell(t.model?.min_sample_size), cell(t.model?.max_sample_size), cell(t.model?.window),
    ]),
  );
}

/** `benchline threshold list|create|delete`: what judges a branch + testbed + measure (members write). */
export function thresholdCommand(): Command {
  const path = (o: ProjectOptions, rest = '') => `${projectPath(o.project)}/thresholds${rest}`;
  const list = withPaging(withFormat(projectCommand('list')))
    .description("A project's thresholds with their current models")
    .option('--branch <branch>', 'only thresholds of this branch')
    .option('--testbed <testbed>', 'only thresholds of this testbed')
    .option('--measure <measure>', 'only thresholds of this measure')
    .action(async (o: ProjectOptions & FormatOptions & Filters & { page: string; perPage: string }) => {
      const thresholds = await clientOf(o).call<ThresholdView[]>('GET', path(o, `?${listQuery(o, { branch: o.branch, testbed: o.testbed, measure: o.measure })}`));
      print(o, thresholds, rows);
    });

  const create = withFormat(projectCommand('create'))
    .description('Create a threshold for a branch + testbed + measure (the server checks the model and names a bad field)')
    .requiredOption('--branch <branch>', 'branch slug or UUID')
    .requiredOption('--testbed <testbed>', 'testbed slug or UUID')
    .requiredOption('--measure <measure>', 'measure slug or UUID (created when new)')
    .addOption(new Option('--test <test>', 'statistical test').choices(THRESHOLD_TESTS).makeOptionMandatory())
    .addOption(new Option('--lower-boundary <n>', 'lower boundary (what it means depends on the test)').argParser(number))
    .addOption(new Option('--upper-boundary <n>', 'upper boundary (what it means depends on the test)').argParser(number))
    .addOption(new Option('--min-sample-size <n>', 'below this many historical metrics the test is skipped').argParser(number))
    .addOption(new Option('--max-sample-size <n>', 'only the newest this many historical metrics are used').argParser(number))
    .addOption(new Option('--window <seconds>', 'only metrics of the last this many seconds are used').argParser(number))
    .action(async (o: ProjectOptions & FormatOptions & Required<Filters> & Record<'test', string> & Partial<Record<'lowerBoundary' | 'upperBoundary' | 'minSampleSize' | 'maxSampleSize' | 'window', number>>) => {
      const body = {
        branch: o.branch, testbed: o.testbed, measure: o.measure, test: o.test,
        lower_boundary: o.lowerBoundary, upper_boundary: o.upperBoundary, min_sample_size: o.minSampleSize, max_sample_size: o.maxSampleSize, window: o.window,
      };
      print(o, await clientOf(o).call<ThresholdView>('POST', path(o), body), (t) => rows([t]));
    });

  const remove = withFormat(projectCommand('delete'))
    .description('Delete a threshold, with its models, boundaries and alerts')
    .argument('<threshold>', 'threshold UUID')
    .action(async (id: string, o: ProjectOptions & FormatOptions) => {
      await clientOf(o).call('DELETE', path(o, `/${encodeURIComponent(id)}`));
      print(o, { uuid: id, deleted: true }, () => `Threshold ${id} deleted`);
    });

  return new Command('threshold').description('Thresholds: the statistical tests that raise alerts').addCommand(list).addCommand(create).addCommand(remove);
}
