import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { bearerChallenge, ImageDigestMismatchError, ImageNotFoundError, isImageRefusal, resolveDigest } from '../../net/oci-registry';
import { OutboundError, OutboundGuard } from '../../net/outbound';

const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] }));
const MANIFEST_DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
/** The test registries are on loopback: a development guard. */
const dev = new OutboundGuard({ allowPrivateNetworks: true });

/**
 * A registry that, like Docker Hub and GHCR, wants an anonymous bearer token for public images:
 * a real HTTP peer on loopback speaking that part of the distribution spec.
 */
function tokenRegistry(): Promise<{ server: Server; host: string; tokenRequests: URL[] }> {
  const tokenRequests: URL[] = [];
  const server = createServer((req, res) => {
    const host = req.headers.host!;
    const url = new URL(req.url!, `http://${host}`);
    if (url.pathname === '/token') {
      tokenRequests.push(url);
      const allowed = url.searchParams.get('scope') === 'repository:team/bench:pull' && url.searchParams.get('service') === 'test-registry';
      res.writeHead(allowed ? 200 : 403, { 'content-type': 'application/json' }).end(JSON.stringify(allowed ? { token: 'anon-token' } : {}));
      return;
    }
    if (req.headers.authorization !== 'Bearer anon-token') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="test-registry",scope="repository:team/bench:pull"` }).end();
      return;
    }
    const found = url.pathname === '/v2/team/bench/manifests/v1';
    res.writeHead(found ? 200 : 404, found ? { 'docker-content-digest': MANIFEST_DIGEST } : {}).end(found ? MANIFEST : undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, host: `127.0.0.1:${(server.address() as { port: number }).port}`, tokenRequests })));
}

describe('tag resolution against a registry that wants a token', () => {
  let registry: Awaited<ReturnType<typeof tokenRegistry>>;
  beforeAll(async () => {
    registry = await tokenRegistry();
  });
  afterAll(() => new Promise((r) => registry.server.close(r)));

  it('fetches an anonymous pull token with the challenge’s service and scope, then resolves the digest', async () => {
    await expect(resolveDigest(dev, { registry: registry.host, repository: 'team/bench', tag: 'v1' })).resolves.toBe(MANIFEST_DIGEST);
    expect(registry.tokenRequests.at(-1)!.searchParams.get('service')).toBe('test-registry');
  });

  it('a missing tag is still "not found" after authenticating; a refused token is a clear error', async () => {
    await expect(resolveDigest(dev, { registry: registry.host, repository: 'team/bench', tag: 'nope' })).rejects.toThrow(`image ${registry.host}/team/bench:nope not found`);
    await expect(resolveDigest(dev, { registry: registry.host, repository: 'other/repo', tag: 'v1' })).rejects.toThrow(ImageNotFoundError);
  });
});

/** A registry that lies: it names `named` (if any) as the digest of whatever it serves, and answers every request with `status`. */
function lyingRegistry(named: string | undefined, status = 200): Promise<{ server: Server; host: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    res.writeHead(status, named ? { 'docker-content-digest': named } : {}).end(status === 200 ? Buffer.from('{"schemaVersion":2,"layers":[]}') : 'internal secret page');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, host: `127.0.0.1:${(server.address() as { port: number }).port}`, requests })));
}

describe('what a registry serves must be what it names', () => {
  let registry: Awaited<ReturnType<typeof lyingRegistry>>;
  let silent: Awaited<ReturnType<typeof lyingRegistry>>;
  beforeAll(async () => {
    registry = await lyingRegistry(MANIFEST_DIGEST);
    silent = await lyingRegistry(undefined);
  });
  afterAll(async () => {
    await new Promise((r) => registry.server.close(r));
    await new Promise((r) => silent.server.close(r));
  });

  it('a tag whose manifest does not hash to the Docker-Content-Digest is refused, finally', async () => {
    const err = await resolveDigest(dev, { registry: registry.host, repository: 'b/img', tag: 'latest' }).catch((e) => e);
    expect(err).toBeInstanceOf(ImageDigestMismatchError);
    expect(isImageRefusal(err)).toBe(true);
  });

  it('a reference by digest is refused when the content served has another digest', async () => {
    // This one names no digest at all: the content itself is checked against the one asked for.
    await expect(resolveDigest(dev, { registry: silent.host, repository: 'b/img', digest: MANIFEST_DIGEST })).rejects.toThrow(ImageDigestMismatchError);
  });
});

describe('registry lookups outside development', () => {
  let registry: Awaited<ReturnType<typeof lyingRegistry>>;
  beforeAll(async () => {
    registry = await lyingRegistry(MANIFEST_DIGEST, 418);
  });
  afterAll(() => new Promise((r) => registry.server.close(r)));

  it('refuse a registry on a private address before connecting, without echoing what is there', async () => {
    const production = new OutboundGuard({ allowPrivateNetworks: false });
    const err = await resolveDigest(production, { registry: registry.host, repository: 'team/bench', tag: 'v1' }).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect(err.failure).toBe('refused');
    expect(isImageRefusal(err)).toBe(true);
    expect(err.message).toBe(`${registry.host.split(':')[0]} is not an allowed destination (it resolves to a private or reserved address)`);
    expect(registry.requests).toEqual([]);
  });

  it('a registry that answers with an error is reported without its status or body', async () => {
    const err = await resolveDigest(dev, { registry: registry.host, repository: 'team/bench', tag: 'v1' }).catch((e) => e);
    expect(err.message).toBe(`registry ${registry.host} could not serve ${registry.host}/team/bench:v1`);
    expect(err.message).not.toMatch(/418|secret/);
    expect(registry.requests).toHaveLength(1);
  });
});

/**
 * A hostile registry: it stands in for one on the internet that answers every request with a 401
 * whose Bearer challenge names `realm`, pointing the token request wherever it likes. It listens on
 * loopback only because tests have nowhere else to listen; the guard below reaches it as the
 * operator's own registry and nothing else private.
 */
function challengingRegistry(): Promise<{ server: Server; host: string; requests: string[]; realm: { value: string } }> {
  const requests: string[] = [];
  const realm = { value: '' };
  const server = createServer((req, res) => {
    requests.push(req.url!);
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm.value}",service="hostile"` }).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, host: `127.0.0.1:${(server.address() as { port: number }).port}`, requests, realm })));
}

