import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { resourceRef } from '../../common/schemas/fields';
import {
  memberUpdate, memberView, newMember, newOrganization, organizationUpdate, organizationView, type MemberRole, type OrganizationView,
} from '../../common/schemas/organizations';
import { paginationQuery } from '../../common/schemas/pagination';
import {
  addMember, changeMembership, claimOrganization, createOrganizationLedBy, findOrganization, membersQuery, organizationsOfQuery, updateOrganization,
} from '../../db/organizations';
import type { OrganizationRow, UserRow } from '../../db/rows';
import { findUser } from '../../db/users';
import { conflict, forbidden, notFound } from '../errors';
import { paginate } from '../pagination';
import { errorResponses, isAdmin, organizationAccess, slugFor, writeOrConflict } from '../resources';

const orgParams = z.object({ organization: resourceRef });
const memberParams = z.object({ organization: resourceRef, user: resourceRef });
const tags = ['organizations'];

const toView = (org: OrganizationRow, role: MemberRole | null): OrganizationView => ({
  uuid: org.id, slug: org.slug, name: org.name, plan: org.plan, claimed: org.claimed, role, created: org.created_at.toISOString(),
});

/** Organizations and their members. Leaders manage; members read; server admins act as leaders and alone set plans. */
const organizationRoutes: FastifyPluginAsyncZod = async (app) => {
  const onlyAdminsSetPlans = (user: UserRow | undefined, plan: unknown) => {
    if (plan !== undefined && !isAdmin(user)) throw forbidden('body.plan: only server admins may set an organization\'s plan');
  };

  app.post(
    '/v0/organizations',
    { preHandler: app.requireUser, schema: { summary: 'Create an organization (you become its leader)', tags, body: newOrganization, response: { 201: organizationView, ...errorResponses } } },
    async (request, reply) => {
      const { name, plan } = request.body;
      onlyAdminsSetPlans(request.user, plan);
      const slug = slugFor(request.body.slug, name);
      const org = await writeOrConflict(`organization "${slug}"`, () => createOrganizationLedBy(app.db, { name, slug, plan: plan ?? 'free' }, request.user!.id));
      return reply.status(201).send(toView(org, 'leader'));
    },
  );

  app.get(
    '/v0/organizations',
    { preHandler: app.requireUser, schema: { summary: 'List the organizations you belong to', tags, querystring: paginationQuery, response: { 200: z.array(organizationView), ...errorResponses } } },
    async (request, reply) => {
      const rows = await paginate<OrganizationRow & { role: MemberRole }>(app.db, reply, organizationsOfQuery(app.db, request.user!.id), request.query, [
        { column: 'organization.slug' },
      ]);
      return rows.map((row) => toView(row, row.role));
    },
  );

  app.get(
    '/v0/organizations/:organization',
    { preHandler: app.requireUser, schema: { summary: 'View an organization (members)', tags, params: orgParams, response: { 200: organizationView, ...errorResponses } } },
    async (request) => {
      const { org, role } = await organizationAccess(app.db, request, request.params.organization, 'member');
      return toView(org, role);
    },
  );

  app.patch(
    '/v0/organizations/:organization',
    { preHandler: app.requireUser, schema: { summary: 'Update an organization (leaders; plan: server admins)', tags, params: orgParams, body: organizationUpdate, response: { 200: organizationView, ...errorResponses } } },
    async (request) => {
      const { org, role } = await organizationAccess(app.db, request, request.params.organization, 'leader');
      onlyAdminsSetPlans(request.user, request.body.plan);
      if (!Object.keys(request.body).length) return toView(org, role);
      const updated = await updateOrganization(app.db, org.id, request.body);
      return toView(updated, role);
    },
  );

  app.post(
    '/v0/organizations/:organization/claim',
    {
      preHandler: app.requireUser,
      schema: {
        summary: 'Claim an unclaimed organization (one an anonymous submission created) with its claim token; you become its leader',
        tags,
        params: orgParams,
        body: z.strictObject({ claim_token: z.string().describe('the claim_token the anonymous submission was given') }),
        response: { 200: organizationView, ...errorResponses },
      },
    },
    async (request) => {
      // Not organizationAccess: the caller is by definition not a member yet.
      const org = await findOrganization(app.db, request.params.organization);
      if (!org) throw notFound(`organization "${request.params.organization}"`);
      if (org.claimed) throw conflict(`organization "${org.slug}" is already claimed`);
      const claimed = await claimOrganization(app.db, org.id, request.user!.id, request.body.claim_token);
      if (!claimed) throw forbidden(`wrong claim token for organization "${org.slug}"`);
      return toView(claimed, 'leader');
    },
  );

  app.get(
    '/v0/organizations/:organization/members',
    { preHandler: app.requireUser, schema: { summary: "List an organization's members (members)", tags, params: orgParams, querystring: paginationQuery, response: { 200: z.array(memberView), ...errorResponses } } },
    async (request, reply) => {
      const { org } = await organizationAccess(app.db, request, request.params.organization, 'member');
      const rows = await paginate<UserRow & { role: MemberRole }>(app.db, reply, membersQuery(app.db, org.id), request.query, [{ column: 'app_user.slug' }]);
      return rows.map((u) => ({ uuid: u.id, slug: u.slug, name: u.name, role: u.role }));
    },
  );

  app.post(
    '/v0/organizations/:organization/members',
    { preHandler: app.requireUser, schema: { summary: 'Add a user to an organization (leaders)', tags, params: orgParams, body: newMember, response: { 201: memberView, ...errorResponses } } },
    async (request, reply) => {
      const { org } = await organizationAccess(app.db, request, request.params.organization, 'leader');
      const user = await findUser(app.db, request.body.user);
      if (!user) throw notFound(`user "${request.body.user}"`);
      const { role } = request.body;
      await writeOrConflict(`member "${user.slug}" of organization "${org.slug}"`, () =>
        addMember(app.db, org.id, user.id, role),
      );
      return reply.status(201).send({ uuid: user.id, slug: user.slug, name: user.name, role });
    },
  );

  /** Applies a role change or removal, refusing to leave the organization without a leader. */
  async function changeMember(organization: OrganizationRow, userRef: string, role: MemberRole | null): Promise<UserRow> {
    const user = await findUser(app.db, userRef);
    const outcome = user ? await changeMembership(app.db, organization.id, user.id, role) : 'not_member';
    if (outcome === 'not_member') throw notFound(`member "${userRef}" of organization "${organization.slug}"`);
    if (outcome === 'last_leader') throw conflict(`"${user!.slug}" is the last leader of organization "${organization.slug}"; make another member leader first`);
    return user!;
  }

  app.patch(
    '/v0/organizations/:organization/members/:user',
    { preHandler: app.requireUser, schema: { summary: "Change a member's role (leaders)", tags, params: memberParams, body: memberUpdate, response: { 200: memberView, ...errorResponses } } },
    async (request) => {
      const { org } = await organizationAccess(app.db, request, request.params.organization, 'leader');
      const user = await changeMember(org, request.params.user, request.body.role);
      return { uuid: user.id, slug: user.slug, name: user.name, role: request.body.role };
    },
  );

  app.delete(
    '/v0/organizations/:organization/members/:user',
    { preHandler: app.requireUser, schema: { summary: 'Remove a member (leaders; any member may remove themselves)', tags, params: memberParams, response: { 204: z.null(), ...errorResponses } } },
    async (request, reply) => {
      const { user: ref, organization } = request.params;
      const self = ref === request.user!.id || ref === request.user!.slug;
      const { org } = await organizationAccess(app.db, request, organization, self ? 'member' : 'leader');
      await changeMember(org, ref, null);
      return reply.status(204).send(null);
    },
  );
};

export default organizationRoutes;
