import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAndPushImage } from '../../devenv/images';
import { startRegistry, type RunningRegistry } from '../../devenv/registry';
import { freePort } from '../../devenv/wait';
import { ImageDigestMismatchError, isImageRefusal, RegistryClient } from '../../net/oci-registry';
import { OutboundGuard } from '../../net/outbound';
import { ImageCache } from '../../runner/images';

const SECRET = 'pulled-through-the-guard-5c1e';
const CREDENTIALS = { username: 'puller', password: 'puller-password-0b9d' };
const BASIC = `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}`;
const sha256 = (body: Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

/** A loopback peer recording every connection made to it (whatever is sent, or not, on it). */
async function listener(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void = (_req, res) => res.end()) {
  const connections: string[] = [];
  const requests: { url: string; authorization?: string }[] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url!, authorization: req.headers.authorization });
    handler(req, res);
  });
  server.on('connection', (socket: Socket) => connections.push(socket.remoteAddress ?? '?'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, connections, requests };
}

const close = (server: Server) => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve)));

/**
 * A public registry gone hostile (or a compromised CDN): it serves what `plan` says, wants basic
 * auth, and sends blob downloads wherever `plan.blobLocation` points.
 */
interface Plan {
  manifests: Map<string, { body: Buffer; mediaType: string }>;
  blobs: Map<string, Buffer>;
  blobLocation?: (digest: string) => string | undefined;
}

