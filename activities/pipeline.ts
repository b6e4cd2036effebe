import type { Knex } from 'knex';
import type { PipelineActivities } from '../common/contracts';
import { committedPipeline, finishPipeline, settleUnstartedJobs } from '../db/pipelines';

export function createPipelineActivities(db: Knex): PipelineActivities {
  return {
    pipelineCommitted: (pipelineId) => committedPipeline(db, pipelineId),
    settleUnstartedJobs: (jobs, to) => settleUnstartedJobs(db, jobs, to),
    finishPipeline: (pipelineId, outcome) => finishPipeline(db, pipelineId, outcome),
  };
}
