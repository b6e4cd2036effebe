/** Task queue names shared by the api (starts workflows), the orchestrator and the runners. */
export const CONTROL_TASK_QUEUE = 'benchline.control';

/** The queue runners of a spec poll; an organization's dedicated pool gets its own. */
export function runnerTaskQueue(specSlug: string, dedicatedOrgSlug?: string): string {
  return dedicatedOrgSlug ? `runner.${specSlug}.org-${dedicatedOrgSlug}` : `runner.${specSlug}`;
}

export function jobWorkflowId(jobId: string): string {
  return `job-${jobId}`;
}
