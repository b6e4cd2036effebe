import type { Knex } from 'knex';

// A snapshot, as in 001_initial: the job statuses of this migration's time.
const JOB_STATUSES_BEFORE = ['pending', 'claimed', 'running', 'completed', 'processed', 'failed', 'canceled'];
const JOB_STATUSES = [...JOB_STATUSES_BEFORE, 'skipped'];

const statusCheck = (statuses: string[]) => `ALTER TABLE job ADD CONSTRAINT job_status_check CHECK (status IN (${statuses.map((s) => `'${s}'`).join(', ')}))`;

/**
 * Pipelines: a DAG of jobs submitted together. Each job keeps its own row (and report), tied to its
 * pipeline by a key unique in it; `pipeline_edge` holds the `needs` edges. A job whose required
 * parent failed or was canceled becomes `skipped`. The counts are written once, by the pipeline's
 * workflow, when it ends.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('pipeline', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.uuid('organization_id').notNullable().references('organization.id').onDelete('CASCADE');
    t.text('status').notNullable().checkIn(['running', 'succeeded', 'failed', 'canceled']).defaultTo('running');
    t.text('idempotency_key');
    t.uuid('submitted_by').references('app_user.id').onDelete('SET NULL');
    t.jsonb('counts');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.unique(['project_id', 'idempotency_key']);
    t.index(['project_id', 'created_at']);
  });
  await knex.schema.alterTable('job', (t) => {
    t.uuid('pipeline_id').references('pipeline.id').onDelete('CASCADE');
    t.text('pipeline_key');
    // A pipeline job's delayed start: its pipeline's workflow holds it on a durable timer until then.
    t.timestamp('start_after', { useTz: true });
    t.unique(['pipeline_id', 'pipeline_key']);
  });
  await knex.schema.createTable('pipeline_edge', (t) => {
    t.uuid('pipeline_id').notNullable().references('pipeline.id').onDelete('CASCADE');
    t.uuid('job_id').notNullable().references('job.id').onDelete('CASCADE');
    t.uuid('needs_job_id').notNullable().references('job.id').onDelete('CASCADE');
    t.boolean('requires_success').notNullable();
    t.primary(['job_id', 'needs_job_id']);
    t.index(['pipeline_id']);
  });
  await knex.raw('ALTER TABLE job DROP CONSTRAINT job_status_check');
  await knex.raw(statusCheck(JOB_STATUSES));
}

export async function down(knex: Knex): Promise<void> {
  await knex('job').where({ status: 'skipped' }).update({ status: 'canceled' });
  await knex.raw('ALTER TABLE job DROP CONSTRAINT job_status_check');
  await knex.raw(statusCheck(JOB_STATUSES_BEFORE));
  await knex.schema.dropTable('pipeline_edge');
  await knex.schema.alterTable('job', (t) => {
    t.dropUnique(['pipeline_id', 'pipeline_key']);
    t.dropColumn('pipeline_key');
    t.dropColumn('start_after');
    t.dropColumn('pipeline_id');
  });
  await knex.schema.dropTable('pipeline');
}
