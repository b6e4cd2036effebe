export { createOrganization } from './organizations';
import type { Knex } from 'knex';
import type { ProjectRow, RunnerRow, SpecRow, UserRow } from './rows';
import { insertProject } from './projects';
import { insertRunner } from './runners';
import { createUserToken } from './tokens';

/**
 * Creation helpers used by the dev stack's demo seed and by tests. Each returns the row, plus the
 * plaintext token where one is issued (the only time it exists outside the caller's hands).
 */

export async function createUser(db: Knex, u: { slug: string; name?: string; organizationId?: string }): Promise<{ user: UserRow; token: string }> {
  return db.transaction(async (trx) => {
    const [user] = await trx('app_user').insert({ slug: u.slug, name: u.name ?? u.slug }).returning('*');
    if (u.organizationId) await trx('organization_member').insert({ organization_id: u.organizationId, user_id: user.id, role: 'leader' });
    const token = await issueUserToken(trx, user.id, 'default');
    return { user, token };
  });
}

export async function issueUserToken(db: Knex, userId: string, name: string): Promise<string> {
  return (await createUserToken(db, userId, name)).token;
}

export async function createProject(db: Knex, p: { organizationId: string; slug: string; visibility?: 'public' | 'private' }): Promise<ProjectRow> {
  return insertProject(db, { organization_id: p.organizationId, slug: p.slug, name: p.slug, visibility: p.visibility ?? 'private' });
}

export async function createSpec(
  db: Knex,
  s: { slug: string; cpus?: number; memoryMib?: number; diskMib?: number; isDefault?: boolean },
): Promise<SpecRow> {
  const [row] = await db('spec')
    .insert({ slug: s.slug, name: s.slug, cpus: s.cpus ?? 1, memory_mib: s.memoryMib ?? 512, disk_mib: s.diskMib ?? 1024, is_default: s.isDefault ?? false })
    .returning('*');
  return row;
}

/**
 * A runner and its token. `seen` marks it as if its daemon had just checked in, so its specs accept
 * jobs (db/specs.ts jobRoute) without a daemon: a stand-in for an online runner that is busy elsewhere.
 */
export async function createRunner(db: Knex, r: { slug: string; specIds: string[]; organizationId?: string; seen?: boolean }): Promise<{ runner: RunnerRow; token: string }> {
  const created = await insertRunner(db, r);
  if (!r.seen) return created;
  const [runner] = await db<RunnerRow>('runner').where({ id: created.runner.id }).update({ last_seen_at: db.fn.now() }).returning('*');
  return { runner, token: created.token };
}

export { rotateRunnerToken } from './runners';

/** Makes a user a server admin (manages specs and runners, sets plans); there is no API for this on purpose. */
export async function grantAdmin(db: Knex, userId: string): Promise<void> {
  await db('app_user').where({ id: userId }).update({ admin: true });
}

/** A new server admin's API token (a user made admin at once). */
export async function createAdmin(db: Knex, slug: string): Promise<string> {
  const { user, token } = await createUser(db, { slug });
  await grantAdmin(db, user.id);
  return token;
}
