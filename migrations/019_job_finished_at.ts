import type { Knex } from 'knex';

/**
 * The api's job-duration metric reads the jobs that finished since its last scrape (api/job-metrics.ts)
 * on every Prometheus scrape: without an index on finished_at that read scans every job.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX job_finished_at ON job (finished_at) WHERE finished_at IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX job_finished_at');
}
