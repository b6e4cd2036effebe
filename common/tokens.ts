import { createHash, randomBytes } from 'node:crypto';

/**
 * Secrets Benchline hands out: shown once, stored only as SHA-256. They are 32 random bytes, so a
 * fast hash is enough (nothing to brute-force, unlike a password).
 */
export const TOKEN_KINDS = {
  runner: 'benchline_runner_',
  user: 'benchline_user_',
  /** One-time: claims the unclaimed organization an anonymous submission created. */
  claim: 'benchline_claim_',
} as const;
export type TokenKind = keyof typeof TOKEN_KINDS;

const BODY = /^[0-9a-f]{64}$/;

export function generateToken(kind: TokenKind): string {
  return TOKEN_KINDS[kind] + randomBytes(32).toString('hex');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** True when `token` has the exact shape of a `kind` token; checked before any database lookup. */
export function isWellFormedToken(kind: TokenKind, token: string): boolean {
  const prefix = TOKEN_KINDS[kind];
  return token.startsWith(prefix) && BODY.test(token.slice(prefix.length));
}

/**
 * The header an anonymous submitter sends its claim token in, to read its jobs and reports as a
 * member would (not Authorization: that carries user tokens, and a request may carry both).
 */
export const CLAIM_TOKEN_HEADER = 'x-benchline-claim-token';

/** Extracts the token from an `Authorization: Bearer …` header value. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
