import type { Knex } from 'knex';

/**
 * One active daemon per runner, wherever it runs: a lease row per runner, taken and renewed by the
 * daemon's registration and pings in one conditional upsert (db/runner-lease.ts), so no race can
 * let two daemons hold it and a crashed holder only blocks until its lease goes stale. `build` is
 * what the daemon reports of its own build (git SHA or BUILD_ID, package and Node versions), for
 * drift checks against the api and the spec's other runners.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('runner_lease', (t) => {
    // The primary key is the "one holder per runner" constraint.
    t.uuid('runner_id').primary().references('runner.id').onDelete('CASCADE');
    t.uuid('instance_id').notNullable();
    t.text('host').notNullable();
    t.integer('pid').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('renewed_at', { useTz: true }).notNullable();
    // Set once the daemon announced a drain: its lease then lasts the (longer) stopping timeout.
    t.timestamp('stopping_at', { useTz: true });
  });
  await knex.schema.alterTable('runner', (t) => t.jsonb('build'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('runner', (t) => t.dropColumn('build'));
  await knex.schema.dropTable('runner_lease');
}
