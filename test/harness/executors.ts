import type { Executor } from '../../runner/executors/executor';
import { createSandboxExecutor } from '../../runner/executors/sandbox';

/**
 * The real sandbox, made to fail the way a microVM that cannot boot fails: an error thrown before
 * the command starts. `failures` boots fail, then it works.
 */
export function failingToBoot(failures: number): Executor {
  const sandbox = createSandboxExecutor();
  let left = failures;
  return {
    name: sandbox.name,
    describe: sandbox.describe,
    run: async (req) => {
      req.onPhase?.('booting');
      if (left-- > 0) throw new Error('microVM failed to boot: injected fault');
      return sandbox.run(req);
    },
  };
}
