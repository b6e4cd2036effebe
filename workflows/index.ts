// The workflow bundle's entry point: every workflow the orchestrator runs is exported here.
export { jobWorkflow } from './job';
export { concurrencyGateWorkflow } from './concurrency-gate';
export { reconcileJobsWorkflow } from './reconcile';
