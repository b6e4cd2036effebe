import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { version } from '../package.json';

export interface BuildInfo {
  /** The git commit this process runs: BENCHLINE_GIT_SHA (set by image builds), else the checkout's HEAD; null when neither is known. */
  sha: string | null;
  /** The CI build that produced this process's image or package (BUILD_ID); null for a checkout. */
  buildId: string | null;
  /** package.json's version. */
  version: string;
  /** Node.js version, e.g. v20.20.2. */
  node: string;
  /** OS and CPU, e.g. linux-x64. */
  platform: string;
}

let cached: BuildInfo | undefined;

/**
 * What build this process runs, read once: the environment wins (an image has no .git), then
 * `git rev-parse HEAD` in the checkout, bounded so a slow or missing git never delays a start.
 */
export function buildInfo(env: NodeJS.ProcessEnv = process.env): BuildInfo {
  if (cached && env === process.env) return cached;
  const info: BuildInfo = {
    sha: env.BENCHLINE_GIT_SHA || env.GIT_SHA || gitHead(),
    buildId: env.BUILD_ID || null,
    version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  if (env === process.env) cached = info;
  return info;
}

function gitHead(): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: join(__dirname, '..'), timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return /^[0-9a-f]{40}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}

/** What a process reports of its build, as runners send it and the api compares it for drift. */
export interface ReportedBuild {
  /** The build's identity: BUILD_ID when set (a CI build), else the git SHA, else 'unknown'. */
  id: string;
  git_sha: string | null;
  version: string;
  node: string;
  platform: string;
}

export function reportedBuild(info: BuildInfo = buildInfo()): ReportedBuild {
  return { id: info.buildId ?? info.sha ?? 'unknown', git_sha: info.sha, version: info.version, node: info.node, platform: info.platform };
}

/** A build id short enough for a label or a badge (a SHA's first 12 hex digits). */
export function shortBuild(id: string): string {
  return /^[0-9a-f]{40}$/.test(id) ? id.slice(0, 12) : id;
}
