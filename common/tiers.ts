import type { TierGate } from './contracts';

/**
 * Service tiers (ARCHITECTURE.md, "Tiers, priority, queues"). The tier decides the Temporal priority
 * key of a job's runJob task, the longest job timeout it may ask for, and how many of its jobs may
 * run at once.
 */
export const PLANS = ['enterprise', 'team', 'free'] as const;
export type Plan = (typeof PLANS)[number];
export type Tier = 'paid' | 'free' | 'unclaimed';

export interface TierPolicy {
  tier: Tier;
  /** Temporal priority key: lower runs sooner. */
  priorityKey: number;
  /** Longest job timeout the tier may request, in seconds; undefined means no limit. */
  maxTimeoutSeconds: number | undefined;
  /** Which running jobs share a concurrency permit; undefined means unlimited. */
  concurrency: 'organization' | 'source-ip' | undefined;
}

export const DEFAULT_JOB_TIMEOUT_SECONDS = 3600;

const POLICIES: Readonly<Record<Tier, TierPolicy>> = {
  paid: { tier: 'paid', priorityKey: 1, maxTimeoutSeconds: undefined, concurrency: undefined },
  free: { tier: 'free', priorityKey: 3, maxTimeoutSeconds: 300, concurrency: 'organization' },
  unclaimed: { tier: 'unclaimed', priorityKey: 5, maxTimeoutSeconds: 60, concurrency: 'source-ip' },
};

export function tierOf(org: { plan: Plan; claimed: boolean }): Tier {
  if (!org.claimed) return 'unclaimed';
  return org.plan === 'free' ? 'free' : 'paid';
}

export function tierPolicy(tier: Tier): TierPolicy {
  return POLICIES[tier];
}

/** The timeout a job gets: the request's, else the tier's limit, else the default. */
export function effectiveTimeoutSeconds(policy: TierPolicy, requested: number | undefined): number {
  return requested ?? Math.min(policy.maxTimeoutSeconds ?? DEFAULT_JOB_TIMEOUT_SECONDS, DEFAULT_JOB_TIMEOUT_SECONDS);
}

/**
 * The gate a job (its row) must pass for its tier's concurrency limit, if the tier has one. Gates are scoped
 * by the control task queue: two installations sharing one database and Temporal namespace (or two
 * test stacks sharing a run's services) must not meet at one gate, since a permit held by a job of
 * an installation that stopped would only come back once a waiting job's check reclaims it.
 */
function tierGate(job: { tier: Tier; organization_id: string; source_ip: string }, controlTaskQueue: string): TierGate | undefined {
  switch (POLICIES[job.tier].concurrency) {
    case 'organization':
      return { id: `${controlTaskQueue}/gate-org-${job.organization_id}`, permits: 1 };
    case 'source-ip':
      return { id: `${controlTaskQueue}/gate-ip-${job.source_ip}`, permits: 1 };
    default:
      return undefined;
  }
}

/** A project's concurrency rule: at most `max` of its jobs whose labels include every pair of `match` run at once. */
export interface ConcurrencyRule {
  id: string;
  match: Record<string, string>;
  max: number;
}

/**
 * Every gate a job must pass (db/permits.ts): its tier's, if the tier has a limit, and one per
 * concurrency rule of its project that its labels match. Rule gates are scoped like tier gates.
 */
export function jobGates(
  job: { tier: Tier; organization_id: string; source_ip: string; labels: Record<string, string> },
  controlTaskQueue: string,
  rules: ConcurrencyRule[],
): TierGate[] {
  const tier = tierGate(job, controlTaskQueue);
  const matching = rules.filter((rule) => Object.entries(rule.match).every(([key, value]) => job.labels[key] === value));
  return [...(tier ? [tier] : []), ...matching.map((rule) => ({ id: ruleGateId(controlTaskQueue, rule.id), permits: rule.max, rule: rule.id }))];
}

export function ruleGateId(controlTaskQueue: string, ruleId: string): string {
  return `${controlTaskQueue}/rule-${ruleId}`;
}
