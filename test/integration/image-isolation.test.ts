import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAndPushImage } from '../../devenv/images';
import { startRegistry, type RunningRegistry } from '../../devenv/registry';
import { freePort } from '../../devenv/wait';
import { getOutputs } from '../../db/outputs';
import { fetchManifest, ImageNotFoundError } from '../../net/oci-registry';
import { OutboundGuard } from '../../net/outbound';
import { ImageCache, imageKey } from '../../runner/images';
import type { JobView } from '../../common/schemas';
import { Stack, type Tenant } from '../harness/stack';

const SECRET = 'tenant-a-private-bytes-7d31';

/**
 * Tenant B's own registry, run by B: it serves tenant A's manifest (whose bytes B learned, e.g.
 * from a public project) under any name of B's, but cannot serve A's layers. `requests` is what
 * reached it.
 */
function impostorRegistry(manifest: Buffer, digest: string, mediaType: string, blobRedirect?: string): Promise<{ server: Server; address: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    if (/^\/v2\/b\/img\/manifests\//.test(req.url!)) {
      return void res.writeHead(200, { 'content-type': mediaType, 'docker-content-digest': digest, 'content-length': manifest.length }).end(req.method === 'HEAD' ? undefined : manifest);
    }
    if (blobRedirect) return void res.writeHead(307, { location: blobRedirect }).end();
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, address: `127.0.0.1:${(server.address() as { port: number }).port}`, requests })));
}

describe('images never cross tenants', () => {
  let stack: Stack;
  let registry: RunningRegistry;
  let impostor: Awaited<ReturnType<typeof impostorRegistry>>;
  let tenantA: Tenant;
  let tenantB: Tenant;
  let digestA: string;
  const imageA = () => `${registry.address}/a/img:latest`;
  const credentialsA = { username: 'tenant-a', password: 'a-password-91c2' };
  const dev = new OutboundGuard({ allowPrivateNetworks: true });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'benchline-isolation-registry-'));
    writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', credentialsA.username, credentialsA.password]));
    registry = await startRegistry(dir, await freePort(), { htpasswd: join(dir, 'htpasswd') });
    stack = await Stack.start();
    await stack.startRunner();
    tenantA = await stack.tenant('tenant-a', { plan: 'team' });
    tenantB = await stack.tenant('tenant-b', { plan: 'team' });
    digestA = await buildAndPushImage({
      reference: imageA(),
      entrypoint: ['/bin/echo', '{"a": {"latency": {"value": 1}}}'],
      files: { '/secret.txt': SECRET },
      credentials: credentialsA,
    });
    const manifest = await fetchManifest(dev, { registry: registry.address, repository: 'a/img', digest: digestA }, credentialsA);
    impostor = await impostorRegistry(manifest.body, digestA, manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json');

    // Tenant A runs first, so the runner holds A's image unpacked in its cache.
    const accepted = await stack.submitAs(tenantA, { image: imageA(), image_credentials: credentialsA });
    expect(accepted.status).toBe(202);
    expect(await stack.waitForJob(accepted.body.job)).toMatchObject({ status: 'processed' });
  });
  afterAll(async () => {
    await stack?.stop();
    await registry?.stop();
    await new Promise((r) => impostor?.server.close(r));
  });

  /** B's job, asking for A's secret file; returns the finished job and everything it uploaded. */
  async function submitB(image: string, extra: Record<string, unknown> = {}) {
    const accepted = await stack.submitAs(tenantB, { image, entrypoint: ['/bin/cat', '/secret.txt'], file_paths: ['/secret.txt'], ...extra });
    expect(accepted.status).toBe(202);
    await stack.waitForJob(accepted.body.job);
    // As B sees it (others are not shown its error).
    const job = (await stack.request<JobView>('GET', `/v0/projects/${tenantB.project}/jobs/${accepted.body.job}`, undefined, tenantB.token)).body;
    const outputs = await getOutputs(stack.db, accepted.body.job);
    return { job, uploaded: outputs.map((o) => o.content.toString()).join('\n') };
  }

  it("B naming A's digest in its own repository of A's registry is refused", async () => {
    const { job, uploaded } = await submitB(`${registry.address}/b/img@${digestA}`, { image_credentials: credentialsA });
    expect(job).toMatchObject({ status: 'failed', runner: null, error: `image ${registry.address}/b/img@${digestA} not found in registry ${registry.address}` });
    expect(uploaded).not.toContain(SECRET);
  });

  it("B's own registry answering with A's digest and manifest gets no cached copy of A's image", async () => {
    const { job, uploaded } = await submitB(`${impostor.address}/b/img:latest`);
    // The manifest hashes to A's digest, so the orchestrator pins it; the runner must still pull it
    // from B's registry, which cannot serve A's layers.
    expect(job.image_digest).toBe(digestA);
    expect(job.status).toBe('failed');
    expect(job.error).toBe(`could not pull ${impostor.address}/b/img@${digestA}`);
    expect(uploaded).not.toContain(SECRET);
    expect(impostor.requests.some((r) => r.startsWith('GET /v2/b/img/blobs/'))).toBe(true);
  });

  it('a registry naming a digest its content does not have is refused before any runner time', async () => {
    const liar = await impostorRegistry(Buffer.from('{"schemaVersion":2,"layers":[]}'), digestA, 'application/vnd.oci.image.manifest.v1+json');
    try {
      const { job, uploaded } = await submitB(`${liar.address}/b/img:latest`);
      expect(job).toMatchObject({ status: 'failed', runner: null, error: `registry ${liar.address} served a manifest for ${liar.address}/b/img:latest that does not match the digest it named` });
      expect(uploaded).toBe('');
    } finally {
      await new Promise((r) => liar.server.close(r));
    }
  });
});

