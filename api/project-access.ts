import type { FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { slug } from '../common/schemas/fields';
import type { MemberRole } from '../common/schemas/organizations';
import { getJob } from '../db/jobs';
import { holdsClaimToken, memberRole } from '../db/organizations';
import { anonymousTarget, findProject } from '../db/projects';
import { isUuid } from '../db/refs';
import { getPipeline } from '../db/pipelines';
import { findProjectChild, type ChildRow } from '../db/resources';
import type { JobRow, PipelineRow, ProjectRow } from '../db/rows';
import { badRequest, forbidden, notFound, unauthorized } from './errors';

export interface ProjectAccess {
  project: ProjectRow;
  /**
   * The caller may see private fields: a member of the project's organization, or the holder of its
   * claim token while it is unclaimed (the anonymous submitter, on routes with optionalClaimant).
   */
  member: boolean;
  /** The caller's role in that organization, if a member. */
  role: MemberRole | undefined;
}

/**
 * Resolves a project the caller may read: members (and the claim token's holder) always, anyone
 * when the project is public. A private project is reported as not found to everyone else, so its
 * existence does not leak.
 */
export async function readableProject(db: Knex, request: FastifyRequest, ref: string): Promise<ProjectAccess> {
  const project = await findProject(db, ref);
  const access = project && (await projectAccess(db, request, project));
  if (!access) throw notFound(`project "${ref}"`);
  return access;
}

/** The caller's access to `project`, or undefined when it is hidden from them (private, not a member). */
async function projectAccess(db: Knex, request: FastifyRequest, project: ProjectRow): Promise<ProjectAccess | undefined> {
  const role = request.user ? await memberRole(db, request.user.id, project.organization_id) : undefined;
  const member = role !== undefined || holdsClaim(request, project);
  if (!member && project.visibility !== 'public') return undefined;
  return { project, member, role };
}

/**
 * A pipeline the caller may read, found by its UUID alone: one of a project hidden from the caller
 * is not found, exactly like one that does not exist.
 */
export async function readablePipeline(db: Knex, request: FastifyRequest, ref: string): Promise<ProjectAccess & { pipeline: PipelineRow }> {
  const found = await findPipeline(db, request, ref);
  if (!found?.access) throw notFound(`pipeline "${ref}"`);
  return { ...found.access, pipeline: found.pipeline };
}

/**
 * A pipeline the caller may cancel, as for a job: its submitter, its organization's leaders and
 * server admins. Anyone else gets 404 where the project is hidden from them and 403 where they can see it.
 */
export async function cancelablePipeline(db: Knex, request: FastifyRequest, ref: string): Promise<ProjectAccess & { pipeline: PipelineRow }> {
  const found = await findPipeline(db, request, ref);
  const admin = request.user?.admin === true;
  if (!found || (!found.access && !admin)) throw notFound(`pipeline "${ref}"`);
  const { pipeline, project, access } = found;
  const allowed = admin || access?.role === 'leader' || (request.user !== undefined && pipeline.submitted_by === request.user.id);
  if (!allowed) throw forbidden(`only the pipeline's submitter, leaders of project "${project.slug}"'s organization and server admins may cancel it`);
  return { project, member: access?.member ?? false, role: access?.role, pipeline };
}

async function findPipeline(db: Knex, request: FastifyRequest, ref: string) {
  const pipeline = isUuid(ref) ? await getPipeline(db, ref) : undefined;
  const project = pipeline && (await findProject(db, pipeline.project_id));
  return project && { pipeline: pipeline!, project, access: await projectAccess(db, request, project) };
}

/** Whether the request came with the claim token of the project's (unclaimed) organization. */
const holdsClaim = (request: FastifyRequest, project: ProjectRow) => request.claimantOf === project.organization_id;

/**
 * One answer for every project an anonymous write may not use (a claimed organization's, public or
 * private, or a UUID that names nothing), so it never tells that a private project exists.
 */
export const tokenRequired = (ref: string) => unauthorized(`project "${ref}" does not take anonymous submissions: an API token is required`);

/**
 * Where an anonymous write (a submission, a local report) goes: a project of an unclaimed
 * organization, or `'new'` for a name no project has. The write then creates the project under that
 * name, so it must be a slug like any project's (`field` names it in the 400): a reference is any
 * string up to 64 characters, and a project named "My Bench" or "a/b" could not be addressed.
 */
export async function anonymousProject(db: Knex, ref: string, field: string): Promise<ProjectRow | 'new'> {
  const target = await anonymousTarget(db, ref);
  if (!target) throw tokenRequired(ref);
  const name = target === 'new' ? slug.safeParse(ref) : undefined;
  if (name && !name.success) throw badRequest(field, `no project is named "${ref}", and a new one's slug must be ${name.error.issues[0].message}`);
  return target;
}

/**
 * A job the caller may cancel: its submitter's, the holder of its unclaimed organization's claim
 * token (the anonymous submitter, in the body or the claim header), its organization's leaders and
 * server admins. Anyone else gets 404 where the project is hidden from them (private, not a member)
 * and 403 where they can see it.
 */
export async function cancelableJob(db: Knex, request: FastifyRequest, projectRef: string, jobRef: string, claimToken: string | undefined): Promise<ProjectAccess & { job: JobRow }> {
  const project = await findProject(db, projectRef);
  const role = project && request.user ? await memberRole(db, request.user.id, project.organization_id) : undefined;
  const admin = request.user?.admin === true;
  if (!project || (project.visibility !== 'public' && !role && !admin && !holdsClaim(request, project))) throw notFound(`project "${projectRef}"`);
  const job = isUuid(jobRef) ? await getJob(db, jobRef) : undefined;
  if (!job || job.project_id !== project.id) throw notFound(`job "${jobRef}"`);
  const claimant = holdsClaim(request, project) || (claimToken !== undefined && (await holdsClaimToken(db, project.organization_id, claimToken)));
  const allowed = admin || role === 'leader' || (request.user !== undefined && job.submitted_by === request.user.id) || claimant;
  if (!allowed) throw forbidden(`only the job's submitter, leaders of project "${project.slug}"'s organization and server admins may cancel it`);
  return { project, job, member: role !== undefined || claimant, role };
}

/** The branch and testbed a series read names (slug or UUID), 404 for either the project lacks. */
export async function seriesPlace(db: Knex, project: ProjectRow, refs: { branch: string; testbed: string }): Promise<{ branch: ChildRow; testbed: ChildRow }> {
  const [branch, testbed] = await Promise.all([findProjectChild(db, 'branch', project.id, refs.branch), findProjectChild(db, 'testbed', project.id, refs.testbed)]);
  if (!branch) throw notFound(`branch "${refs.branch}"`);
  if (!testbed) throw notFound(`testbed "${refs.testbed}"`);
  return { branch, testbed };
}
