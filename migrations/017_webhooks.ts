import type { Knex } from 'knex';

/**
 * Webhooks (api/routes/webhooks.ts, activities/webhooks.ts). `secret` is the HMAC key deliveries are
 * signed with: it must be read back to sign, so it cannot be hashed the way tokens are; it is shown
 * once (in the 201), never in a view or a log. An event is stored once, under an id derived from
 * what happened (`job-<uuid>-completed`), so a retried activity finds it again and receivers can
 * deduplicate on it. A delivery is one event to one webhook (a redelivery is a new one); each of its
 * HTTP attempts is a row, written before the attempt's activity throws to be retried.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.text('url').notNullable();
    t.specificType('events', 'text[]').notNullable();
    t.jsonb('headers').notNullable().defaultTo('{}');
    t.text('secret').notNullable();
    t.uuid('created_by').references('app_user.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['project_id', 'created_at']);
  });
  await knex.schema.createTable('webhook_event', (t) => {
    t.text('id').primary();
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.text('type').notNullable();
    t.jsonb('data').notNullable();
    /** The values header templates may interpolate (common/webhook-headers.ts TEMPLATE_FIELDS). */
    t.jsonb('fields').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('webhook_delivery', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('webhook_id').notNullable().references('webhook.id').onDelete('CASCADE');
    t.text('event_id').notNullable().references('webhook_event.id').onDelete('CASCADE');
    t.uuid('redelivery_of').references('webhook_delivery.id').onDelete('SET NULL');
    t.text('status').notNullable().defaultTo('pending');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.index(['webhook_id', 'created_at']);
  });
  // The first delivery of an event to a webhook is made once however often its emitting activity runs.
  await knex.raw('CREATE UNIQUE INDEX webhook_delivery_first ON webhook_delivery (webhook_id, event_id) WHERE redelivery_of IS NULL');
  await knex.raw("ALTER TABLE webhook_delivery ADD CONSTRAINT webhook_delivery_status CHECK (status IN ('pending', 'retrying', 'delivered', 'gave_up'))");
  await knex.schema.createTable('webhook_attempt', (t) => {
    t.uuid('delivery_id').notNullable().references('webhook_delivery.id').onDelete('CASCADE');
    t.integer('attempt').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.integer('duration_ms').notNullable();
    t.integer('status_code');
    t.text('error');
    t.text('response_excerpt');
    t.boolean('delivered').notNullable();
    t.primary(['delivery_id', 'attempt']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_attempt');
  await knex.schema.dropTable('webhook_delivery');
  await knex.schema.dropTable('webhook_event');
  await knex.schema.dropTable('webhook');
}
