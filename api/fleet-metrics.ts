import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { reportedBuild } from '../common/build-info';
import { runnersQuery } from '../db/runners';
import { fleetOf, type FleetRunner } from './runner-fleet';

/**
 * Gauges of the runner fleet, computed from the database at each scrape (so every api replica
 * reports the same fleet): runners by state, build and spec, and per runner its drift, how long
 * since it was last seen and how long its daemon has been stopping. Alerts built on them: a
 * runner stale or stuck stopping, builds drifting apart.
 */
export function registerFleetMetrics(app: FastifyInstance, registry: Registry): { beginScrape(): void } {
  // One scrape reads the fleet once, however many gauges it fills; the next scrape reads it afresh.
  let snapshot: Promise<FleetRunner[]> | undefined;
  const read = () => (snapshot ??= runnersQuery(app.db, app.config.runnerLease, { archived: false }).then((rows) => fleetOf(app.db, rows, app.config.runnerLease)));
  // The database is down: the scrape still answers, each gauge with its last values.
  const fleet = () => read().catch(() => undefined);
  const secondsSince = (at: Date) => Math.max(0, (Date.now() - at.getTime()) / 1000);

  const build = reportedBuild();
  new Gauge({ name: 'benchline_build_info', help: "This api process's build (always 1)", labelNames: ['process', 'build', 'version', 'node', 'platform'] as const, registers: [registry] })
    .set({ process: 'api', build: build.id, version: build.version, node: build.node, platform: build.platform }, 1);

  fleetGauge('benchline_runners', 'Unarchived runners by state (idle, busy, offline, locked), reported build and served spec (a runner counts once per spec)', ['state', 'build', 'spec'], (gauge, r) => {
    for (const spec of r.details.specs.length ? r.details.specs : ['none']) gauge.inc({ state: r.state, build: r.build ?? 'unknown', spec });
  });
  const perRunner = (name: string, help: string, value: (r: FleetRunner) => number | undefined) =>
    fleetGauge(name, help, ['runner'], (gauge, r) => {
      const v = value(r);
      if (v !== undefined) gauge.set({ runner: r.row.slug }, v);
    });
  perRunner('benchline_runner_build_drift', 'Whether a live runner runs another build than the api, or than its specs\' other live runners (1) or not (0)', (r) => (r.drift ? 1 : 0));
  // Only for runners a daemon still holds (a clean exit releases the lease) and that are not locked:
  // the stale-runner alert is about a daemon that vanished, not one an operator stopped.
  perRunner('benchline_runner_last_seen_seconds', 'Seconds since the runner last called the api; runners whose daemon still holds the lease, unlocked', (r) =>
    r.row.last_seen_at && r.row.lease_started_at && r.state !== 'locked' ? secondsSince(r.row.last_seen_at) : undefined,
  );
  perRunner('benchline_runner_daemon_uptime_seconds', "Seconds since the daemon now holding the runner's lease took it; absent when no daemon holds it", (r) =>
    r.row.lease_live && r.row.lease_started_at ? secondsSince(r.row.lease_started_at) : undefined,
  );
  perRunner('benchline_runner_stopping_seconds', 'Seconds since the daemon holding the runner\'s lease said it is stopping (0 when it is not)', (r) => (r.row.lease_stopping_at ? secondsSince(r.row.lease_stopping_at) : 0));

  return { beginScrape: () => (snapshot = undefined) };

  /** A gauge refilled from the fleet at each scrape, one runner at a time. */
  function fleetGauge<L extends string>(name: string, help: string, labelNames: L[], fill: (gauge: Gauge<L>, r: FleetRunner) => void) {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const runners = await fleet();
        if (!runners) return;
        this.reset();
        for (const r of runners) fill(this, r);
      },
    });
  }
}
