import { Command } from 'commander';
import type { AlertView } from '../../common/schemas/results';
import { projectPath } from '../client';
import { clientOf, listQuery, print, projectCommand, repeatable, withFormat, withPaging, type FormatOptions, type ProjectOptions } from '../options';
import { formatNumber, table } from '../render';

type Listing = ProjectOptions & FormatOptions & { page: string; perPage: string; status?: string[]; branch?: string; testbed?: string; benchmark?: string; measure?: string; report?: string };

const describe = (a: AlertView) => `Alert ${a.uuid}: ${a.status}: ${a.benchmark} ${a.measure} ${formatNumber(a.value)} is ${a.side === 'upper' ? 'above the upper' : 'below the lower'} limit ${formatNumber(a.limit)} (${a.branch} / ${a.testbed}, report ${a.report})`;

/** `benchline alert list|dismiss|silence`: a project's alerts, and marking them handled (members). */
export function alertCommand(): Command {
  const list = withPaging(withFormat(projectCommand('list')))
    .description("A project's alerts, newest first")
    .option('--status <status>', 'only alerts in this status: active, dismissed or silenced (repeatable)', repeatable)
    .option('--branch <branch>', 'only alerts of this branch')
    .option('--testbed <testbed>', 'only alerts of this testbed')
    .option('--benchmark <benchmark>', 'only alerts of this benchmark')
    .option('--measure <measure>', 'only alerts of this measure')
    .option('--report <report>', 'only alerts of this report')
    .action(async (o: Listing) => {
      const query = listQuery(o, { status: o.status, branch: o.branch, testbed: o.testbed, benchmark: o.benchmark, measure: o.measure, report: o.report });
      const alerts = await clientOf(o).call<AlertView[]>('GET', `${projectPath(o.project)}/alerts?${query}`);
      print(o, alerts, () =>
        table(
          ['alert', 'status', 'benchmark', 'measure', 'value', 'limit', 'side', 'branch', 'testbed', 'created'],
          alerts.map((a) => [a.uuid, a.status, a.benchmark, a.measure, formatNumber(a.value), formatNumber(a.limit), a.side, a.branch, a.testbed, a.created]),
        ),
      );
    });

  const command = new Command('alert').description("A project's alerts: metrics that crossed a threshold's limit").addCommand(list);
  const changes = [
    { name: 'dismiss', status: 'dismissed', description: 'Dismiss an alert: the change was expected (or not a regression)' },
    { name: 'silence', status: 'silenced', description: 'Silence an alert: known, not to be reported again' },
  ];
  for (const { name, status, description } of changes) {
    command.addCommand(
      withFormat(projectCommand(name))
        .description(description)
        .argument('<alert>', 'alert UUID')
        .action(async (id: string, o: ProjectOptions & FormatOptions) => print(o, await clientOf(o).call<AlertView>('PATCH', `${projectPath(o.project)}/alerts/${encodeURIComponent(id)}`, { status }), describe)),
    );
  }
  return command;
}
