import type { Knex } from 'knex';

/**
 * Results: what judged each metric and what it found.
 *
 * - report: the spec and image digest it ran on (copied from its job when processed; null for a
 *   job-less report submitted from a local run).
 * - branch: its start point (the branch it was forked from, and when), and the time its own history
 *   restarts after a reset.
 * - metric: the previous value of its series, the fallback baseline when no threshold judged it.
 * - threshold (branch + testbed + measure) with its current model; threshold_model keeps every
 *   model it ever had (`replaced_at` set on old ones), so a boundary names the model that judged it.
 * - boundary: the limits computed for one metric; alert: a metric outside one of them.
 * - change_point: where a metric series shifted, as the E-divisive detector last saw it.
 */
export async function up(knex: Knex): Promise<void> {
  const id = (t: Knex.CreateTableBuilder) => t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
  const timestamps = (t: Knex.CreateTableBuilder) => {
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('modified_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  };

  await knex.schema.alterTable('report', (t) => {
    t.uuid('spec_id').references('spec.id').onDelete('SET NULL');
    t.text('image_digest');
    // History lookups: one branch + testbed, in time order.
    t.index(['branch_id', 'testbed_id', 'start_time']);
  });

  await knex.schema.alterTable('branch', (t) => {
    t.uuid('start_point_branch_id').references('branch.id').onDelete('SET NULL');
    // The start point's newest report when the branch started from it (its "version"), and the time:
    // the start point's metrics up to that time count as this branch's history.
    t.uuid('start_point_report_id').references('report.id').onDelete('SET NULL');
    t.timestamp('start_point_time', { useTz: true });
    // Set by a start-point reset: the branch's own metrics before it no longer count as history.
    t.timestamp('history_since', { useTz: true });
  });

  await knex.schema.alterTable('metric', (t) => {
    t.double('previous_value');
  });

  await knex.schema.createTable('threshold', (t) => {
    id(t);
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.uuid('branch_id').notNullable().references('branch.id').onDelete('CASCADE');
    t.uuid('testbed_id').notNullable().references('testbed.id').onDelete('CASCADE');
    t.uuid('measure_id').notNullable().references('measure.id').onDelete('CASCADE');
    // The current model; the foreign key is added below, once threshold_model exists.
    t.uuid('model_id');
    timestamps(t);
    t.unique(['branch_id', 'testbed_id', 'measure_id']);
    t.index(['project_id']);
  });

  await knex.schema.createTable('threshold_model', (t) => {
    id(t);
    t.uuid('threshold_id').notNullable().references('threshold.id').onDelete('CASCADE');
    // Written out rather than imported: a migration must not change when the code does.
    t.text('test').notNullable().checkIn(['static', 'percentage', 'z_score', 't_test', 'log_normal', 'iqr', 'delta_iqr']);
    t.double('lower_boundary');
    t.double('upper_boundary');
    t.integer('min_sample_size');
    t.integer('max_sample_size');
    t.integer('window_seconds');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('replaced_at', { useTz: true });
    t.index(['threshold_id', 'created_at']);
  });
  await knex.raw('ALTER TABLE threshold_model ADD CONSTRAINT threshold_model_has_boundary CHECK (lower_boundary IS NOT NULL OR upper_boundary IS NOT NULL)');
  await knex.schema.alterTable('threshold', (t) => {
    t.foreign('model_id').references('threshold_model.id').onDelete('SET NULL');
  });

  await knex.schema.createTable('boundary', (t) => {
    id(t);
    t.uuid('metric_id').notNullable().unique().references('metric.id').onDelete('CASCADE');
    t.uuid('threshold_id').notNullable().references('threshold.id').onDelete('CASCADE');
    t.uuid('model_id').notNullable().references('threshold_model.id').onDelete('CASCADE');
    t.double('baseline');
    t.double('lower_limit');
    t.double('upper_limit');
    // Why no limits could be computed (too few samples, no variance), when none were.
    t.text('skipped');
    t.index(['threshold_id']);
  });

  await knex.schema.createTable('alert', (t) => {
    id(t);
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.uuid('boundary_id').notNullable().unique().references('boundary.id').onDelete('CASCADE');
    t.uuid('metric_id').notNullable().references('metric.id').onDelete('CASCADE');
    t.uuid('threshold_id').notNullable().references('threshold.id').onDelete('CASCADE');
    t.uuid('model_id').notNullable().references('threshold_model.id').onDelete('CASCADE');
    t.text('side').notNullable().checkIn(['lower', 'upper']);
    t.double('limit').notNullable();
    t.double('value').notNullable();
    t.text('status').notNullable().checkIn(['active', 'dismissed', 'silenced']).defaultTo('active');
    timestamps(t);
    t.index(['project_id', 'status', 'created_at']);
    t.index(['metric_id']);
  });

  await knex.schema.createTable('change_point', (t) => {
    id(t);
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.uuid('branch_id').notNullable().references('branch.id').onDelete('CASCADE');
    t.uuid('testbed_id').notNullable().references('testbed.id').onDelete('CASCADE');
    t.uuid('benchmark_id').notNullable().references('benchmark.id').onDelete('CASCADE');
    t.uuid('measure_id').notNullable().references('measure.id').onDelete('CASCADE');
    // The first metric after the change (it may be a start-point branch's metric, before the fork).
    t.uuid('metric_id').notNullable().references('metric.id').onDelete('CASCADE');
    t.integer('series_index').notNullable();
    t.double('mean_before').notNullable();
    t.double('mean_after').notNullable();
    t.double('stddev_before').notNullable();
    t.double('stddev_after').notNullable();
    t.double('percent_change').notNullable();
    t.double('pvalue').notNullable();
    timestamps(t);
    t.unique(['branch_id', 'testbed_id', 'benchmark_id', 'measure_id', 'metric_id']);
    t.index(['project_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['change_point', 'alert', 'boundary']) await knex.schema.dropTableIfExists(table);
  await knex.schema.alterTable('threshold', (t) => t.dropForeign(['model_id']));
  await knex.schema.dropTableIfExists('threshold_model');
  await knex.schema.dropTableIfExists('threshold');
  await knex.schema.alterTable('metric', (t) => t.dropColumn('previous_value'));
  await knex.schema.alterTable('branch', (t) => {
    t.dropColumn('history_since');
    t.dropColumn('start_point_time');
    t.dropColumn('start_point_report_id');
    t.dropColumn('start_point_branch_id');
  });
  await knex.schema.alterTable('report', (t) => {
    t.dropIndex(['branch_id', 'testbed_id', 'start_time']);
    t.dropColumn('image_digest');
    t.dropColumn('spec_id');
  });
}