describe('pulling an image through the outbound guard', () => {
  let registry: RunningRegistry;
  let digest: string;
  let manifest: { body: Buffer; mediaType: string; json: { config: { digest: string; size: number }; layers: { digest: string; size: number; mediaType: string }[] } };
  const blobs = new Map<string, Buffer>();
  let plan: Plan;
  let hostile: Awaited<ReturnType<typeof listener>>;
  let cdn: Awaited<ReturnType<typeof listener>>;
  let trap: Awaited<ReturnType<typeof listener>>;
  let host: string;
  let cdnHost: string;
  let guard: OutboundGuard;

  beforeAll(async () => {
    // A real image in a real registry; its manifest and blobs are what the hostile registry serves (or twists).
    const dir = mkdtempSync(join(tmpdir(), 'benchline-pull-registry-'));
    registry = await startRegistry(dir, await freePort());
    digest = await buildAndPushImage({ reference: `${registry.address}/src/img:latest`, entrypoint: ['/bin/true'], files: { '/secret.txt': SECRET } });
    const source = new RegistryClient(new OutboundGuard({ allowPrivateNetworks: true }), registry.address, 'src/img');
    const fetched = await source.manifest(digest);
    manifest = { body: fetched.body, mediaType: fetched.mediaType!, json: JSON.parse(fetched.body.toString()) };
    const blobDir = mkdtempSync(join(tmpdir(), 'benchline-pull-blobs-'));
    for (const d of [manifest.json.config, ...manifest.json.layers]) {
      await source.blob(d, join(blobDir, d.digest.slice(7)));
      blobs.set(d.digest, readFileSync(join(blobDir, d.digest.slice(7))));
    }

    hostile = await listener((req, res) => {
      if (req.headers.authorization !== BASIC) return void res.writeHead(401, { 'www-authenticate': 'Basic realm="hostile"' }).end();
      const [, kind, reference] = /^\/v2\/pub\/img\/(manifests|blobs)\/(.+)$/.exec(req.url!) ?? [];
      const served = kind === 'manifests' ? plan.manifests.get(reference) : undefined;
      if (served) return void res.writeHead(200, { 'content-type': served.mediaType }).end(served.body);
      const location = kind === 'blobs' ? plan.blobLocation?.(reference) : undefined;
      if (location) return void res.writeHead(307, { location }).end();
      const blob = kind === 'blobs' ? plan.blobs.get(reference) : undefined;
      if (blob) return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(blob);
      res.writeHead(404).end();
    });
    cdn = await listener((req, res) => {
      const blob = blobs.get(req.url!.slice(1));
      res.writeHead(blob ? 200 : 404).end(blob);
    });
    trap = await listener((_req, res) => res.end('runner host internals'));
    host = `registry.hostile.test:${hostile.port}`;
    cdnHost = `cdn.hostile.test:${cdn.port}`;
    // Production rules, except that the two stand-ins for public hosts (really on loopback) are
    // allowed by name and port: a redirect anywhere else on loopback is what a production runner sees.
    const names: Record<string, string[]> = { 'registry.hostile.test': ['127.0.0.1'], 'cdn.hostile.test': ['127.0.0.1'], localhost: ['127.0.0.1', '::1'] };
    guard = new OutboundGuard({ allowPrivateNetworks: false, ownHosts: [host, cdnHost], insecureRegistries: [host], resolve: async (name) => names[name] ?? [] });
  });
  beforeEach(() => {
    plan = { manifests: new Map([[digest, manifest]]), blobs: new Map(blobs) };
    hostile.requests.length = 0;
    cdn.requests.length = 0;
  });
  afterAll(async () => {
    await registry?.stop();
    await Promise.all([hostile, cdn, trap].filter(Boolean).map((l) => close(l.server)));
  });

  const pull = (reference = digest) => new ImageCache(mkdtempSync(join(tmpdir(), 'benchline-pull-cache-')), guard).ensure({ registry: host, repository: 'pub/img', digest: reference }, CREDENTIALS);

  it('follows a blob redirect to a CDN the guard allows, without sending it the registry credentials', async () => {
    plan.blobLocation = (d) => `http://${cdnHost}/${d}`;
    const image = await pull();
    expect(readFileSync(join(image.rootfs, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(cdn.requests.map((r) => r.url).sort()).toEqual([...blobs.keys()].map((d) => `/${d}`).sort());
    expect(cdn.requests.every((r) => r.authorization === undefined)).toBe(true);
  });

  it.each([
    ['an IPv4 loopback literal', (port: number) => `http://127.0.0.1:${port}/internal`],
    ['localhost', (port: number) => `http://localhost:${port}/internal`],
    ['an IPv6 loopback literal', (port: number) => `http://[::1]:${port}/internal`],
    ['an IPv4-mapped loopback literal', (port: number) => `http://[::ffff:127.0.0.1]:${port}/internal`],
  ])('refuses a blob redirect to %s, without connecting to it', async (_what, location) => {
    plan.blobLocation = () => location(trap.port);
    const err = await pull().catch((e) => e);
    expect(isImageRefusal(err)).toBe(true);
    expect(err).toMatchObject({ failure: 'refused', message: `registry ${host} redirected a download to a destination that is not allowed` });
    expect(hostile.requests.some((r) => r.url.startsWith('/v2/pub/img/blobs/'))).toBe(true);
    expect(trap.connections).toEqual([]);
  });

  it('refuses a redirect chain longer than a CDN needs', async () => {
    plan.blobLocation = (d) => `http://${host}/v2/pub/img/blobs/${d}`;
    const err = await pull().catch((e) => e);
    expect(err).toMatchObject({ failure: 'refused', message: `registry ${host} redirected a download to a destination that is not allowed` });
    // Config and layers download at once: for each, the first request and five followed hops.
    expect(hostile.requests.filter((r) => r.url.includes('/blobs/'))).toHaveLength(6 * (manifest.json.layers.length + 1));
  });

  it('refuses a blob whose content does not match its digest, and one longer than its descriptor', async () => {
    const layer = manifest.json.layers[0].digest;
    const tampered = Buffer.from(blobs.get(layer)!);
    tampered[tampered.length - 1] ^= 0xff;
    plan.blobs.set(layer, tampered);
    const err = await pull().catch((e) => e);
    expect(err).toBeInstanceOf(ImageDigestMismatchError);
    expect(isImageRefusal(err)).toBe(true);
    expect(err.message).toBe(`registry ${host} served content for pub/img@${layer} that does not match its digest`);

    plan.blobs.set(layer, Buffer.concat([blobs.get(layer)!, Buffer.from('trailing')]));
    await expect(pull()).rejects.toMatchObject({ failure: 'too-large' });
  });

  it('refuses an image whose layers add up past the runner’s bound, before downloading any', async () => {
    const huge = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 15 * 1024 ** 3 };
    const layers = ['a', 'b', 'c'].map((x) => ({ ...huge, digest: sha256(Buffer.from(x)) }));
    const body = Buffer.from(JSON.stringify({ ...manifest.json, layers }));
    plan.manifests.set(sha256(body), { body, mediaType: manifest.mediaType });
    const err = await pull(sha256(body)).catch((e) => e);
    expect(isImageRefusal(err)).toBe(true);
    expect(err.message).toBe(`image ${host}/pub/img@${sha256(body)} is larger than this runner accepts (${32 * 1024 ** 3} bytes)`);
    expect(hostile.requests.filter((r) => r.url.includes('/blobs/'))).toEqual([]);
  });

  it('a blob the registry does not serve is a plain pull failure (worth retrying), its status not shown', async () => {
    plan.blobs.clear();
    const err = await pull().catch((e) => e);
    expect(isImageRefusal(err)).toBe(false);
    expect(err.message).toBe(`could not pull ${host}/pub/img@${digest}`);
  });

  it.each([
    ['a Docker manifest list of Docker schema 2 manifests', 'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.docker.distribution.manifest.v2+json'],
    ['an OCI index of OCI manifests', 'application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json'],
  ])('pulls this platform’s image from %s, by the digest the index lists', async (_what, indexType, manifestType) => {
    const docker = manifestType.includes('docker');
    const image = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: manifestType,
        config: { ...manifest.json.config, mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json' },
        layers: manifest.json.layers.map((l) => ({ ...l, mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : l.mediaType })),
      }),
    );
    const other = sha256(Buffer.from('another platform'));
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: indexType,
        manifests: [
          { mediaType: manifestType, digest: other, size: 16, platform: { os: 'linux', architecture: 'riscv64' } },
          { mediaType: manifestType, digest: sha256(image), size: image.length, platform: { os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch } },
        ],
      }),
    );
    plan.manifests.set(sha256(index), { body: index, mediaType: indexType });
    plan.manifests.set(sha256(image), { body: image, mediaType: manifestType });
    const pulled = await pull(sha256(index));
    expect(readFileSync(join(pulled.rootfs, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(pulled.config.entrypoint).toEqual(['/bin/true']);
    expect(hostile.requests.map((r) => r.url)).toContain(`/v2/pub/img/manifests/${sha256(image)}`);
    expect(hostile.requests.map((r) => r.url)).not.toContain(`/v2/pub/img/manifests/${other}`);
  });

  it('refuses an index entry whose manifest is not what the index lists', async () => {
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: manifest.mediaType, digest: sha256(Buffer.from('listed')), size: 6, platform: { os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch } }],
      }),
    );
    plan.manifests.set(sha256(index), { body: index, mediaType: 'application/vnd.oci.image.index.v1+json' });
    plan.manifests.set(sha256(Buffer.from('listed')), manifest);
    await expect(pull(sha256(index))).rejects.toThrow(ImageDigestMismatchError);
  });
});
