import type { Knex } from 'knex';
import { byRef } from './refs';
import type { UserRow } from './rows';

export function findUser(db: Knex, ref: string): Promise<UserRow | undefined> {
  return byRef(db<UserRow>('app_user'), ref).first();
}
