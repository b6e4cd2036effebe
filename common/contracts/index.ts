/**
 * Everything that crosses a process boundary — task queues, the job state machine, activity
 * contracts, signals, workflow inputs — in one place every side imports. Nothing here imports
 * runtime code (type imports only), so workflow code may import it freely.
 */
export * from './control-activities';
export * from './job-status';
export * from './pipelines';
export * from './run-job';
export * from './signals';
export * from './task-queues';
export * from './workflows';
export * from './search-attributes';
export * from './webhooks';
export * from './runner-fleet';
