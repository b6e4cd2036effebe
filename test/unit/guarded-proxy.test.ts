import http from 'node:http';
import { startGuardedProxy, type GuardedProxy } from '../../net/guarded-proxy';
import { OutboundGuard } from '../../net/outbound';

/** Names that exist only for the guard; `peer.test` is the loopback peer below, `metadata.test` the cloud metadata address. */
const names: Record<string, string[]> = { 'peer.test': ['127.0.0.1'], 'metadata.test': ['169.254.169.254'] };

describe('the guarded proxy', () => {
  let peer: http.Server;
  let peerPort: number;
  let proxy: GuardedProxy;
  let proxyUrl: URL;

  beforeAll(async () => {
    peer = http.createServer((req, res) => res.end(`peer saw ${req.headers.host} ${req.url}`));
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    peerPort = (peer.address() as { port: number }).port;
    proxy = await startGuardedProxy(new OutboundGuard({ allowPrivateNetworks: true, resolve: async (name) => names[name] ?? [] }));
    proxyUrl = new URL(proxy.env.HTTPS_PROXY);
  });
  afterAll(async () => {
    await proxy.close();
    peer.close();
  });

  /** A CONNECT through the proxy; resolves with its status line's code. */
  function connect(target: string): Promise<{ status: number; socket: import('node:net').Socket }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: proxyUrl.hostname, port: proxyUrl.port, method: 'CONNECT', path: target });
      req.on('connect', (res, socket) => resolve({ status: res.statusCode!, socket }));
      req.on('error', reject);
      req.end();
    });
  }

  /** A plain-HTTP request in absolute form through the proxy. */
  function forward(url: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: proxyUrl.hostname, port: proxyUrl.port, path: url, headers: { host: new URL(url).host } }, (res) => {
        let body = '';
        res.on('data', (b) => (body += b));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('tunnels to a permitted host at the address the guard checked', async () => {
    const { status, socket } = await connect(`peer.test:${peerPort}`);
    expect(status).toBe(200);
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (b) => (text += b));
      socket.on('end', () => resolve(text));
      socket.write(`GET /v2/ HTTP/1.1\r\nHost: peer.test\r\nConnection: close\r\n\r\n`);
    });
    expect(answer).toContain('peer saw peer.test /v2/');
  });

  it('refuses a CONNECT to a metadata address', async () => {
    const { status, socket } = await connect('metadata.test:443');
    socket.destroy();
    expect(status).toBe(403);
  });

  it('forwards plain HTTP to a permitted host, and refuses a metadata address', async () => {
    await expect(forward(`http://peer.test:${peerPort}/v2/x`)).resolves.toEqual({ status: 200, body: `peer saw peer.test:${peerPort} /v2/x` });
    await expect(forward('http://metadata.test/latest/meta-data')).resolves.toMatchObject({ status: 403 });
    expect(proxy.hosts).toEqual([`peer.test:${peerPort}`, 'metadata.test:443', `peer.test:${peerPort}`, 'metadata.test:80']);
  });
});
