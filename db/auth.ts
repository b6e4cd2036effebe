import type { Knex } from 'knex';
import { hashToken, isWellFormedToken } from '../common/tokens';
import type { RunnerRow, UserRow } from './rows';

/** The user an API token belongs to, if the token is well formed, known, not revoked and not expired. */
export async function userForToken(db: Knex, token: string): Promise<UserRow | undefined> {
  if (!isWellFormedToken('user', token)) return undefined;
  const found = db('api_token')
    .join('app_user', 'app_user.id', 'api_token.user_id')
    .where('api_token.token_hash', hashToken(token))
    .whereNull('api_token.revoked_at')
    .where((q) => q.whereNull('api_token.expires_at').orWhere('api_token.expires_at', '>', db.fn.now()))
    .select('app_user.*', 'api_token.id as token_id');
  // At most one write a minute per token: "last used" stays accurate to the minute and cheap. It
  // rides on the lookup (one statement: every authenticated request makes it).
  const touched = db('api_token')
    .whereRaw('api_token.id = (select token_id from found)')
    .where((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', db.raw("now() - interval '1 minute'")))
    .update({ last_used_at: db.fn.now() });
  const row = await db.with('found', found).with('touched', touched).select('*').from('found').first<UserRow & { token_id: string }>();
  if (!row) return undefined;
  const { token_id: _tokenId, ...user } = row;
  return user;
}

/** The runner a runner token belongs to. Malformed tokens are refused before any lookup. */
export async function runnerForToken(db: Knex, token: string): Promise<RunnerRow | undefined> {
  if (!isWellFormedToken('runner', token)) return undefined;
  return db<RunnerRow>('runner').where({ token_hash: hashToken(token) }).first();
}

