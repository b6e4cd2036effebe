import type { Knex } from 'knex';

/**
 * Server admins (who manage specs and runners), a default spec that is never archived, and the
 * indexes the resource API's lookups need: "my organizations", "my tokens", an organization's
 * projects and a spec's runners.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('app_user', (t) => {
    t.boolean('admin').notNullable().defaultTo(false);
  });
  await knex.schema.alterTable('organization_member', (t) => t.index(['user_id']));
  await knex.schema.alterTable('api_token', (t) => t.index(['user_id', 'created_at']));
  await knex.schema.alterTable('project', (t) => t.index(['organization_id']));
  await knex.schema.alterTable('runner_spec', (t) => t.index(['spec_id']));
  // Jobs fall back to the default spec, so it can never be one that refuses runs.
  await knex.raw('ALTER TABLE spec ADD CONSTRAINT spec_default_not_archived CHECK (NOT (is_default AND archived_at IS NOT NULL))');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE spec DROP CONSTRAINT spec_default_not_archived');
  await knex.schema.alterTable('runner_spec', (t) => t.dropIndex(['spec_id']));
  await knex.schema.alterTable('project', (t) => t.dropIndex(['organization_id']));
  await knex.schema.alterTable('api_token', (t) => t.dropIndex(['user_id', 'created_at']));
  await knex.schema.alterTable('organization_member', (t) => t.dropIndex(['user_id']));
  await knex.schema.alterTable('app_user', (t) => t.dropColumn('admin'));
}
