import type { Knex } from 'knex';
import { byRef } from './specs';
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