describe('the token service a registry names goes through the guard', () => {
  let registry: Awaited<ReturnType<typeof challengingRegistry>>;
  beforeAll(async () => {
    registry = await challengingRegistry();
  });
  afterAll(() => new Promise((r) => registry.server.close(r)));

  it.each([
    // The last column: the names the guard looked up. Plain HTTP is refused before any lookup.
    ['a name resolving to the metadata address', 'https://token.metadata.test/token', 'token.metadata.test', ['token.metadata.test']],
    ['a private address', 'https://10.0.0.1/token', '10.0.0.1', []],
    ['a private address over plain HTTP', 'http://10.0.0.1/token', '10.0.0.1', []],
    ['a public host over plain HTTP', 'http://public.example/token', 'public.example', []],
    ['no URL at all', 'not a url', 'not a url', []],
  ])('%s is refused, finally, without naming it', async (_name, realm, realmHost, lookedUp) => {
    registry.realm.value = realm;
    const lookups: string[] = [];
    // Not a development guard: private networks are refused except the operator's own registry.
    const production = new OutboundGuard({
      allowPrivateNetworks: false,
      ownHosts: [registry.host],
      resolve: async (name) => (lookups.push(name), ({ 'token.metadata.test': ['169.254.169.254'], 'public.example': ['93.184.216.34'] } as Record<string, string[]>)[name] ?? []),
    });
    const before = registry.requests.length;
    const err = await resolveDigest(production, { registry: registry.host, repository: 'team/bench', tag: 'v1' }).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect(err).toMatchObject({ failure: 'refused', message: `registry ${registry.host} named a token service that is not allowed` });
    // A refusal: the job fails with it instead of retrying (activities/resolve.ts, runner/images.ts).
    expect(isImageRefusal(err)).toBe(true);
    expect(err.message).not.toContain(realmHost);
    // The realm is for the logs.
    expect(err.detail).toContain(realmHost);
    // One manifest request, no token request anywhere: the refusal came before any connection to the realm.
    expect(registry.requests.slice(before)).toEqual(['/v2/team/bench/manifests/v1']);
    // A name is resolved by the guard (and refused for its address), never by a connection of its own.
    expect(lookups).toEqual(lookedUp);
  });
});

describe('bearerChallenge', () => {
  it.each([
    ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"', { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/ubuntu:pull' }],
    ['Basic realm="Registry"', undefined],
    ['Bearer service="x"', undefined],
    [null, undefined],
  ])('%s', (header, expected) => {
    expect(bearerChallenge(header)).toEqual(expected);
  });
});
