import type { Knex } from 'knex';
import * as initial from './001_initial';
import * as adminAndResources from './002_admin_and_resources';
import * as rateLimits from './003_rate_limits';
import * as results from './004_results';
import * as claimTokens from './005_claim_tokens';
import * as jobSubmitter from './006_job_submitter';
import * as claimTokenLookup from './007_claim_token_lookup';
import * as claimTickets from './008_claim_tickets';
import * as tierPermits from './009_tier_permits';
import * as pipelines from './010_pipelines';
import * as delayedStart from './011_delayed_start';
import * as schedules from './012_schedules';
import * as seriesSums from './013_series_sums';
import * as jobAttempts from './014_job_attempts';
import * as concurrencyRules from './015_concurrency_rules';
import * as jobChanges from './016_job_changes';
import * as webhooks from './017_webhooks';
import * as jobFinishedAt from './019_job_finished_at';
import * as runnerLease from './018_runner_lease';

/**
 * Migrations are listed here rather than discovered on disk, so they run the same from TypeScript
 * sources (tsx, jest) and from compiled JavaScript. Append new ones; never reorder.
 */
const MIGRATIONS: Record<string, Knex.Migration> = {
  '001_initial': initial,
  '002_admin_and_resources': adminAndResources,
  '003_rate_limits': rateLimits,
  '004_results': results,
  '005_claim_tokens': claimTokens,
  '006_job_submitter': jobSubmitter,
  '007_claim_token_lookup': claimTokenLookup,
  '008_claim_tickets': claimTickets,
  '009_tier_permits': tierPermits,
  '010_pipelines': pipelines,
  '011_delayed_start': delayedStart,
  '012_schedules': schedules,
  '013_series_sums': seriesSums,
  '014_job_attempts': jobAttempts,
  '015_concurrency_rules': concurrencyRules,
  '016_job_changes': jobChanges,
  '017_webhooks': webhooks,
  '019_job_finished_at': jobFinishedAt,
  '018_runner_lease': runnerLease,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};
