import type { Knex } from 'knex';

/** Counts one request against `key` in the window starting at `windowStart`; returns the window's count so far. */
export async function countRequest(db: Knex, key: string, windowStart: Date): Promise<number> {
  const { rows } = await db.raw(
    `insert into rate_limit (key, window_start, count) values (?, ?, 1)
     on conflict (key, window_start) do update set count = rate_limit.count + 1 returning count`,
    [key, windowStart],
  );
  return rows[0].count;
}

/** Drops the windows that started before `before`. */
export async function sweepRateLimits(db: Knex, before: Date): Promise<void> {
  await db('rate_limit').where('window_start', '<', before).delete();
}
