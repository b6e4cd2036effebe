/**
 * `npm run bench`: figures, printed, never asserted. Runs on the same real services as the
 * integration tests (an ephemeral Temporal dev server, a fresh Postgres database, a registry).
 */
import globalSetup from '../test/harness/global-setup';
import globalTeardown from '../test/harness/global-teardown';
import { Stack } from '../test/harness/stack';
import { changePointBenchmark } from './change-points';
import { dispatchBenchmark } from './dispatch';
import { executorBenchmark } from './executors';
import { resultsScaleBenchmark } from './results-scale';

async function main() {
  changePointBenchmark(); // pure computation: before the services start, so they do not load the CPU
  await globalSetup();
  const stack = await Stack.start();
  try {
    await dispatchBenchmark(stack);
    await resultsScaleBenchmark(stack);
    await executorBenchmark(stack);
  } finally {
    await stack.stop();
    await globalTeardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
