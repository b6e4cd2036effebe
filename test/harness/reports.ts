import type { Knex } from 'knex';
import { createReport, type ReportRequest } from '../../db/reports';
import type { ResultsReportRow } from '../../db/result-rows';

/** A report of a json run on testbed `ci` of `branch`, as the api would create it, for storeResults to judge. */
export async function jsonReport(trx: Knex, projectId: string, branch: string, extra: Partial<ReportRequest> = {}): Promise<ResultsReportRow> {
  const { report } = await createReport(trx, { projectId, branch, testbed: 'ci', adapter: 'json', settings: {}, ...extra });
  return report;
}
