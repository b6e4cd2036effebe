/** `npm run migrate`: applies pending migrations to DATABASE_URL. */
import { connect, migrateLatest } from '../db/connection';

async function main() {
  const db = connect(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/benchline');
  try {
    const applied = await migrateLatest(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
