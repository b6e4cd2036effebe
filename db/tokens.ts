import type { Knex } from 'knex';
import { generateToken, hashToken } from '../common/tokens';

export interface TokenRow {
  id: string; user_id: string; name: string; token_hash: string;
  created_at: Date; expires_at: Date | null; revoked_at: Date | null; last_used_at: Date | null;
}

/** Issues a user API token. The plaintext is returned once and never stored; only its SHA-256 is. */
export async function createUserToken(db: Knex, userId: string, name: string, expiresAt: Date | null = null): Promise<{ row: TokenRow; token: string }> {
  const token = generateToken('user');
  const [row] = await db<TokenRow>('api_token').insert({ user_id: userId, name, token_hash: hashToken(token), expires_at: expiresAt }).returning('*');
  return { row, token };
}

/** A user's tokens (only revoked or unrevoked ones where asked), hashes excluded so no listing can ever leak one; sort and paginate it. */
export function tokensQuery(db: Knex, userId: string, revoked?: boolean): Knex.QueryBuilder {
  const query = db('api_token').where({ user_id: userId }).select('id', 'name', 'created_at', 'expires_at', 'revoked_at', 'last_used_at');
  return revoked === undefined ? query : query[revoked ? 'whereNotNull' : 'whereNull']('revoked_at');
}

/** One of the user's tokens; anyone else's is undefined. */
export function findUserToken(db: Knex, userId: string, tokenId: string): Promise<TokenRow | undefined> {
  return tokensQuery(db, userId).where({ id: tokenId }).first();
}

/** Revokes one of the user's tokens at once (auth checks revoked_at on every request). Idempotent: the first revocation time stays. */
export async function revokeUserToken(db: Knex, userId: string, tokenId: string): Promise<TokenRow | undefined> {
  const [row] = await db<TokenRow>('api_token')
    .where({ id: tokenId, user_id: userId })
    .update({ revoked_at: db.raw('coalesce(revoked_at, now())') as unknown as Date })
    .returning('*');
  return row;
}
