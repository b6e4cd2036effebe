import type { Knex } from 'knex';
import type { ConcurrencyRule } from '../common/tiers';
import { dropGate, retryingDeadlock } from './permits';
import type { ConcurrencyRuleRow } from './rows';

/** A project's concurrency rules, oldest first, for matching a submission's labels (common/tiers.ts jobGates). */
export function projectRules(db: Knex, projectId: string): Promise<ConcurrencyRule[]> {
  return db<ConcurrencyRuleRow>('concurrency_rule').where({ project_id: projectId }).orderBy('created_at').select('id', 'match', 'max');
}

export function projectRulesQuery(db: Knex, projectId: string): Knex.QueryBuilder {
  return db<ConcurrencyRuleRow>('concurrency_rule').where({ project_id: projectId }).select('*');
}

export async function insertRule(db: Knex, projectId: string, rule: { match: Record<string, string>; max: number }): Promise<ConcurrencyRuleRow> {
  const [row] = await db<ConcurrencyRuleRow>('concurrency_rule').insert({ project_id: projectId, match: rule.match, max: rule.max }).returning('*');
  return row;
}

/**
 * Deletes a rule and its gate (`gate`, see jobGates) in one transaction; the jobs that waited only
 * for it, or now have room at their other gates, are returned, to be told. Undefined when no such rule.
 */
export async function deleteRule(db: Knex, projectId: string, ruleId: string, gate: string): Promise<string[] | undefined> {
  return retryingDeadlock(db, async (trx) => {
    const deleted = await trx<ConcurrencyRuleRow>('concurrency_rule').where({ id: ruleId, project_id: projectId }).delete();
    return deleted ? dropGate(trx, gate) : undefined;
  });
}
