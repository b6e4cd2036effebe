import type { FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { errorBody } from '../common/schemas';
import type { MemberRole } from '../common/schemas/organizations';
import { findOrganization, memberRole } from '../db/organizations';
import type { OrganizationRow, ProjectRow, SpecRow, UserRow } from '../db/rows';
import { findSpec } from '../db/specs';
import { badRequest, conflict, forbidden, notFound } from './errors';
import { readableProject } from './project-access';

/** Shared by the resource routes (organizations, tokens, projects, specs, runners): access rules and write helpers. */

export const errorResponses = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

export const isAdmin = (user: UserRow | undefined): boolean => user?.admin === true;

/** preHandler, after requireUser: server admins only. */
export async function requireAdmin(request: FastifyRequest): Promise<void> {
  if (!isAdmin(request.user)) throw forbidden('only server admins may do this');
}

/**
 * The organization `ref` and the caller's role in it. Non-members get 404, so an organization's
 * existence does not leak; server admins act as leaders (that is how plans change and how a
 * leaderless organization is repaired).
 */
export async function organizationAccess(db: Knex, request: FastifyRequest, ref: string, need: MemberRole): Promise<{ org: OrganizationRow; role: MemberRole | null }> {
  const org = await findOrganization(db, ref);
  const role = org && request.user ? await memberRole(db, request.user.id, org.id) : undefined;
  const admin = isAdmin(request.user);
  if (!org || (!role && !admin)) throw notFound(`organization "${ref}"`);
  if (need === 'leader' && role !== 'leader' && !admin) throw forbidden(`only leaders of organization "${org.slug}" may do this`);
  return { org, role: role ?? null };
}

/**
 * A project the caller may change: members may add branches and testbeds (as submitting does),
 * leaders may change the project itself. Private projects stay 404 to outsiders (readableProject).
 */
export async function writableProject(db: Knex, request: FastifyRequest, ref: string, need: MemberRole): Promise<ProjectRow> {
  const { project, role } = await readableProject(db, request, ref);
  if (!role) throw forbidden(`you are not a member of project "${project.slug}"'s organization`);
  if (need === 'leader' && role !== 'leader') {
    throw forbidden(`only leaders of project "${project.slug}"'s organization may do this`);
  }
  return project;
}

/** The slug to store: the one given, else one derived from the name ("My Bench 2" → "my-bench-2"). */
export function slugFor(given: string | undefined, name: string): string {
  if (given) return given;
  const derived = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-._]+|-+$/g, '').slice(0, 64);
  if (!derived) throw badRequest('body.slug', `no slug can be derived from the name "${name}"; give one`);
  return derived;
}

/**
 * Runs a write, answering what the database refuses as a 409 rather than a 500: a unique violation
 * (a slug or membership that already exists) or a check constraint a concurrent change tripped.
 */
export async function writeOrConflict<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '23505') throw conflict(`${what} already exists`);
    if (code === '23514') throw conflict(`the change conflicts with a concurrent one (${(err as { constraint?: string }).constraint}); retry`);
    throw err;
  }
}

/** ISO text for a nullable timestamp, as every view shows times. */
export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** The spec `ref` names, for a body field that must name an existing, unarchived spec. */
export async function usableSpec(db: Knex, ref: string, field: string): Promise<SpecRow> {
  const spec = await findSpec(db, ref);
  if (!spec) throw badRequest(field, `spec "${ref}" does not exist`);
  if (spec.archived_at) throw badRequest(field, `spec "${spec.slug}" is archived`);
  return spec;
}
