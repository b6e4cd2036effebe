import type { Knex } from 'knex';

/**
 * Job change cursors for live views (GET /v0/projects/{project}/job-changes). Every insert and update
 * of a job row stamps it with the writing transaction's id (`change_xid`, set by a trigger so no
 * writer can forget it). A cursor is the snapshot a reader read under: the jobs changed since are
 * exactly those whose stamp that snapshot could not see (pg_visible_in_snapshot), committed late or
 * not, and no job is sent twice for one write. A sequence or timestamp would not do: their values
 * are taken before commit, so a row committed late with a smaller value would slip behind a cursor.
 *
 * The partial index serves queue positions: the waiting jobs of a spec in dispatch order.
 */
export async function up(knex: Knex): Promise<void> {
  // A volatile default rewrites the table once; every existing row gets this migration's id.
  await knex.raw('ALTER TABLE job ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id()');
  await knex.raw(`
    CREATE FUNCTION job_change_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.change_xid := pg_current_xact_id();
      RETURN NEW;
    END $$`);
  await knex.raw('CREATE TRIGGER job_change_stamp BEFORE INSERT OR UPDATE ON job FOR EACH ROW EXECUTE FUNCTION job_change_stamp()');
  await knex.raw('CREATE INDEX job_project_change_idx ON job (project_id, change_xid)');
  await knex.raw("CREATE INDEX job_waiting_idx ON job (spec_id, priority, created_at) WHERE status = 'pending'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX job_waiting_idx');
  await knex.raw('DROP TRIGGER job_change_stamp ON job');
  await knex.raw('DROP FUNCTION job_change_stamp()');
  await knex.raw('ALTER TABLE job DROP COLUMN change_xid'); // drops job_project_change_idx with it
}
