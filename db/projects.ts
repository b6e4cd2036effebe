import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { generateToken, hashToken } from '../common/tokens';
import { byRef, isUuid } from './refs';
import type { BranchRow, OrganizationRow, ProjectRow, TestbedRow } from './rows';

export async function findProject(db: Knex, ref: string): Promise<ProjectRow | undefined> {
  return byRef(db<ProjectRow>('project'), ref).first();
}

export async function getOrganization(db: Knex, id: string): Promise<OrganizationRow> {
  return db<OrganizationRow>('organization').where({ id }).first().then((o) => o!);
}

/** Branches and testbeds are created on first use, as CI expects. Safe under concurrent submissions. */
async function getOrCreate<T extends { id: string }>(trx: Knex, table: string, projectId: string, slug: string): Promise<T> {
  await trx(table).insert({ project_id: projectId, slug, name: slug }).onConflict(['project_id', 'slug']).ignore();
  const row = await trx(table).where({ project_id: projectId, slug }).first();
  return row as T;
}

export const getOrCreateBranch = (trx: Knex, projectId: string, slug: string) => getOrCreate<BranchRow>(trx, 'branch', projectId, slug);
export const getOrCreateTestbed = (trx: Knex, projectId: string, slug: string) => getOrCreate<TestbedRow>(trx, 'testbed', projectId, slug);

/**
 * The project an anonymous submission runs under: an existing project of an unclaimed
 * organization, or a new public one in a new unclaimed organization (claimable later). Returns
 * undefined when the project belongs to a claimed organization, which needs a token.
 */
export async function unclaimedProject(db: Knex, slug: string): Promise<{ project: ProjectRow; claim?: { organization: string; claim_token: string } } | undefined> {
  const existing = await findProject(db, slug);
  if (existing) {
    const org = await getOrganization(db, existing.organization_id);
    return org.claimed ? undefined : { project: existing };
  }
  if (isUuid(slug)) return undefined;
  const claimToken = generateToken('claim');
  return db.transaction(async (trx) => {
    const [org] = await trx('organization')
      .insert({ slug: `unclaimed-${randomBytes(6).toString('hex')}`, name: `Unclaimed (${slug})`, plan: 'free', claimed: false, claim_token_hash: hashToken(claimToken) })
      .returning(['id', 'slug']);
    const [project] = await trx('project')
      .insert({ organization_id: org.id, slug, name: slug, visibility: 'public' })
      .onConflict('slug')
      .ignore()
      .returning('*');
    // Another anonymous submission created it first: use theirs (and drop our empty organization).
    if (!project) {
      await trx('organization').where({ id: org.id }).delete();
      const theirs = await trx<ProjectRow>('project').where({ slug }).first();
      return theirs && { project: theirs };
    }
    return { project, claim: { organization: org.slug, claim_token: claimToken } };
  });
}
