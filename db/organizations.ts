import type { Knex } from 'knex';
import type { MemberRole } from '../common/schemas/organizations';
import type { Plan } from '../common/tiers';
import type { OrganizationRow } from './rows';
import { generateToken, hashToken, isWellFormedToken } from '../common/tokens';
import { byRef } from './refs';

export function findOrganization(db: Knex, ref: string): Promise<OrganizationRow | undefined> {
  return byRef(db<OrganizationRow>('organization'), ref).first();
}

export async function memberRole(db: Knex, userId: string, organizationId: string): Promise<MemberRole | undefined> {
  const row = await db('organization_member').where({ user_id: userId, organization_id: organizationId }).first('role');
  return row?.role;
}

/** A new organization with its creator as leader: both rows or neither. */
export function createOrganizationLedBy(db: Knex, o: { slug: string; name: string; plan: Plan }, leaderId: string): Promise<OrganizationRow> {
  return db.transaction(async (trx) => {
    const org = await createOrganization(trx, o);
    await trx('organization_member').insert({ organization_id: org.id, user_id: leaderId, role: 'leader' });
    return org;
  });
}

/**
 * The holder of the claim token claims an unclaimed organization and becomes its leader. The
 * conditional UPDATE lets exactly one of two racing claims win, and spends the token; undefined
 * means it was already claimed or the token is wrong.
 */
export function claimOrganization(db: Knex, organizationId: string, userId: string, claimToken: string): Promise<OrganizationRow | undefined> {
  return db.transaction(async (trx) => {
    const [org] = await trx<OrganizationRow>('organization')
      .where({ id: organizationId, claimed: false, claim_token_hash: hashToken(claimToken) })
      .update({ claimed: true, claim_token_hash: null })
      .returning('*');
    if (org) {
      await trx('organization_member').insert({ organization_id: org.id, user_id: userId, role: 'leader' }).onConflict(['organization_id', 'user_id']).merge(['role']);
    }
    return org;
  });
}

/** Members with their user's slug and name; sort and paginate it. */
export function membersQuery(db: Knex, organizationId: string): Knex.QueryBuilder {
  return db('organization_member')
    .join('app_user', 'app_user.id', 'organization_member.user_id')
    .where('organization_member.organization_id', organizationId)
    .select('app_user.id', 'app_user.slug', 'app_user.name', 'organization_member.role');
}

/** The organizations a user belongs to, each with the user's role. */
export function organizationsOfQuery(db: Knex, userId: string): Knex.QueryBuilder {
  return db('organization')
    .join('organization_member', 'organization_member.organization_id', 'organization.id')
    .where('organization_member.user_id', userId)
    .select('organization.*', 'organization_member.role');
}

export type MembershipChange = 'changed' | 'not_member' | 'last_leader';

/**
 * Changes a member's role, or removes them (`role` null), unless that would leave the organization
 * without a leader. The organization row is locked first, so two concurrent demotions of its last
 * two leaders cannot both pass the check.
 */
export function changeMembership(db: Knex, organizationId: string, userId: string, role: MemberRole | null): Promise<MembershipChange> {
  return db.transaction(async (trx) => {
    await trx('organization').where({ id: organizationId }).forUpdate().first('id');
    const member = await trx('organization_member').where({ organization_id: organizationId, user_id: userId }).first('role');
    if (!member) return 'not_member';
    if (member.role === 'leader' && role !== 'leader') {
      const [{ count }] = await trx('organization_member').where({ organization_id: organizationId, role: 'leader' }).count<{ count: string }[]>({ count: '*' });
      if (Number(count) <= 1) return 'last_leader';
    }
    const target = trx('organization_member').where({ organization_id: organizationId, user_id: userId });
    await (role === null ? target.delete() : target.update({ role }));
    return 'changed';
  });
}

/** Gives an unclaimed organization a fresh claim token; returns it (its only plaintext copy). */
export async function issueClaimToken(db: Knex, organizationId: string): Promise<string> {
  const token = generateToken('claim');
  await db('organization').where({ id: organizationId, claimed: false }).update({ claim_token_hash: hashToken(token) });
  return token;
}

export async function createOrganization(db: Knex, o: { slug: string; name?: string; plan: Plan; claimed?: boolean }): Promise<OrganizationRow> {
  const [row] = await db('organization').insert({ slug: o.slug, name: o.name ?? o.slug, plan: o.plan, claimed: o.claimed ?? true }).returning('*');
  return row;
}

/** Whether `claimToken` is the one-time claim token of the still unclaimed organization: its anonymous submitter's proof. */
export async function holdsClaimToken(db: Knex, organizationId: string, claimToken: string): Promise<boolean> {
  return (await claimTokenOrganization(db, claimToken)) === organizationId;
}

/**
 * The still unclaimed organization whose claim token this is, if any: what the anonymous submitter
 * who holds it may read as a member would. Claiming spends the token, so it grants nothing after.
 */
export async function claimTokenOrganization(db: Knex, claimToken: string): Promise<string | undefined> {
  if (!isWellFormedToken('claim', claimToken)) return undefined;
  const org = await db('organization').where({ claimed: false, claim_token_hash: hashToken(claimToken) }).first('id');
  return org?.id;
}

export async function updateOrganization(db: Knex, organizationId: string, changes: Partial<Pick<OrganizationRow, 'name' | 'plan'>>): Promise<OrganizationRow> {
  const [updated] = await db<OrganizationRow>('organization').where({ id: organizationId }).update(changes).returning('*');
  return updated;
}

export async function addMember(db: Knex, organizationId: string, userId: string, role: MemberRole): Promise<void> {
  await db('organization_member').insert({ organization_id: organizationId, user_id: userId, role });
}
