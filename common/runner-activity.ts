import { envInt } from './env';

/**
 * A runner is active, and its specs accept jobs, while its daemon has checked in (any runner
 * request, pings included) within this many seconds. Long enough that a host rebooting or a runner
 * being upgraded does not turn submissions away; short enough that a spec whose runners are gone
 * refuses jobs instead of queueing them until they time out.
 */
export const DEFAULT_RUNNER_ACTIVE_SECONDS = 900;

export const runnerActivityEnv = {
  BENCHLINE_RUNNER_ACTIVE_SECONDS: envInt(DEFAULT_RUNNER_ACTIVE_SECONDS, { min: 1, max: 30 * 86_400 }),
};

