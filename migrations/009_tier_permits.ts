import type { Knex } from 'knex';

/**
 * The free and unclaimed tiers' concurrency permits, taken inside the submission's transaction so
 * an admitted job dispatches like a paid one. A row per job that counts against a gate (an
 * organization or a source IP): held, or waiting its turn in `seq` order. Rows are changed only
 * under the gate's advisory lock (db/permits.ts), which is what makes "at most `permits` held" true
 * under concurrent submissions and releases.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tier_permit', (t) => {
    t.uuid('job_id').primary().references('job.id').onDelete('CASCADE');
    t.text('gate').notNullable();
    // The limit the job was submitted under: a release hands the permit on without knowing the tier.
    t.integer('permits').notNullable();
    t.boolean('held').notNullable();
    // Arrival order at the gate: taken under its lock, so it is also the order submissions committed in.
    t.bigIncrements('seq', { primaryKey: false });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['gate', 'held', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('tier_permit');
}
