import type { Knex } from 'knex';

// A snapshot, as in 001_initial: the job statuses of this migration's time.
const JOB_STATUSES_BEFORE = ['pending', 'claimed', 'running', 'completed', 'processed', 'failed', 'canceled', 'skipped'];
const JOB_STATUSES = ['scheduled', ...JOB_STATUSES_BEFORE];

const statusCheck = (statuses: string[]) => `ALTER TABLE job ADD CONSTRAINT job_status_check CHECK (status IN (${statuses.map((s) => `'${s}'`).join(', ')}))`;

/**
 * Delayed start: a job whose `start_after` (010_pipelines added the column) is still in the future
 * is `scheduled` until its timer fires, then `pending` like any other.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE job DROP CONSTRAINT job_status_check');
  await knex.raw(statusCheck(JOB_STATUSES));
}

export async function down(knex: Knex): Promise<void> {
  await knex('job').where({ status: 'scheduled' }).update({ status: 'canceled', error: 'canceled: delayed start removed' });
  await knex.raw('ALTER TABLE job DROP CONSTRAINT job_status_check');
  await knex.raw(statusCheck(JOB_STATUSES_BEFORE));
}
