import { Client, Connection } from '@temporalio/client';
import { connect } from '../db/connection';
import { buildApp } from './app';
import { apiConfigFromEnv } from './config';

async function main() {
  const config = apiConfigFromEnv();
  const db = connect(config.databaseUrl);
  const connection = await Connection.connect({ address: config.temporalAddress });
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  const app = await buildApp({ db, temporal, config });
  const shutdown = async () => {
    await app.close();
    await connection.close();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await app.listen({ host: config.host, port: config.port });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
