import { z } from 'zod';
import { PLANS } from '../tiers';
import { name, resourceRef, slug, timestamp } from './fields';

export const plan = z.enum(PLANS);
export const memberRole = z.enum(['leader', 'member']);
export type MemberRole = z.infer<typeof memberRole>;

export const newOrganization = z.strictObject({
  name,
  slug: slug.optional(),
  plan: plan.optional().describe('server admins only; defaults to free'),
});
// No slug change: dedicated runners' task queues are named after it (common/task-queues.ts).
export const organizationUpdate = z.strictObject({
  name: name.optional(),
  plan: plan.optional().describe('server admins only'),
});
export const organizationView = z.object({
  uuid: z.uuid(),
  slug: z.string(),
  name: z.string(),
  plan,
  claimed: z.boolean().describe('false for an organization an anonymous submission created, until a user claims it'),
  role: memberRole.nullable().describe("the caller's role; null for a server admin who is not a member"),
  created: timestamp,
});
export type OrganizationView = z.infer<typeof organizationView>;

export const newMember = z.strictObject({ user: resourceRef.describe('user slug or UUID'), role: memberRole.default('member') });
export const memberUpdate = z.strictObject({ role: memberRole });
export const memberView = z.object({ uuid: z.uuid(), slug: z.string(), name: z.string(), role: memberRole });

export const newToken = z.strictObject({
  name,
  ttl_seconds: z.number().int().min(60).max(10 * 365 * 86400).optional().describe('lifetime; omitted means the token never expires'),
});
export const tokenView = z.object({
  uuid: z.uuid(),
  name: z.string(),
  created: timestamp,
  expires: timestamp.nullable(),
  revoked: timestamp.nullable(),
  last_used: timestamp.nullable(),
});
/** The only response that ever carries a token's plaintext. */
export const createdToken = tokenView.extend({ token: z.string().describe('shown once: store it now') });
