import globalSetup from '/work/wt/dispatch/test/harness/global-setup';
import globalTeardown from '/work/wt/dispatch/test/harness/global-teardown';
import { Stack } from '/work/wt/dispatch/test/harness/stack';
import { dispatchBenchmark } from '/work/wt/dispatch/bench/dispatch';
(async () => { await globalSetup(); const stack = await Stack.start(); try { await dispatchBenchmark(stack); } finally { await stack.stop(); await globalTeardown(); } })().catch((e) => { console.error(e); process.exit(1); });
