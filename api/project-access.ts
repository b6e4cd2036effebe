import type { FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import type { MemberRole } from '../common/schemas/organizations';
import { memberRole } from '../db/organizations';
import { findProject } from '../db/projects';
import type { ProjectRow } from '../db/rows';
import { notFound, unauthorized } from './errors';

export interface ProjectAccess {
  project: ProjectRow;
  /** The caller is a member of the project's organization and may see private fields. */
  member: boolean;
  /** The caller's role in that organization, if a member. */
  role: MemberRole | undefined;
}

/**
 * Resolves a project the caller may read: members always, anyone when the project is public. A
 * private project is reported as not found to non-members, so its existence does not leak.
 */
export async function readableProject(db: Knex, request: FastifyRequest, ref: string): Promise<ProjectAccess> {
  const project = await findProject(db, ref);
  if (!project) throw notFound(`project "${ref}"`);
  const role = request.user ? await memberRole(db, request.user.id, project.organization_id) : undefined;
  if (!role && project.visibility !== 'public') throw notFound(`project "${ref}"`);
  return { project, member: role !== undefined, role };
}

/**
 * One answer for every project an anonymous write may not use (a claimed organization's, public or
 * private, or a UUID that names nothing), so it never tells that a private project exists.
 */
export const tokenRequired = (ref: string) => unauthorized(`project "${ref}" does not take anonymous submissions: an API token is required`);
