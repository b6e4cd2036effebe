import globalSetup from '../test/harness/global-setup';
import globalTeardown from '../test/harness/global-teardown';
import { Stack } from '../test/harness/stack';

/**
 * Runs benchmarks on the same real services as the integration tests (an ephemeral Temporal dev
 * server, a fresh Postgres database, a registry), with one stack, and removes it all afterwards.
 */
export async function withBenchStack(fn: (stack: Stack) => Promise<void>): Promise<void> {
  await globalSetup();
  const stack = await Stack.start();
  try {
    await fn(stack);
  } finally {
    await stack.stop();
    await globalTeardown();
  }
}

/** The entry point of a benchmark script: exits non-zero on failure. */
export function runBench(fn: () => Promise<void>): void {
  fn().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
