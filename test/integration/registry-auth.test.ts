import { createServer, type Server } from 'node:http';
import { bearerChallenge, ImageNotFoundError, resolveDigest } from '../../activities/oci-registry';

/**
 * A registry that, like Docker Hub and GHCR, wants an anonymous bearer token for public images:
 * a real HTTP peer on loopback speaking that part of the distribution spec.
 */
function tokenRegistry(): Promise<{ server: Server; host: string; tokenRequests: URL[] }> {
  const tokenRequests: URL[] = [];
  const DIGEST = `sha256:${'ab'.repeat(32)}`;
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
    res.writeHead(found ? 200 : 404, found ? { 'docker-content-digest': DIGEST } : {}).end();
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
    await expect(resolveDigest({ registry: registry.host, repository: 'team/bench', tag: 'v1' })).resolves.toBe(`sha256:${'ab'.repeat(32)}`);
    expect(registry.tokenRequests.at(-1)!.searchParams.get('service')).toBe('test-registry');
  });

  it('a missing tag is still "not found" after authenticating; a refused token is a clear error', async () => {
    await expect(resolveDigest({ registry: registry.host, repository: 'team/bench', tag: 'nope' })).rejects.toThrow(`image ${registry.host}/team/bench:nope not found`);
    await expect(resolveDigest({ registry: registry.host, repository: 'other/repo', tag: 'v1' })).rejects.toThrow(ImageNotFoundError);
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
