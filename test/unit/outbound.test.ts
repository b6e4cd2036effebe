import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { OutboundError, OutboundGuard, outboundPolicyFromEnv, refusalReason } from '../../net/outbound';

const production = { allowPrivateNetworks: false };
const development = { allowPrivateNetworks: true };

/** A loopback HTTP peer; `requests` records what reached it (Host header and path). */
async function peer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.headers.host} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, requests };
}

/** A resolver for names that exist only in the test, counting lookups; no DNS is asked. */
function fakeResolver(names: Record<string, string[]>) {
  const lookups: string[] = [];
  const resolve = async (host: string) => {
    lookups.push(host);
    if (!names[host]) throw new Error(`ENOTFOUND ${host}`);
    return names[host];
  };
  return { resolve, lookups };
}

describe('address classes', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['169.254.1.1', 'linkLocal'],
    ['169.254.169.254', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['::7f00:1', 'reserved'],
    ['64:ff9b::a9fe:a9fe', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:100.64.0.1', 'carrierGradeNat'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
  ])('%s is refused (%s)', (address, reason) => {
    expect(refusalReason(address, production)).toBe(reason);
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s (public) is allowed', (address) => {
    expect(refusalReason(address, production)).toBeUndefined();
  });

  it('development allows loopback and private ranges, never metadata or link-local', () => {
    for (const address of ['127.0.0.1', '::1', '10.0.0.1', '::ffff:192.168.0.1', 'fd12::1']) expect(refusalReason(address, development)).toBeUndefined();
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254', '169.254.1.1', '0.0.0.0']) expect(refusalReason(address, development)).toBeDefined();
  });
});

describe('plain-HTTP registries', () => {
  it('are loopback ones, and others only when BENCHLINE_INSECURE_REGISTRIES lists them', () => {
    const unlisted = new OutboundGuard(outboundPolicyFromEnv({}));
    expect(unlisted.isInsecureRegistry('127.0.0.1:5000')).toBe(true);
    expect(unlisted.isInsecureRegistry('localhost')).toBe(true);
    expect(unlisted.isInsecureRegistry('ghcr.io')).toBe(false);
    expect(unlisted.isInsecureRegistry('reg.lan:5000')).toBe(false);
    const listed = new OutboundGuard(outboundPolicyFromEnv({ BENCHLINE_INSECURE_REGISTRIES: 'a, reg.lan:5000' }));
    expect(listed.isInsecureRegistry('reg.lan:5000')).toBe(true);
    expect(listed.isInsecureRegistry('reg.lan')).toBe(false);
  });
});

describe('checkTarget', () => {
  it('refuses a name that resolves to a private address, and one with any private address among its answers', async () => {
    const { resolve } = fakeResolver({ 'internal.example': ['10.0.0.5'], 'mixed.example': ['93.184.216.34', '169.254.169.254'] });
    const guard = new OutboundGuard({ ...production, resolve });
    for (const host of ['internal.example', 'mixed.example']) {
      const err = await guard.checkTarget(host, 443).catch((e) => e);
      expect(err).toBeInstanceOf(OutboundError);
      expect(err.failure).toBe('refused');
      // Names what the user gave, not what it resolved to.
      expect(err.message).toBe(`${host} is not an allowed destination (it resolves to a private or reserved address)`);
    }
  });

  it('refuses localhost through the system resolver, and allows it in development', async () => {
    await expect(new OutboundGuard(production).checkTarget('localhost', 80)).rejects.toMatchObject({ failure: 'refused' });
    await expect(new OutboundGuard(development).checkTarget('localhost', 80)).resolves.toMatchObject({ host: 'localhost', port: 80 });
  });

  it('refuses address literals, bracketed IPv6 and IPv4-mapped included', async () => {
    const guard = new OutboundGuard(production);
    for (const host of ['127.0.0.1', '[::1]', '[::ffff:127.0.0.1]', '169.254.169.254', '[fd00:ec2::254]', '100.100.100.100']) {
      await expect(guard.checkTarget(host, 80)).rejects.toMatchObject({ failure: 'refused' });
    }
  });

  it('accepts a public address and returns the address to pin to (no connection made)', async () => {
    const { resolve, lookups } = fakeResolver({ 'public.example': ['93.184.216.34'] });
    await expect(new OutboundGuard({ ...production, resolve }).checkTarget('public.example', 443)).resolves.toEqual({
      host: 'public.example',
      port: 443,
      address: '93.184.216.34',
      family: 4,
      all: [{ address: '93.184.216.34', family: 4 }],
    });
    expect(lookups).toEqual(['public.example']);
  });

  it('allows the server’s own registry on a private address, and only it', async () => {
    const { resolve } = fakeResolver({ registry: ['172.18.0.4'], other: ['172.18.0.5'] });
    const guard = new OutboundGuard({ ...production, ownHosts: ['registry:5000'], resolve });
    await expect(guard.checkTarget('registry', 5000)).resolves.toMatchObject({ address: '172.18.0.4' });
    await expect(guard.checkTarget('registry', 5001)).rejects.toMatchObject({ failure: 'refused' });
    await expect(guard.checkTarget('other', 5000)).rejects.toMatchObject({ failure: 'refused' });
  });
});

