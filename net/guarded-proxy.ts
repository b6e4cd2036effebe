/**
 * A forward proxy on loopback that puts a spawned tool's connections through the outbound guard.
 * skopeo follows whatever the registry says (token services, blob redirects to other hosts): handed
 * this proxy as HTTPS_PROXY/HTTP_PROXY, every host it contacts is resolved once, checked and pinned
 * here, and refused (403) when it may not be reached.
 *
 * Limit: Go's proxy rules never proxy `localhost` and loopback address literals; the caller checks
 * the registry itself before spawning, but a redirect to such a literal reaches the host directly.
 */
import http from 'node:http';
import net from 'node:net';
import { OutboundError, pinnedLookup, type OutboundGuard } from './outbound';

/** Headers meant for the proxy hop, not the origin. */
const HOP_BY_HOP = ['proxy-connection', 'proxy-authorization', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade'];

export interface GuardedProxy {
  /** For the tool's environment: HTTPS_PROXY, HTTP_PROXY (both cases) and an empty NO_PROXY. */
  env: Record<string, string>;
  /** Every host the tool asked for, in order (refused ones included). */
  hosts: string[];
  close(): Promise<void>;
}

export async function startGuardedProxy(guard: OutboundGuard): Promise<GuardedProxy> {
  const hosts: string[] = [];
  const sockets = new Set<net.Socket>();
  const check = (host: string, port: number) => {
    hosts.push(`${host}:${port}`);
    return guard.checkTarget(host, port);
  };

  const server = http.createServer((req, res) => {
    // A plain-HTTP request in absolute form (http://host:port/path).
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return void res.writeHead(400).end();
    }
    if (url.protocol !== 'http:') return void res.writeHead(400).end();
    check(url.hostname, url.port ? Number(url.port) : 80).then(
      (target) => {
        const headers = { ...req.headers };
        for (const name of HOP_BY_HOP) delete headers[name];
        const upstream = http.request(
          { host: target.host, port: target.port, path: `${url.pathname}${url.search}`, method: req.method, headers, lookup: pinnedLookup(target), agent: false },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
        req.pipe(upstream);
      },
      (err) => res.writeHead(err instanceof OutboundError && err.failure === 'refused' ? 403 : 502).end(),
    );
  });

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const [host, port] = splitHostPort(req.url ?? '');
    check(host, port).then(
      (target) => {
        const upstream = net.connect({ host: target.address, port: target.port });
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        upstream.on('error', () => client.destroy());
        upstream.on('connect', () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length) upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
      },
      (err) => client.end(`HTTP/1.1 ${err instanceof OutboundError && err.failure === 'refused' ? '403 Forbidden' : '502 Bad Gateway'}\r\n\r\n`),
    );
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    env: { HTTPS_PROXY: proxy, https_proxy: proxy, HTTP_PROXY: proxy, http_proxy: proxy, NO_PROXY: '', no_proxy: '' },
    hosts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `host:port` or `[v6]:port` from a CONNECT target. */
function splitHostPort(target: string): [string, number] {
  const at = target.lastIndexOf(':');
  return [target.slice(0, at).replace(/^\[(.*)\]$/, '$1'), Number(target.slice(at + 1)) || 443];
}
