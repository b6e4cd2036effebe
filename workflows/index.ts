// The workflow bundle's entry point: every workflow the orchestrator runs is exported here.
export { jobWorkflow } from './job';
export { reconcileJobsWorkflow } from './reconcile';
export { pipelineWorkflow } from './pipeline';
export { scheduledRunWorkflow } from './scheduled-run';
export { webhookDeliveryWorkflow } from './webhook-delivery';
