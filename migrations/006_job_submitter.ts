import type { Knex } from 'knex';

/**
 * The user whose token submitted a job: the submitter may cancel it without being a leader of its
 * organization. Null for anonymous submissions (their claim token stands in) and older jobs.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job', (t) => {
    t.uuid('submitted_by').references('app_user.id').onDelete('SET NULL');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job', (t) => {
    t.dropColumn('submitted_by');
  });
}
