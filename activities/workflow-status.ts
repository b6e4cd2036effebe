import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/** A workflow's status name (RUNNING, TERMINATED…), or NOT_FOUND when the server has none by that ID. */
export function workflowStatus(client: Client, workflowId: string): Promise<string> {
  return client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      (d) => d.status.name,
      (err) => (err instanceof WorkflowNotFoundError ? 'NOT_FOUND' : Promise.reject(err)),
    );
}
