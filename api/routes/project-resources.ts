import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { resourceRef } from '../../common/schemas/fields';
import { paginationQuery } from '../../common/schemas/pagination';
import { branchUpdate, branchView, newBranch, newProject, newTestbed, projectDetail, projectUpdate, projectView, testbedUpdate, testbedView } from '../../common/schemas/projects';
import { findOrganization, memberRole } from '../../db/organizations';
import { getOrganization, insertProject, organizationProjectsQuery, updateProject } from '../../db/projects';
import { findProjectChild, insertProjectChild, projectChildQuery, updateProjectChild, type ChildRow } from '../../db/resources';
import type { ProjectRow } from '../../db/rows';

import { notFound } from '../errors';
import { paginate } from '../pagination';
import { readableProject } from '../project-access';
import { errorResponses, organizationAccess, slugFor, usableSpec, writableProject, writeOrConflict } from '../resources';

const projectParams = z.object({ project: resourceRef });

const toProjectView = (p: ProjectRow, organization: string) => ({
  uuid: p.id, slug: p.slug, name: p.name, organization, visibility: p.visibility, created: p.created_at.toISOString(),
});

/** A branch or testbed; a testbed's spec is private (which hardware a project uses), shown to members only. */
const toChildView = (row: ChildRow, project: ProjectRow, member: boolean) => ({
  uuid: row.id, project: project.slug, slug: row.slug, name: row.name, created: row.created_at.toISOString(),
  ...(row.spec_slug !== undefined && member ? { spec: row.spec_slug } : {}),
});

const CHILDREN = [
  { table: 'branch', path: 'branches', create: newBranch, update: branchUpdate, view: branchView },
  { table: 'testbed', path: 'testbeds', create: newTestbed, update: testbedUpdate, view: testbedView },
] as const;

/**
 * Projects under an organization, and their branches and testbeds. Reads go through readableProject
 * (public projects to anyone, private ones to members only); leaders change projects; members add
 * and change branches and testbeds, as submitting a run does.
 */
const projectResourceRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v0/organizations/:organization/projects',
    {
      preHandler: app.requireUser,
      schema: { summary: 'Create a project (organization leaders)', tags: ['projects'], params: z.object({ organization: resourceRef }), body: newProject, response: { 201: projectView, ...errorResponses } },
    },
    async (request, reply) => {
      const { org } = await organizationAccess(app.db, request, request.params.organization, 'leader');
      const { name, visibility } = request.body;
      const slug = slugFor(request.body.slug, name);
      const project = await writeOrConflict(`project "${slug}"`, () => insertProject(app.db, { organization_id: org.id, slug, name, visibility }));
      return reply.status(201).send(toProjectView(project, org.slug));
    },
  );

  app.get(
    '/v0/organizations/:organization/projects',
    {
      preHandler: app.optionalUser,
      schema: { summary: "List an organization's projects (public ones to non-members)", tags: ['projects'], params: z.object({ organization: resourceRef }), querystring: paginationQuery, response: { 200: z.array(projectView), ...errorResponses } },
    },
    async (request, reply) => {
      const org = await findOrganization(app.db, request.params.organization);
      if (!org) throw notFound(`organization "${request.params.organization}"`);
      const member = request.user ? (await memberRole(app.db, request.user.id, org.id)) !== undefined : false;
      const rows = await paginate<ProjectRow>(app.db, reply, organizationProjectsQuery(app.db, org.id, !member), request.query, [{ column: 'slug' }]);
      return rows.map((p) => toProjectView(p, org.slug));
    },
  );

  app.get(
    '/v0/projects/:project',
    { preHandler: app.optionalUser, schema: { summary: 'View a project', tags: ['projects'], params: projectParams, response: { 200: projectDetail, ...errorResponses } } },
    async (request) => {
      const { project, role } = await readableProject(app.db, request, request.params.project);
      // A claim token reads like a member but changes nothing: only an organization role counts.
      return { ...toProjectView(project, (await getOrganization(app.db, project.organization_id)).slug), member: role !== undefined };
    },
  );

  app.patch(
    '/v0/projects/:project',
    { preHandler: app.requireUser, schema: { summary: 'Update a project (organization leaders)', tags: ['projects'], params: projectParams, body: projectUpdate, response: { 200: projectView, ...errorResponses } } },
    async (request) => {
      let project = await writableProject(app.db, request, request.params.project, 'leader');
      if (Object.keys(request.body).length) {
        project = await writeOrConflict(`project "${request.body.slug}"`, () => updateProject(app.db, project.id, request.body));
      }
      return toProjectView(project, (await getOrganization(app.db, project.organization_id)).slug);
    },
  );

  /** The columns a branch or testbed body sets; a testbed's spec must exist and not be archived. */
  async function childFields(body: { name?: string; slug?: string; spec?: string | null }): Promise<Record<string, unknown>> {
    const { spec, ...fields } = body;
    if (spec === undefined) return fields;
    if (spec === null) return { ...fields, spec_id: null };
    return { ...fields, spec_id: (await usableSpec(app.db, spec, 'body.spec')).id };
  }

  for (const { table, path, create, update, view } of CHILDREN) {
    const tags = [path];
    const childParams = z.object({ project: resourceRef, [table]: resourceRef });
    const found = async (project: ProjectRow, ref: string) => {
      const row = await findProjectChild(app.db, table, project.id, ref);
      if (!row) throw notFound(`${table} "${ref}"`);
      return row;
    };

    app.get(
      `/v0/projects/:project/${path}`,
      { preHandler: app.optionalUser, schema: { summary: `List a project's ${path}`, tags, params: projectParams, querystring: paginationQuery, response: { 200: z.array(view), ...errorResponses } } },
      async (request, reply) => {
        const { project, member } = await readableProject(app.db, request, request.params.project);
        const rows = await paginate<ChildRow>(app.db, reply, projectChildQuery(app.db, table, project.id), request.query, [{ column: `${table}.slug` }]);
        return rows.map((row) => toChildView(row, project, member));
      },
    );

    app.get(
      `/v0/projects/:project/${path}/:${table}`,
      { preHandler: app.optionalUser, schema: { summary: `View a ${table}`, tags, params: childParams, response: { 200: view, ...errorResponses } } },
      async (request) => {
        const { project, member } = await readableProject(app.db, request, request.params.project);
        return toChildView(await found(project, request.params[table]), project, member);
      },
    );

    app.post(
      `/v0/projects/:project/${path}`,
      { preHandler: app.requireUser, schema: { summary: `Create a ${table} (organization members)`, tags, params: projectParams, body: create, response: { 201: view, ...errorResponses } } },
      async (request, reply) => {
        const project = await writableProject(app.db, request, request.params.project, 'member');
        const slug = slugFor(request.body.slug, request.body.name);
        const fields = await childFields({ ...request.body, slug });
        const id = await writeOrConflict(`${table} "${slug}"`, () => insertProjectChild(app.db, table, project.id, fields));
        return reply.status(201).send(toChildView(await found(project, id), project, true));
      },
    );

    app.patch(
      `/v0/projects/:project/${path}/:${table}`,
      { preHandler: app.requireUser, schema: { summary: `Update a ${table} (organization members)`, tags, params: childParams, body: update, response: { 200: view, ...errorResponses } } },
      async (request) => {
        const project = await writableProject(app.db, request, request.params.project, 'member');
        const { id } = await found(project, request.params[table]);
        const fields = await childFields(request.body);
        if (Object.keys(fields).length) await writeOrConflict(`${table} "${request.body.slug}"`, () => updateProjectChild(app.db, table, id, fields));
        return toChildView(await found(project, id), project, true);
      },
    );
  }
};

export default projectResourceRoutes;
