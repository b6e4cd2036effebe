import type { Knex } from 'knex';

/**
 * Concurrency rules and pipeline pause. A job may now need several permits at once (its tier's gate
 * and one per concurrency rule its labels match), so `tier_permit` holds a row per job and gate, all
 * of a job's rows sharing one `seq` (its arrival) and being granted together (db/permits.ts).
 * Pausing a pipeline is a signal to its workflow, which is the truth; `paused_at` is what views show.
 * An operator's pause of a spec lives here (`spec.paused_at`, with the reason shown on its waiting
 * jobs): runners' claims of its jobs are refused until it is resumed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE tier_permit DROP CONSTRAINT tier_permit_pkey');
  await knex.schema.alterTable('tier_permit', (t) => t.primary(['job_id', 'gate']));
  await knex.schema.alterTable('job', (t) => t.jsonb('labels').notNullable().defaultTo('{}'));
  await knex.schema.createTable('concurrency_rule', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.jsonb('match').notNullable();
    t.integer('max').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['project_id', 'created_at']);
  });
  await knex.schema.alterTable('pipeline', (t) => {
    t.integer('max_parallel');
    t.timestamp('paused_at', { useTz: true });
  });
  await knex.schema.alterTable('spec', (t) => {
    t.timestamp('paused_at', { useTz: true });
    t.text('pause_reason');
    // While the resume tells the waiting jobs in order, their own periodic checks hold back (db/specs.ts).
    t.timestamp('resumed_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('spec', (t) => {
    t.dropColumn('resumed_at');
    t.dropColumn('pause_reason');
    t.dropColumn('paused_at');
  });
  await knex.schema.alterTable('pipeline', (t) => {
    t.dropColumn('paused_at');
    t.dropColumn('max_parallel');
  });
  await knex.schema.dropTable('concurrency_rule');
  await knex.schema.alterTable('job', (t) => t.dropColumn('labels'));
  // One row per job again: the rule gates go, the tier gate's row stays.
  await knex('tier_permit').whereNot('gate', 'like', '%/gate-%').delete();
  await knex.raw('ALTER TABLE tier_permit DROP CONSTRAINT tier_permit_pkey');
  await knex.schema.alterTable('tier_permit', (t) => t.primary(['job_id']));
}
