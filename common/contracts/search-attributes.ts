import type { defineSearchAttributeKey, SearchAttributePair } from '@temporalio/common';
import type { JobStatus } from './job-status';

/** The SDK's key type, which its index does not export by name. */
type KeywordKey = ReturnType<typeof defineSearchAttributeKey<'KEYWORD'>>;

/**
 * The search attributes a job workflow carries, so the Temporal UI and `temporal workflow list`
 * can find jobs by project, spec, branch and status (e.g. `BenchlineStatus = 'failed'`). Written as
 * plain keys (what `defineSearchAttributeKey` returns) so this module stays free of runtime imports.
 * Each must be registered on the server before a workflow may carry it: the dev server's
 * `--search-attribute` flags (devenv/paths.ts) and scripts/temporal-setup.ts (docker-compose.yml).
 */
export const JOB_PROJECT_ATTRIBUTE = { name: 'BenchlineProject', type: 'KEYWORD' } as KeywordKey;
export const JOB_SPEC_ATTRIBUTE = { name: 'BenchlineSpec', type: 'KEYWORD' } as KeywordKey;
export const JOB_BRANCH_ATTRIBUTE = { name: 'BenchlineBranch', type: 'KEYWORD' } as KeywordKey;
/** The job's status as the workflow last saw it; the job row is the authority on the detailed status. */
export const JOB_STATUS_ATTRIBUTE = { name: 'BenchlineStatus', type: 'KEYWORD' } as KeywordKey;

export const JOB_SEARCH_ATTRIBUTES = [JOB_PROJECT_ATTRIBUTE, JOB_SPEC_ATTRIBUTE, JOB_BRANCH_ATTRIBUTE, JOB_STATUS_ATTRIBUTE] as const;

export interface JobLabels {
  /** Project slug. */
  project: string;
  branch: string;
  testbed: string;
  image: string;
}

/** What a job workflow starts with: its project, spec, branch and status `pending`. */
export function jobStartAttributes(job: Pick<JobLabels, 'project' | 'branch'> & { spec: string }): SearchAttributePair[] {
  return [
    { key: JOB_PROJECT_ATTRIBUTE, value: job.project },
    { key: JOB_SPEC_ATTRIBUTE, value: job.spec },
    { key: JOB_BRANCH_ATTRIBUTE, value: job.branch },
    { key: JOB_STATUS_ATTRIBUTE, value: 'pending' satisfies JobStatus },
  ];
}

/** The one line the Temporal UI shows for a job workflow. */
export function jobSummary(job: JobLabels): string {
  return `benchmark ${job.image} · ${job.project} / ${job.branch} on ${job.testbed}`;
}
