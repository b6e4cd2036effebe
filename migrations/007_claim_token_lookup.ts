import type { Knex } from 'knex';

/**
 * Anonymous submitters read their jobs with the claim token (X-Benchline-Claim-Token), which is
 * looked up by its hash on each such request: an index over the unclaimed organizations' hashes
 * (claimed ones have none) keeps that a point lookup however many organizations there are.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE UNIQUE INDEX organization_claim_token_hash ON organization (claim_token_hash) WHERE claim_token_hash IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX organization_claim_token_hash');
}
