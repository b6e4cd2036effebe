import { Command, Option } from 'commander';
import type { ReportListItem } from '../../common/schemas/perf';
import { printReport } from '../attach';
import { projectPath } from '../client';
import { clientOf, listQuery, print, projectCommand, withFormat, withPaging, type FormatOptions, type ProjectOptions } from '../options';
import { FORMATS, table, type Format } from '../render';

/** `benchline report list|view`: a project's reports; `view` prints one as `run` does (same formats, --err). */
export function reportCommand(): Command {
  const list = withPaging(withFormat(projectCommand('list')))
    .description("A project's reports, newest first, with their metric and alert counts")
    .option('--branch <branch>', 'only reports of this branch')
    .option('--testbed <testbed>', 'only reports of this testbed')
    .action(async (o: ProjectOptions & FormatOptions & { branch?: string; testbed?: string; page: string; perPage: string }) => {
      const rows = await clientOf(o).call<ReportListItem[]>('GET', `${projectPath(o.project)}/reports?${listQuery(o, { branch: o.branch, testbed: o.testbed })}`);
      print(o, rows, () =>
        table(
          ['report', 'branch', 'testbed', 'start time', 'job', 'metrics', 'alerts', 'active'],
          rows.map((r) => [r.uuid, r.branch, r.testbed, r.start_time, r.job_status ?? 'local', String(r.metrics), String(r.alerts), String(r.active_alerts)]),
        ),
      );
    });

  const view = projectCommand('view')
    .description('A report: its results judged against their history, as `benchline run` prints them')
    .argument('<report>', 'report UUID')
    .addOption(new Option('--format <format>', 'how to print the results').choices(FORMATS).default('human'))
    .option('--err', 'exit 1 when the report has an alert')
    .action(async (id: string, o: ProjectOptions & { format: Format; err?: boolean }) => {
      process.exitCode = printReport(await clientOf(o).report(o.project, id), o);
    });

  return new Command('report').description("A project's reports: the judged results of each run").addCommand(list).addCommand(view);
}