describe('a server not configured for development', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ outbound: { allowPrivateNetworks: false } });
    await stack.startRunner();
  });
  afterAll(() => stack?.stop());

  it('refuses a registry on a loopback address at tag resolution, without saying what answers there', async () => {
    const image = await stack.pushImage('loopback', { entrypoint: ['/bin/true'] });
    const accepted = await stack.submit({ image });
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'failed', runner: null, image_digest: null, error: '127.0.0.1 is not an allowed destination (it resolves to a private or reserved address)' });
  });
});

describe('the runner’s image cache', () => {
  let registry: RunningRegistry;
  let digest: string;
  const credentials = { username: 'owner', password: 'owner-password-4a7e' };
  const dev = new OutboundGuard({ allowPrivateNetworks: true });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'benchline-cache-registry-'));
    writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', credentials.username, credentials.password]));
    registry = await startRegistry(dir, await freePort(), { htpasswd: join(dir, 'htpasswd') });
    digest = await buildAndPushImage({ reference: `${registry.address}/owner/img:latest`, files: { '/secret.txt': SECRET }, credentials });
  });
  afterAll(() => registry?.stop());

  it('re-checks the job’s registry, repository and credentials on a cache hit, and keys by source', async () => {
    const cache = new ImageCache(mkdtempSync(join(tmpdir(), 'benchline-cache-')), dev);
    const location = { registry: registry.address, repository: 'owner/img', digest };
    const image = await cache.ensure(location, credentials);
    expect(readFileSync(join(image.rootfs, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(image.key).toBe(imageKey(location));

    // Cached, but these callers are not shown to be served the digest: no copy for them.
    await expect(cache.ensure(location)).rejects.toThrow(new ImageNotFoundError(`registry ${registry.address} refused access to owner/img`));
    await expect(cache.ensure({ ...location, repository: 'other/img' }, credentials)).rejects.toThrow(ImageNotFoundError);
    // Same digest from another source is another cache entry.
    expect(imageKey({ ...location, registry: '127.0.0.1:1' })).not.toBe(image.key);
  });

  it('pins the pull to the address the guard checked for a registry named by host name', async () => {
    // The name exists only in the guard's resolver: the pull can reach it only through the guard.
    const port = registry.address.split(':')[1];
    const host = `registry.pinned.test:${port}`;
    const guard = new OutboundGuard({ allowPrivateNetworks: true, insecureRegistries: [host], resolve: async (name) => (name === 'registry.pinned.test' ? ['127.0.0.1'] : []) });
    const cache = new ImageCache(mkdtempSync(join(tmpdir(), 'benchline-cache-')), guard);
    const image = await cache.ensure({ registry: host, repository: 'owner/img', digest }, credentials);
    expect(existsSync(join(image.rootfs, 'secret.txt'))).toBe(true);
  });

  it('puts the hosts a blob download is redirected to through the guard: a redirect to a metadata address is refused', async () => {
    const manifest = await fetchManifest(dev, { registry: registry.address, repository: 'owner/img', digest }, credentials);
    const redirecting = await impostorRegistry(manifest.body, digest, manifest.mediaType!, 'http://metadata.test/latest/meta-data');
    const lookups: string[] = [];
    const names: Record<string, string[]> = { 'impostor.test': ['127.0.0.1'], 'metadata.test': ['169.254.169.254'] };
    const host = `impostor.test:${redirecting.address.split(':')[1]}`;
    const guard = new OutboundGuard({ allowPrivateNetworks: true, insecureRegistries: [host], resolve: async (name) => (lookups.push(name), names[name] ?? []) });
    try {
      const cache = new ImageCache(mkdtempSync(join(tmpdir(), 'benchline-cache-')), guard);
      const err = await cache.ensure({ registry: host, repository: 'b/img', digest }).catch((e) => e);
      expect(err).toMatchObject({ failure: 'refused', message: `registry ${host} redirected a download to a destination that is not allowed` });
      expect(redirecting.requests.some((r) => r.startsWith('GET /v2/b/img/blobs/'))).toBe(true);
      // The redirect's host was looked up by the guard, which refused it.
      expect(lookups).toContain('metadata.test');
    } finally {
      await new Promise((r) => redirecting.server.close(r));
    }
  });
});
