/**
 * `npm run bench`: figures, printed, never asserted. Runs on the same real services as the
 * integration tests (an ephemeral Temporal dev server, a fresh Postgres database, a registry).
 */
import { changePointBenchmark } from './change-points';
import { consoleBenchmark } from './console';
import { dispatchBenchmark } from './dispatch';
import { executorBenchmark } from './executors';
import { pipelineBenchmark } from './pipelines';
import { resultsScaleBenchmark } from './results-scale';
import { runBench, withBenchStack } from './services';
import { throughputBenchmark } from './throughput';

runBench(async () => {
  changePointBenchmark(); // pure computation: before the services start, so they do not load the CPU
  await withBenchStack(async (stack) => {
    await dispatchBenchmark(stack);
    await resultsScaleBenchmark(stack);
    await executorBenchmark(stack);
    await consoleBenchmark(stack);
    await pipelineBenchmark(stack);
  });
  // Its own services, as separate processes, once the shared ones are stopped.
  await throughputBenchmark();
});
