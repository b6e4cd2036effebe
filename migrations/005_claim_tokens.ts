import type { Knex } from 'knex';

/**
 * Unclaimed organizations carry the hash of a one-time claim token, handed to the anonymous
 * submitter who created them: only its holder may claim the organization and its jobs.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('organization', (t) => {
    t.specificType('claim_token_hash', 'char(64)');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('organization', (t) => {
    t.dropColumn('claim_token_hash');
  });
}
