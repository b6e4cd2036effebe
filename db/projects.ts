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

/**
 * Branches and testbeds are created on first use, as CI expects. Safe under concurrent submissions:
 * the insert waits for a concurrent creator, and the read after it is a new statement that sees
 * what that one committed. One statement when the row exists, as it does for every run but the first.
 */
async function getOrCreate<T extends { id: string }>(trx: Knex, table: string, projectId: string, slug: string): Promise<T> {
  const existing = await trx(table).where({ project_id: projectId, slug }).first();
  if (existing) return existing as T;
  await trx(table).insert({ project_id: projectId, slug, name: slug }).onConflict(['project_id', 'slug']).ignore();
  const row = await trx(table).where({ project_id: projectId, slug }).first();
  return row as T;
}

export const getOrCreateBranch = (trx: Knex, projectId: string, slug: string) => getOrCreate<BranchRow>(trx, 'branch', projectId, slug);
export const getOrCreateTestbed = (trx: Knex, projectId: string, slug: string) => getOrCreate<TestbedRow>(trx, 'testbed', projectId, slug);

/**
 * Where an anonymous submission would run, read without writing anything: an existing project of an
 * unclaimed organization, or `'new'` when no project has the slug (createUnclaimedProject makes it
 * inside the submission's transaction). Undefined for a project of a claimed organization, whatever
 * its visibility, and for a UUID that names no project: those need a token.
 */
export async function anonymousTarget(db: Knex, ref: string): Promise<ProjectRow | 'new' | undefined> {
  // One query: the project with its organization's claimed flag.
  const row = await byRef(db('project').join('organization', 'organization.id', 'project.organization_id').select('project.*', 'organization.claimed'), ref, { table: 'project' }).first();
  if (row) {
    const { claimed, ...project } = row as ProjectRow & { claimed: boolean };
    return claimed ? undefined : project;
  }
  return isUuid(ref) ? undefined : 'new';
}

/**
 * A new public project in a new unclaimed organization (claimable later with the returned token),
 * written in the caller's transaction so that a submission refused later leaves neither behind.
 * If another submission created the slug first, theirs is used while it is still unclaimed;
 * undefined once it was claimed.
 */
export async function createUnclaimedProject(trx: Knex.Transaction, slug: string): Promise<{ project: ProjectRow; claim?: { organization: string; claim_token: string } } | undefined> {
  const claimToken = generateToken('claim');
  const [org] = await trx('organization')
    .insert({ slug: `unclaimed-${randomBytes(6).toString('hex')}`, name: `Unclaimed (${slug})`, plan: 'free', claimed: false, claim_token_hash: hashToken(claimToken) })
    .returning(['id', 'slug']);
  // A concurrent creator's uncommitted row makes this wait for their commit or rollback.
  const [project] = await trx('project').insert({ organization_id: org.id, slug, name: slug, visibility: 'public' }).onConflict('slug').ignore().returning('*');
  if (project) return { project, claim: { organization: org.slug, claim_token: claimToken } };
  await trx('organization').where({ id: org.id }).delete();
  const theirs = await trx<ProjectRow>('project').where({ slug }).first();
  return theirs && !(await getOrganization(trx, theirs.organization_id)).claimed ? { project: theirs } : undefined;
}

/** A project's testbed by slug, without creating it (submissions check before they write). */
export async function findTestbed(db: Knex, projectId: string, slug: string): Promise<TestbedRow | undefined> {
  return db<TestbedRow>('testbed').where({ project_id: projectId, slug }).first();
}

export type ProjectFields = Pick<ProjectRow, 'organization_id' | 'slug' | 'name' | 'visibility'>;

export async function insertProject(db: Knex, fields: ProjectFields): Promise<ProjectRow> {
  const [row] = await db<ProjectRow>('project').insert(fields).returning('*');
  return row;
}

export async function updateProject(db: Knex, projectId: string, changes: Partial<Omit<ProjectFields, 'organization_id'>>): Promise<ProjectRow> {
  const [row] = await db<ProjectRow>('project').where({ id: projectId }).update(changes).returning('*');
  return row;
}

/** An organization's projects, or only its public ones; sort and paginate it. */
export function organizationProjectsQuery(db: Knex, organizationId: string, publicOnly: boolean): Knex.QueryBuilder {
  return db('project').where({ organization_id: organizationId }).modify((q) => (publicOnly ? q.where({ visibility: 'public' }) : q));
}
