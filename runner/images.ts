import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isInsecureRegistry } from '../common/image-ref';
import type { RegistryCredentials } from '../common/schemas';
import { runTool } from './process';

export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  workingDir: string;
}

export interface CachedImage {
  digest: string;
  /** Unpacked root filesystem, shared by every job of this digest: read-only by contract. */
  rootfs: string;
  config: ImageConfig;
}

export interface ImageLocation {
  registry: string;
  repository: string;
  digest: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Pulls images by digest (skopeo → OCI layout → umoci unpack) into a cache keyed by digest. A digest
 * names immutable content, so a cached unpack never goes stale; concurrent pulls of one digest race
 * harmlessly to a rename and one wins.
 */
export class ImageCache {
  constructor(private readonly dir: string) {}

  /**
   * The image, pulled if this host has not got it yet. Credentials, when the registry needs them,
   * reach skopeo through a 0600 auth file in a private work directory, never a command line.
   * (A cached digest needs none: the orchestrator already refused jobs that may not read it.)
   */
  async ensure(image: ImageLocation, credentials?: RegistryCredentials): Promise<CachedImage> {
    if (!DIGEST.test(image.digest)) throw new Error(`refusing to pull "${image.digest}": not a sha256 digest`);
    const bundle = join(this.dir, 'bundles', image.digest.slice('sha256:'.length));
    if (!existsSync(join(bundle, 'image-config.json'))) await this.pull(image, bundle, credentials);
    const config: ImageConfig = JSON.parse(await readFile(join(bundle, 'image-config.json'), 'utf8'));
    return { digest: image.digest, rootfs: join(bundle, 'rootfs'), config };
  }

  private async pull(image: ImageLocation, bundle: string, credentials?: RegistryCredentials): Promise<void> {
    const work = join(this.dir, 'tmp', `${image.digest.slice(7, 19)}-${randomBytes(4).toString('hex')}`);
    await mkdir(work, { recursive: true, mode: 0o700 });
    try {
      const tls = isInsecureRegistry(image.registry) ? ['--src-tls-verify=false'] : [];
      const auth = credentials ? ['--src-authfile', await writeAuthFile(join(work, 'auth.json'), image.registry, credentials)] : [];
      await runTool('skopeo', ['copy', '--quiet', ...tls, ...auth, `docker://${image.registry}/${image.repository}@${image.digest}`, `oci:${work}/layout:image`]);
      await runTool('umoci', ['unpack', '--image', `${work}/layout:image`, `${work}/bundle`]);
      const config = await readImageConfig(join(work, 'layout'));
      await writeFile(join(work, 'bundle', 'image-config.json'), JSON.stringify(config));
      await mkdir(join(this.dir, 'bundles'), { recursive: true });
      await rename(join(work, 'bundle'), bundle).catch((err) => {
        if (!existsSync(join(bundle, 'image-config.json'))) throw err;
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}

/** A containers-auth.json holding one registry's credentials, readable by this user only. */
async function writeAuthFile(path: string, registry: string, { username, password }: RegistryCredentials): Promise<string> {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  await writeFile(path, JSON.stringify({ auths: { [registry]: { auth } } }), { mode: 0o600 });
  return path;
}

/** Reads Entrypoint, Cmd, Env and WorkingDir from an OCI layout's (single) image config. */
async function readImageConfig(layout: string): Promise<ImageConfig> {
  const blob = async (digest: string) => JSON.parse(await readFile(join(layout, 'blobs', ...digest.split(':')), 'utf8'));
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const manifest = await blob(index.manifests[0].digest);
  const { config = {} } = await blob(manifest.config.digest);
  const env: Record<string, string> = {};
  for (const entry of (config.Env ?? []) as string[]) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { entrypoint: config.Entrypoint ?? [], cmd: config.Cmd ?? [], env, workingDir: config.WorkingDir || '/' };
}

/** Docker's rule: the job's entrypoint replaces the image's (and drops its cmd); the job's cmd replaces the image's cmd. */
export function resolveArgv(image: ImageConfig, entrypoint: string[] | undefined, cmd: string[] | undefined): string[] {
  if (entrypoint) return [...entrypoint, ...(cmd ?? [])];
  return [...image.entrypoint, ...(cmd ?? image.cmd)];
}
