import type { Knex } from 'knex';

/**
 * Each runJob attempt's single-use claim ticket, stored as SHA-256 with the attempt it was issued
 * for: only the runner Temporal handed that attempt to can claim the job, and only that runner,
 * holding that ticket, may mark it running or upload its outputs.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job', (t) => {
    t.specificType('claim_ticket_hash', 'char(64)');
    t.integer('claim_ticket_attempt');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job', (t) => {
    t.dropColumn('claim_ticket_hash');
    t.dropColumn('claim_ticket_attempt');
  });
}
