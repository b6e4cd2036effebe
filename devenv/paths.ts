import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JOB_SEARCH_ATTRIBUTES } from '../common/contracts';

export const ROOT = resolve(__dirname, '..');
export const TOOLS_DIR = join(ROOT, '.tools');
export const DATA_DIR = process.env.BENCHLINE_DATA_DIR ?? join(ROOT, '.data');

/** The Temporal CLI: $TEMPORAL_CLI, else the one bootstrap put in .tools/, else `temporal` on PATH. */
export function temporalCliPath(): string {
  if (process.env.TEMPORAL_CLI) return process.env.TEMPORAL_CLI;
  const local = join(TOOLS_DIR, 'temporal', 'bin', 'temporal');
  return existsSync(local) ? local : 'temporal';
}

/**
 * Dev-server settings for exact priority ordering: the priority matcher and fairness on, and one
 * task-queue partition (priority is enforced per partition).
 */
const TEMPORAL_DYNAMIC_CONFIG: readonly string[] = [
  'matching.useNewMatcher=true',
  'matching.enableFairness=true',
  'matching.numTaskqueueReadPartitions=1',
  'matching.numTaskqueueWritePartitions=1',
  // A runner serving several specs polls one queue at a time (runner/job-slot.ts): a poll of an empty
  // queue holds its turn until the server ends it, so a short long poll keeps the other queues' waits short.
  'matching.longPollExpirationInterval="5s"',
].flatMap((kv) => ['--dynamic-config-value', kv]);

/** The search attributes job workflows carry, registered when the dev server starts. */
export const TEMPORAL_SEARCH_ATTRIBUTES: readonly string[] = JOB_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);

/** Everything `temporal server start-dev` needs beyond addresses and storage, for tests and `npm run dev` alike. */
export const TEMPORAL_DEV_SERVER_ARGS: readonly string[] = [...TEMPORAL_DYNAMIC_CONFIG, ...TEMPORAL_SEARCH_ATTRIBUTES];
