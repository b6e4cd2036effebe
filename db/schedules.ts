import type { Knex } from 'knex';
import type { ScheduleTemplate } from '../common/schemas/schedules';

/** A schedule as stored (migration 011): Temporal holds its timing, this row what authorises and submits its runs. */
export interface ScheduleRow {
  id: string;
  project_id: string;
  template: ScheduleTemplate;
  /** The cron expression and time zone as given (Temporal's copy is the one that fires). */
  cron: string;
  timezone: string;
  created_by: string | null;
  source_ip: string;
  created_at: Date;
}

/** A schedule in a list or view: its row, with the creator's slug. */
export type ScheduleListRow = ScheduleRow & { created_by_slug: string | null };

export async function insertSchedule(trx: Knex.Transaction, row: Pick<ScheduleRow, 'project_id' | 'template' | 'cron' | 'timezone' | 'created_by' | 'source_ip'>): Promise<ScheduleRow> {
  const [created] = await trx<ScheduleRow>('schedule').insert(row).returning('*');
  return created;
}

export function getSchedule(db: Knex, id: string): Promise<ScheduleRow | undefined> {
  return db<ScheduleRow>('schedule').where({ id }).first();
}

/** The project's schedules with their creators' slugs. Sort and paginate it. */
export function schedulesQuery(db: Knex, projectId: string): Knex.QueryBuilder {
  return db('schedule').leftJoin('app_user', 'app_user.id', 'schedule.created_by').where('schedule.project_id', projectId).select('schedule.*', 'app_user.slug as created_by_slug');
}

export async function findSchedule(db: Knex, projectId: string, id: string): Promise<ScheduleListRow | undefined> {
  return schedulesQuery(db, projectId).where('schedule.id', id).first();
}

/** Deletes the schedule's row inside `trx` (its Temporal Schedule goes before COMMIT); false when it was already gone. */
export async function deleteSchedule(trx: Knex.Transaction, id: string): Promise<boolean> {
  return (await trx('schedule').where({ id }).delete()) > 0;
}

/** What scheduled runs submitted (jobs, or pipelines), by the runs' idempotency keys. */
export async function submittedByIdempotencyKeys<S extends string>(
  db: Knex,
  table: 'job' | 'pipeline',
  projectId: string,
  keys: string[],
): Promise<Map<string, { id: string; status: S }>> {
  if (!keys.length) return new Map();
  const rows = await db(table).where({ project_id: projectId }).whereIn('idempotency_key', keys).select('id', 'status', 'idempotency_key');
  return new Map(rows.map((r) => [r.idempotency_key, { id: r.id, status: r.status }]));
}
