import type { Knex } from 'knex';

/**
 * Schedules (nightly benchmarks): each row is a Temporal Schedule of the same id, which is the
 * source of truth for timing (cron, time zone, pause, next runs). The row is what authorisation,
 * listing and each scheduled submission need: the project, the template to submit, and who created
 * it from where (the jobs run on the creator's behalf, as the creator's own submissions would).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('schedule', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    // A tagged union: {kind: 'run', run: {…}} today, a pipeline template later.
    t.jsonb('template').notNullable();
    // As given, for display: Temporal's describe returns the schedule as calendars, not the text.
    t.text('cron').notNullable();
    t.text('timezone').notNullable();
    t.uuid('created_by').references('app_user.id').onDelete('SET NULL');
    t.text('source_ip').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['project_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('schedule');
}
