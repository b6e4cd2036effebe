import type { Knex } from 'knex';

/**
 * The runJob attempts of a job that were tried again, one row each, written by the job's workflow
 * (through an activity, idempotently) before it retries. The job row itself holds the last attempt.
 * dispatched_at, ended_at and retry_at are the workflow's own times (when it scheduled the attempt,
 * saw it fail, and set the next one for); claimed_at and started_at are the api's, as on the job.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_attempt', (t) => {
    t.uuid('job_id').notNullable().references('job.id').onDelete('CASCADE');
    t.integer('attempt').notNullable();
    t.text('kind').notNullable().checkIn(['infrastructure', 'benchmark_failure']);
    t.text('error').notNullable();
    t.uuid('runner_id').references('runner.id').onDelete('SET NULL');
    t.integer('exit_code');
    t.timestamp('dispatched_at', { useTz: true }).notNullable();
    t.timestamp('claimed_at', { useTz: true });
    t.timestamp('started_at', { useTz: true });
    t.timestamp('ended_at', { useTz: true }).notNullable();
    t.timestamp('retry_at', { useTz: true }).notNullable();
    t.primary(['job_id', 'attempt']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_attempt');
}
