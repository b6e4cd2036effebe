import type { Knex } from 'knex';
import { reportedBuild, shortBuild } from '../common/build-info';
import type { Accelerator, RunnerState } from '../common/contracts/runner-fleet';
import type { LeaseTimeouts } from '../db/runner-lease';
import { liveBuildsBySpec } from '../db/runner-lease';
import { runnerDetails, type ListedRunner, type RunnerDetails } from '../db/runners';


/** One runner as the fleet board and the metrics see it. */
export interface FleetRunner {
  row: ListedRunner;
  details: RunnerDetails;
  state: RunnerState;
  build: string | null;
  drift: { reason: string } | null;
  accelerator: Accelerator | null;
  tuningWarnings: string[];
}

/** Locked wins (an admin's decision), then offline (no live lease: no daemon answers for it), then whether it holds a job. */
export function runnerState(row: Pick<ListedRunner, 'locked_at' | 'lease_live'>, details: RunnerDetails): RunnerState {
  if (row.locked_at) return 'locked';
  if (!row.lease_live) return 'offline';
  return details.currentJob ? 'busy' : 'idle';
}

/**
 * Why a live runner's build is suspect, or null: another build than this api's (a deploy that
 * missed it), or live runners of one of its specs on several builds (a rollout half done, where the
 * same job may behave differently depending on the runner it lands on).
 */
export function buildDrift(row: Pick<ListedRunner, 'lease_live' | 'build'>, specs: string[], apiBuild: string, liveBuilds: Map<string, Set<string>>): { reason: string } | null {
  if (!row.lease_live || !row.build) return null;
  if (row.build.id !== apiBuild) return { reason: `runs build ${shortBuild(row.build.id)}; the api runs ${shortBuild(apiBuild)}` };
  for (const spec of specs) {
    const builds = liveBuilds.get(spec);
    if (builds && builds.size > 1) return { reason: `the live runners of spec ${spec} run ${builds.size} builds: ${[...builds].map(shortBuild).sort().join(', ')}` };
  }
  return null;
}

/** How the runner's jobs run, from what its daemon reported (runner/executors describe()). */
export function accelerator(host: Record<string, unknown> | null): Accelerator | null {
  if (!host) return null;
  if (host.executor === 'sandbox') return 'none';
  if (host.executor !== 'microvm') return null;
  if (host.vmm === 'firecracker') return 'firecracker';
  return host.accel === 'kvm' ? 'kvm' : host.accel === 'tcg' ? 'emulation' : null;
}

/** Host settings that make results noisier (runner/host/tuning.ts); an unreadable one is not warned about. */
export function tuningWarnings(host: Record<string, unknown> | null): string[] {
  const tuning = (host?.tuning ?? {}) as { smt?: string; turbo?: string; governor?: string };
  const warnings: string[] = [];
  if (tuning.smt === 'on') warnings.push('SMT is on');
  if (tuning.turbo === 'on') warnings.push('turbo is on');
  if (typeof tuning.governor === 'string' && tuning.governor !== 'unknown' && tuning.governor !== 'performance') warnings.push(`governor is ${tuning.governor}, not performance`);
  return warnings;
}

/** Fleet facts for a page of runners, in three queries whatever its size. */
export async function fleetOf(db: Knex, rows: ListedRunner[], timeouts: LeaseTimeouts): Promise<FleetRunner[]> {
  const [details, liveBuilds] = await Promise.all([runnerDetails(db, rows.map((r) => r.id)), liveBuildsBySpec(db, timeouts)]);
  const apiBuild = reportedBuild().id;
  return rows.map((row) => {
    const d = details.get(row.id)!;
    return {
      row,
      details: d,
      state: runnerState(row, d),
      build: row.build?.id ?? null,
      drift: buildDrift(row, d.specs, apiBuild, liveBuilds),
      accelerator: accelerator(row.host),
      tuningWarnings: tuningWarnings(row.host),
    };
  });
}
