import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import knex from 'knex';
import { assertPortsFree } from './ports';
import { freePort, waitFor } from './wait';

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

/** The newest Postgres server binaries Debian installed (bootstrap provides them). */
export function postgresBinDir(): string {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b)) : [];
  if (!versions.length) throw new Error('no Postgres reachable and no Postgres binaries under /usr/lib/postgresql: run scripts/bootstrap.sh');
  return join('/usr/lib/postgresql', versions[versions.length - 1], 'bin');
}

// Postgres refuses to run as root; as root, clusters run as the postgres system user.
const runsAsRoot = process.getuid?.() === 0;
function asPostgres(bin: string, cmd: string, args: string[], stdio: 'inherit' | 'ignore' | 'pipe' = 'inherit') {
  return runsAsRoot ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio }) : spawnSync(join(bin, cmd), args, { stdio });
}

/** initdb into `dir` (made and handed to the postgres user as needed) unless a cluster is there already. */
export function initCluster(dir: string, bin = postgresBinDir()): void {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  spawnSync('mkdir', ['-p', dir]);
  if (runsAsRoot) spawnSync('chown', ['postgres:postgres', dir]);
  // Quiet unless it fails: its progress report is noise to whoever wanted a cluster.
  const result = asPostgres(bin, 'initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'], 'pipe');
  if (result.status !== 0) throw new Error(`initdb failed (exit ${result.status ?? result.signal}): ${result.stderr.toString().trim()}`);
}

/**
 * How to run a cluster's postmaster in the foreground on a loopback port (TCP only), for callers that
 * own the process outright, e.g. to SIGKILL it and start it again on the same data.
 */
export function postmasterCommand(dir: string, port: number): { command: string; args: string[]; uid?: number; gid?: number } {
  const user = runsAsRoot ? { uid: Number(execFileSync('id', ['-u', 'postgres'])), gid: Number(execFileSync('id', ['-g', 'postgres'])) } : {};
  const args = ['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  return { command: join(postgresBinDir(), 'postgres'), args, ...user };
}

async function startEmbedded(dir: string, exclusive: boolean): Promise<(() => Promise<void>) | undefined> {
  const bin = postgresBinDir();
  initCluster(dir, bin);
  // This data directory's own cluster, left running: reuse it, and leave it running.
  if (asPostgres(bin, 'pg_ctl', ['status', '-D', dir], 'ignore').status === 0) {
    await waitFor('embedded postgres', () => reachable('127.0.0.1', EMBEDDED_PORT));
    return undefined;
  }
  if (exclusive) await assertPortsFree([{ port: EMBEDDED_PORT, name: 'embedded Postgres' }]);
  let stop: (() => Promise<void>) | undefined;
  if (!(await reachable('127.0.0.1', EMBEDDED_PORT))) {
    asPostgres(bin, 'pg_ctl', ['-D', dir, '-l', join(dir, 'server.log'), '-o', `-p ${EMBEDDED_PORT} -k /tmp -c listen_addresses=127.0.0.1`, 'start']);
    stop = async () => void asPostgres(bin, 'pg_ctl', ['-D', dir, '-m', 'fast', 'stop']);
  }
  await waitFor('embedded postgres', () => reachable('127.0.0.1', EMBEDDED_PORT));
  return stop;
}

/** A Postgres cluster of one's own, for outage tests: stopped and started at will through pg_ctl. */
export interface OwnedCluster {
  adminUrl: string;
  /** `immediate` is a crash as the clients see it: connections cut, no checkpoint. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  start(): Promise<void>;
}

/** Creates (initdb) and starts a cluster in `dir` (an empty or missing directory) on a free loopback port. */
export async function ownedCluster(dir: string): Promise<OwnedCluster> {
  const bin = postgresBinDir();
  initCluster(dir, bin);
  const port = await freePort();
  const pgCtl = (...args: string[]) => {
    const argv = [join(bin, 'pg_ctl'), '-D', dir, '-w', ...args];
    return promisify(execFile)(runsAsRoot ? 'runuser' : argv[0], runsAsRoot ? ['-u', 'postgres', '--', ...argv] : argv.slice(1));
  };
  const cluster: OwnedCluster = {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async (mode = 'immediate') => void (await pgCtl('-m', mode, 'stop')),
    start: async () => {
      await pgCtl('-l', join(dir, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start');
      await waitFor(`postgres on port ${port}`, () => reachable('127.0.0.1', port));
    },
  };
  await cluster.start();
  return cluster;
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
