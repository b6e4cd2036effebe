import type { Knex } from 'knex';

// A migration is a snapshot of the schema at its time: it names the job statuses of then rather than
// importing today's list (a later status gets its own migration).
const JOB_STATUSES = ['pending', 'claimed', 'running', 'completed', 'processed', 'failed', 'canceled'];

/** Organizations, users and tokens; projects and their branches and testbeds; specs and runners; reports, jobs and metrics. */
export async function up(knex: Knex): Promise<void> {
  const id = (t: Knex.CreateTableBuilder) => t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
  const createdAt = (t: Knex.CreateTableBuilder) => t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());

  await knex.schema.createTable('organization', (t) => {
    id(t);
    t.text('slug').notNullable().unique();
    t.text('name').notNullable();
    t.text('plan').notNullable().checkIn(['enterprise', 'team', 'free']);
    t.boolean('claimed').notNullable().defaultTo(true);
    createdAt(t);
  });

  await knex.schema.createTable('app_user', (t) => {
    id(t);
    t.text('slug').notNullable().unique();
    t.text('name').notNullable();
    t.text('email').unique();
    createdAt(t);
  });

  await knex.schema.createTable('organization_member', (t) => {
    t.uuid('organization_id').notNullable().references('organization.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('app_user.id').onDelete('CASCADE');
    t.text('role').notNullable().checkIn(['leader', 'member']);
    t.primary(['organization_id', 'user_id']);
  });

  await knex.schema.createTable('api_token', (t) => {
    id(t);
    t.uuid('user_id').notNullable().references('app_user.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.specificType('token_hash', 'char(64)').notNullable().unique();
    createdAt(t);
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
  });

  await knex.schema.createTable('project', (t) => {
    id(t);
    t.uuid('organization_id').notNullable().references('organization.id').onDelete('CASCADE');
    t.text('slug').notNullable().unique();
    t.text('name').notNullable();
    t.text('visibility').notNullable().checkIn(['public', 'private']).defaultTo('private');
    createdAt(t);
  });

  await knex.schema.createTable('spec', (t) => {
    id(t);
    t.text('slug').notNullable().unique();
    t.text('name').notNullable();
    t.text('architecture').notNullable().defaultTo('x86_64');
    t.integer('cpus').notNullable();
    t.integer('memory_mib').notNullable();
    t.integer('disk_mib').notNullable();
    t.boolean('network').notNullable().defaultTo(false);
    t.boolean('is_default').notNullable().defaultTo(false);
    t.timestamp('archived_at', { useTz: true });
    createdAt(t);
  });
  // At most one default spec, enforced by the database rather than by the code that sets it.
  await knex.raw('CREATE UNIQUE INDEX spec_one_default ON spec (is_default) WHERE is_default');

  await knex.schema.createTable('branch', (t) => {
    id(t);
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.text('slug').notNullable();
    t.text('name').notNullable();
    createdAt(t);
    t.unique(['project_id', 'slug']);
  });

  await knex.schema.createTable('testbed', (t) => {
    id(t);
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.text('slug').notNullable();
    t.text('name').notNullable();
    t.uuid('spec_id').references('spec.id').onDelete('SET NULL');
    createdAt(t);
    t.unique(['project_id', 'slug']);
  });

  await knex.schema.createTable('runner', (t) => {
    id(t);
    t.text('slug').notNullable().unique();
    t.text('name').notNullable();
    t.specificType('token_hash', 'char(64)').notNullable().unique();
    // Set for an organization's dedicated runners, which take only that organization's queue.
    t.uuid('organization_id').references('organization.id').onDelete('CASCADE');
    t.timestamp('locked_at', { useTz: true });
    t.timestamp('archived_at', { useTz: true });
    t.timestamp('last_seen_at', { useTz: true });
    t.text('version');
    t.text('executor');
    t.jsonb('host');
    createdAt(t);
  });

  await knex.schema.createTable('runner_spec', (t) => {
    t.uuid('runner_id').notNullable().references('runner.id').onDelete('CASCADE');
    t.uuid('spec_id').notNullable().references('spec.id').onDelete('CASCADE');
    t.primary(['runner_id', 'spec_id']);
  });

  await knex.schema.createTable('report', (t) => {
    id(t);
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.uuid('branch_id').notNullable().references('branch.id').onDelete('CASCADE');
    t.uuid('testbed_id').notNullable().references('testbed.id').onDelete('CASCADE');
    t.text('adapter').notNullable();
    t.jsonb('settings').notNullable().defaultTo('{}');
    t.timestamp('start_time', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('end_time', { useTz: true });
    createdAt(t);
    t.index(['project_id', 'created_at']);
  });

  await knex.schema.createTable('job', (t) => {
    id(t);
    t.uuid('report_id').notNullable().unique().references('report.id').onDelete('CASCADE');
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.uuid('organization_id').notNullable().references('organization.id').onDelete('CASCADE');
    t.uuid('spec_id').references('spec.id');
    t.uuid('requested_spec_id').references('spec.id');
    t.text('status').notNullable().checkIn([...JOB_STATUSES]).defaultTo('pending');
    t.text('tier').notNullable().checkIn(['paid', 'free', 'unclaimed']);
    t.integer('priority').notNullable();
    t.integer('timeout_seconds').notNullable();
    // image, entrypoint, cmd, env, file_paths: private, only the claiming runner receives it.
    t.jsonb('config').notNullable();
    t.text('image_digest');
    t.text('source_ip').notNullable();
    t.text('idempotency_key');
    t.uuid('runner_id').references('runner.id').onDelete('RESTRICT');
    t.integer('attempt').notNullable().defaultTo(0);
    t.text('error');
    t.integer('exit_code');
    t.jsonb('execution');
    createdAt(t);
    t.timestamp('claimed_at', { useTz: true });
    t.timestamp('started_at', { useTz: true });
    t.timestamp('completed_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.unique(['project_id', 'idempotency_key']);
    t.index(['project_id', 'created_at']);
    t.index(['status']);
  });
  await knex.raw('CREATE INDEX job_runner ON job (runner_id) WHERE runner_id IS NOT NULL');

  // Claim-check store for what runners upload: large data never travels through Temporal payloads.
  await knex.schema.createTable('job_output', (t) => {
    id(t);
    t.uuid('job_id').notNullable().references('job.id').onDelete('CASCADE');
    t.text('kind').notNullable().checkIn(['stdout', 'stderr', 'file']);
    t.text('path').notNullable().defaultTo('');
    t.binary('content').notNullable();
    t.integer('size_bytes').notNullable();
    createdAt(t);
    t.unique(['job_id', 'kind', 'path']);
  });

  await knex.schema.createTable('measure', (t) => {
    id(t);
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.text('slug').notNullable();
    t.text('name').notNullable();
    t.text('units').notNullable();
    t.unique(['project_id', 'slug']);
  });

  await knex.schema.createTable('benchmark', (t) => {
    id(t);
    t.uuid('project_id').notNullable().references('project.id').onDelete('CASCADE');
    t.text('name').notNullable();
    createdAt(t);
    t.unique(['project_id', 'name']);
  });

  await knex.schema.createTable('metric', (t) => {
    id(t);
    t.uuid('report_id').notNullable().references('report.id').onDelete('CASCADE');
    t.uuid('benchmark_id').notNullable().references('benchmark.id').onDelete('CASCADE');
    t.uuid('measure_id').notNullable().references('measure.id').onDelete('CASCADE');
    t.double('value').notNullable();
    t.double('lower_value');
    t.double('upper_value');
    t.unique(['report_id', 'benchmark_id', 'measure_id']);
    t.index(['benchmark_id', 'measure_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'metric', 'benchmark', 'measure', 'job_output', 'job', 'report', 'runner_spec', 'runner', 'testbed',
    'branch', 'spec', 'project', 'api_token', 'organization_member', 'app_user', 'organization',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
