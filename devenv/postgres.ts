import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import knex from 'knex';
import { assertPortsFree } from './ports';
import { waitFor } from './wait';

const EMBEDDED_PORT = 5433;

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(5000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.connect(port, host);
  });
}

export interface PostgresServer {
  adminUrl: string;
  kind: 'env' | 'local' | 'embedded';
  /** Stops the embedded cluster, where this call started it. */
  stop?: () => Promise<void>;
}

/**
 * A Postgres server to create databases on: DATABASE_URL's server if set, else the local one on
 * 127.0.0.1:5432, else an embedded cluster under `dataDir` (Debian's binaries, started on 5433).
 * Returns an admin URL whose path is the `postgres` database. With `exclusive`, port 5433 answering
 * while the cluster under `dataDir` is not running is refused (naming the holder) instead of used.
 */
export async function postgresServer(dataDir: string, options: { exclusive?: boolean } = {}): Promise<PostgresServer> {
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = '/postgres';
    return { adminUrl: url.toString(), kind: 'env' };
  }
  if (await reachable('127.0.0.1', 5432)) return { adminUrl: 'postgres://postgres@127.0.0.1:5432/postgres', kind: 'local' };
  const stop = await startEmbedded(join(dataDir, 'postgres'), options.exclusive ?? false);
  return { adminUrl: `postgres://postgres@127.0.0.1:${EMBEDDED_PORT}/postgres`, kind: 'embedded', stop };
}

async function startEmbedded(dir: string, exclusive: boolean): Promise<(() => Promise<void>) | undefined> {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort() : [];
  if (!versions.length) throw new Error('no Postgres reachable and no Postgres binaries installed: run scripts/bootstrap.sh');
  const bin = join('/usr/lib/postgresql', versions[versions.length - 1], 'bin');
  // Postgres refuses to run as root; the embedded cluster runs as the postgres system user.
  const asPostgres = (cmd: string, args: string[], stdio: 'inherit' | 'ignore' = 'inherit') =>
    process.getuid?.() === 0 ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio }) : spawnSync(join(bin, cmd), args, { stdio });
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    spawnSync('mkdir', ['-p', dir]);
    if (process.getuid?.() === 0) spawnSync('chown', ['postgres:postgres', dir]);
    asPostgres('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  }
  // This data directory's own cluster, left running: reuse it, and leave it running.
  if (asPostgres('pg_ctl', ['status', '-D', dir], 'ignore').status === 0) {
    await waitFor('embedded postgres', () => reachable('127.0.0.1', EMBEDDED_PORT));
    return undefined;
  }
  if (exclusive) await assertPortsFree([{ port: EMBEDDED_PORT, name: 'embedded Postgres' }]);
  let stop: (() => Promise<void>) | undefined;
  if (!(await reachable('127.0.0.1', EMBEDDED_PORT))) {
    asPostgres('pg_ctl', ['-D', dir, '-l', join(dir, 'server.log'), '-o', `-p ${EMBEDDED_PORT} -k /tmp -c listen_addresses=127.0.0.1`, 'start']);
    stop = async () => void asPostgres('pg_ctl', ['-D', dir, '-m', 'fast', 'stop']);
  }
  await waitFor('embedded postgres', () => reachable('127.0.0.1', EMBEDDED_PORT));
  return stop;
}

/** Creates `name` on the server (if missing) and returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    const exists = await admin.raw('select 1 from pg_database where datname = ?', [name]);
    if (exists.rows.length === 0) await admin.raw('create database ??', [name]);
  } finally {
    await admin.destroy();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('drop database if exists ?? with (force)', [name]);
  } finally {
    await admin.destroy();
  }
}
