import type { Knex } from 'knex';
import type { RunnerRow } from '../db/rows';
import { createOrganization, createProject, createRunner, createSpec, createUser, grantAdmin, issueUserToken, rotateRunnerToken } from '../db/seed';

export interface DemoSeed {
  organization: string;
  project: string;
  testbed: string;
  spec: string;
  runner: string;
  userToken: string;
  runnerToken: string;
}

const DEMO = { organization: 'demo', user: 'demo', project: 'demo', testbed: 'localhost', spec: 'demo', runner: 'local-1' };

/**
 * The dev stack's demo tenant. Idempotent: a second run finds everything and only issues fresh
 * tokens (the old dev token is revoked; plaintext tokens exist only in this process). `runner`
 * renames the demo runner: its name is a host-wide lock, so two stacks on one host need two names.
 */
export async function seedDemo(db: Knex, options: { runner?: string } = {}): Promise<DemoSeed> {
  const runner = options.runner ?? DEMO.runner;
  const org = (await db('organization').where({ slug: DEMO.organization }).first()) ?? (await createOrganization(db, { slug: DEMO.organization, name: 'Demo', plan: 'team' }));
  let user = await db('app_user').where({ slug: DEMO.user }).first();
  let userToken: string;
  if (user) {
    await db('api_token').where({ user_id: user.id, name: 'dev' }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
    userToken = await issueUserToken(db, user.id, 'dev');
  } else {
    ({ user } = await createUser(db, { slug: DEMO.user, name: 'Demo User', organizationId: org.id }));
    userToken = await issueUserToken(db, user!.id, 'dev');
  }
  // The demo user administers the local server, so it can manage specs and runners too.
  await grantAdmin(db, user!.id);
  if (!(await db('project').where({ slug: DEMO.project }).first())) await createProject(db, { organizationId: org.id, slug: DEMO.project, visibility: 'public' });
  const hasDefault = await db('spec').where({ is_default: true }).first();
  const spec = (await db('spec').where({ slug: DEMO.spec }).first()) ?? (await createSpec(db, { slug: DEMO.spec, cpus: 1, memoryMib: 512, isDefault: !hasDefault }));
  const existing = await db<RunnerRow>('runner').where({ slug: runner }).first();
  const runnerToken = existing ? await rotateRunnerToken(db, existing.id) : (await createRunner(db, { slug: runner, specIds: [spec.id] })).token;
  return { organization: org.slug, project: DEMO.project, testbed: DEMO.testbed, spec: spec.slug, runner, userToken, runnerToken };
}