describe('fetch', () => {
  it.each(['file:///etc/passwd', 'ftp://example.com/x', 'gopher://127.0.0.1:70/', 'data:text/plain,hi'])('refuses %s', async (url) => {
    await expect(new OutboundGuard(development).fetch(url)).rejects.toMatchObject({ failure: 'refused' });
  });

  it('connects to the address it checked, resolving the name once', async () => {
    const target = await peer((_req, res) => res.end('hello'));
    try {
      // The name exists only in the injected resolver: the connection can only have used the checked address.
      const { resolve, lookups } = fakeResolver({ 'pinned.example': ['127.0.0.1'] });
      const response = await new OutboundGuard({ ...development, resolve }).fetch(`http://pinned.example:${target.port}/v2/`);
      expect(response.status).toBe(200);
      expect(response.body.toString()).toBe('hello');
      expect(target.requests).toEqual([`pinned.example:${target.port} /v2/`]);
      expect(lookups).toEqual(['pinned.example']);
    } finally {
      target.server.close();
    }
  });

  it('refuses loopback outside development without connecting', async () => {
    const target = await peer((_req, res) => res.end('secret'));
    try {
      const err = await new OutboundGuard(production).fetch(`http://127.0.0.1:${target.port}/`).catch((e) => e);
      expect(err).toMatchObject({ failure: 'refused' });
      expect(err.message).not.toContain('secret');
      expect(target.requests).toEqual([]);
    } finally {
      target.server.close();
    }
  });

  it('does not follow redirects', async () => {
    const elsewhere = await peer((_req, res) => res.end('followed'));
    const redirecting = await peer((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/` }).end());
    try {
      const err = await new OutboundGuard(development).fetch(`http://127.0.0.1:${redirecting.port}/`).catch((e) => e);
      expect(err).toMatchObject({ failure: 'redirect' });
      expect(err.message).not.toContain('302');
      expect(elsewhere.requests).toEqual([]);
    } finally {
      elsewhere.server.close();
      redirecting.server.close();
    }
  });

  it('hands a redirect to a caller that asked to follow hops itself, without following it', async () => {
    const elsewhere = await peer((_req, res) => res.end('followed'));
    const redirecting = await peer((_req, res) => res.writeHead(307, { location: `http://127.0.0.1:${elsewhere.port}/blob` }).end('moved'));
    try {
      const response = await new OutboundGuard(development).stream(`http://127.0.0.1:${redirecting.port}/`, { redirect: 'manual' });
      expect(response.status).toBe(307);
      expect(response.header('Location')).toBe(`http://127.0.0.1:${elsewhere.port}/blob`);
      expect(response.body.destroyed).toBe(true);
      expect(elsewhere.requests).toEqual([]);
    } finally {
      elsewhere.server.close();
      redirecting.server.close();
    }
  });

  it('streams a body up to its size bound, and errors the stream past it', async () => {
    const target = await peer((req, res) => res.end(Buffer.alloc(req.url === '/big' ? 64 * 1024 : 1024, 'x')));
    try {
      const guard = new OutboundGuard(development);
      const read = async (path: string) => {
        let size = 0;
        for await (const chunk of (await guard.stream(`http://127.0.0.1:${target.port}${path}`, { maxBytes: 1024 })).body) size += (chunk as Buffer).length;
        return size;
      };
      await expect(read('/small')).resolves.toBe(1024);
      await expect(read('/big')).rejects.toMatchObject({ failure: 'too-large' });
    } finally {
      target.server.close();
    }
  });

  it('cuts off a response past its size bound', async () => {
    const target = await peer((_req, res) => res.end(Buffer.alloc(64 * 1024, 'x')));
    try {
      await expect(new OutboundGuard(development).fetch(`http://127.0.0.1:${target.port}/`, { maxBytes: 1024 })).rejects.toMatchObject({ failure: 'too-large' });
    } finally {
      target.server.close();
    }
  });

  it('gives up on a name lookup that never answers within the request deadline, naming only the host', async () => {
    const lookups: string[] = [];
    // A resolver that hangs (an unreachable DNS server, a getaddrinfo stuck on its resolv.conf retries).
    const resolve = (host: string) => (lookups.push(host), new Promise<string[]>(() => undefined));
    const err = await new OutboundGuard({ ...production, resolve }).fetch('https://stuck.example/v2/', { timeoutMs: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect(err).toMatchObject({ failure: 'unreachable', message: 'stuck.example could not be resolved in time' });
    expect(lookups).toEqual(['stuck.example']);
  });

  it('counts the lookup against the deadline: the request gets only what the lookup left', async () => {
    const target = await peer(() => undefined);
    try {
      // A slow resolver (most of the budget), then a peer that never answers: the exchange must end
      // at the one deadline, not at the lookup's time plus a fresh one.
      const resolve = () => new Promise<string[]>((done) => setTimeout(() => done(['127.0.0.1']), 900));
      const started = Date.now();
      const err = await new OutboundGuard({ ...development, resolve }).fetch(`http://slow.example:${target.port}/`, { timeoutMs: 1000 }).catch((e) => e);
      expect(err).toMatchObject({ failure: 'unreachable', message: `slow.example:${target.port} could not be reached` });
      // 1000 ms and scheduling slack; a deadline restarted after the lookup ends at 1900 ms or later.
      expect(Date.now() - started).toBeLessThan(1700);
      // The connection's own limit, whatever the machine's load: what the 900 ms lookup left of 1000.
      expect(Number(/timed out after (\d+) ms/.exec(err.detail)?.[1])).toBeLessThanOrEqual(100);
    } finally {
      target.server.closeAllConnections();
      target.server.close();
    }
  });

  it('gives up on a peer that never answers, with a message that names only the host', async () => {
    const target = await peer(() => undefined);
    try {
      const err = await new OutboundGuard(development).fetch(`http://127.0.0.1:${target.port}/`, { timeoutMs: 300 }).catch((e) => e);
      expect(err).toMatchObject({ failure: 'unreachable', message: `127.0.0.1:${target.port} could not be reached` });
    } finally {
      target.server.closeAllConnections();
      target.server.close();
    }
  });
});
