import { z } from 'zod';

/** What a process reports of its build (common/build-info.ts). */
export const buildInfoBody = z.strictObject({
  id: z.string().min(1).max(100).describe('BUILD_ID when set, else the git SHA, else "unknown"'),
  git_sha: z.string().regex(/^[0-9a-f]{40}$/).nullable(),
  version: z.string().max(64).describe('package version'),
  node: z.string().max(32),
  platform: z.string().max(64),
});
