import type { Knex } from 'knex';

/** Fixed-window request counters, shared by every api replica. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rate_limit', (t) => {
    t.text('key').notNullable();
    t.timestamp('window_start', { useTz: true }).notNullable();
    t.integer('count').notNullable();
    t.primary(['key', 'window_start']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('rate_limit');
}
