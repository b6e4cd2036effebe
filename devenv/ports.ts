import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

export interface WantedPort {
  port: number;
  /** What it is for, e.g. "api". */
  name: string;
  /** The environment variable that moves it, if any. */
  env?: string;
}

/** True when nothing stops a server from listening on 127.0.0.1:port right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Socket inodes listening on `port` (any address, IPv4 or IPv6), from a /proc/net/tcp{,6} table. */
export function listeningInodes(table: string, port: number): string[] {
  return table
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    // Fields: sl, local_address (hex addr:hex port), rem_address, st (0A = LISTEN), ..., inode (10th).
    .filter((f) => f.length > 9 && f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port)
    .map((f) => f[9]);
}

function readOr(path: string, read: (p: string) => string): string | undefined {
  try {
    return read(path);
  } catch {
    return undefined; // gone meanwhile, or another user's process
  }
}

/**
 * Who listens on `port`: "pid N (command line)" for each process holding the socket that this user
 * can see, read from /proc (no lsof or ss needed); undefined when none is visible.
 */
export function portHolder(port: number): string | undefined {
  const sockets = new Set(
    ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((t) => listeningInodes(readOr(t, (p) => readFileSync(p, 'utf8')) ?? '', port)).map((inode) => `socket:[${inode}]`),
  );
  if (sockets.size === 0) return undefined;
  const holders: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const fds = readOr(`/proc/${pid}/fd`, (p) => readdirSync(p).join('\n'))?.split('\n') ?? [];
    if (!fds.some((fd) => sockets.has(readOr(`/proc/${pid}/fd/${fd}`, readlinkSync) ?? ''))) continue;
    const command = readOr(`/proc/${pid}/cmdline`, (p) => readFileSync(p, 'utf8'))?.split('\0').filter(Boolean).join(' ');
    holders.push(`pid ${pid} (${command || '?'})`);
  }
  return holders.length ? holders.join(', ') : undefined;
}

/**
 * Refuses to go on when any wanted port is taken, naming the port and its holder: whatever holds it
 * (an orphaned api or Temporal server from an earlier run, say) must never be talked to as ours.
 */
export async function assertPortsFree(wanted: WantedPort[]): Promise<void> {
  const taken: string[] = [];
  for (const { port, name, env } of wanted) {
    if (await canListen(port)) continue;
    const holder = portHolder(port) ?? 'a process this user cannot see (try: ss -ltnp)';
    taken.push(`port ${port} (${name}) is in use by ${holder}; stop it${env ? `, or set ${env} to another port` : ''}`);
  }
  if (taken.length) throw new Error(taken.join('\n'));
}
