import { accelerator, buildDrift, runnerState, tuningWarnings } from '../../api/runner-fleet';
import { buildInfo, shortBuild } from '../../common/build-info';
import { JobSlot } from '../../runner/job-slot';

const waitUntil = async (done: () => boolean) => {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
};
const releaseCtx = { permit: {}, slotInfo: { type: 'activity' as const, activityType: 'runJob' } };
const reserveCtx = { slotType: 'activity' as const, taskQueue: 'q', workerIdentity: 'w', workerBuildId: '', isSticky: false };

describe('the runner job slot', () => {
  it('grants one slot at a time, to waiters in arrival order, so the queues take turns', async () => {
    const slot = new JobSlot();
    const order: string[] = [];
    await slot.reserveSlot(reserveCtx, new AbortController().signal);
    const b = slot.reserveSlot({ ...reserveCtx, taskQueue: 'b' }, new AbortController().signal).then(() => order.push('b'));
    const a = slot.reserveSlot({ ...reserveCtx, taskQueue: 'a' }, new AbortController().signal).then(() => order.push('a'));
    expect(slot.tryReserveSlot()).toBeNull();
    slot.releaseSlot(releaseCtx);
    await b;
    expect(order).toEqual(['b']);
    slot.releaseSlot(releaseCtx);
    await a;
    expect(order).toEqual(['b', 'a']);
    slot.releaseSlot(releaseCtx);
    expect(slot.tryReserveSlot()).toEqual({});
  });

  it('hands the slot to a queue with jobs waiting before an idle one, the releaser included', async () => {
    const backlog: Record<string, number> = { a: 1, b: 0, c: 2 };
    const slot = new JobSlot(async (q) => backlog[q]);
    const signal = new AbortController().signal;
    const order: string[] = [];
    const reserve = (q: string) => slot.reserveSlot({ ...reserveCtx, taskQueue: q }, signal).then(() => order.push(q));
    /** As the SDK does: the holder gives the slot back, then its poller asks again at once. */
    const releaseAndRepoll = (q: string) => {
      slot.releaseSlot({ ...releaseCtx, permit: { taskQueue: q } });
      return reserve(q);
    };
    await reserve('a');
    void reserve('b');
    void reserve('c');
    void releaseAndRepoll('a');
    await waitUntil(() => order.length === 2);
    // c has jobs waiting, b none: c goes before b although b asked first.
    expect(order).toEqual(['a', 'c']);
    backlog.c = 0;
    void releaseAndRepoll('c');
    await waitUntil(() => order.length === 3);
    expect(order).toEqual(['a', 'c', 'a']);
    // Only the releaser has jobs left: the slot is kept for its next poll.
    void releaseAndRepoll('a');
    await waitUntil(() => order.length === 4);
    expect(order).toEqual(['a', 'c', 'a', 'a']);
    // Nothing waits anywhere: first come, first served (b has waited longest).
    backlog.a = 0;
    void releaseAndRepoll('a');
    await waitUntil(() => order.length === 5);
    expect(order).toEqual(['a', 'c', 'a', 'a', 'b']);
  });

  it('drops an aborted waiter from the line with an AbortError', async () => {
    const slot = new JobSlot();
    await slot.reserveSlot(reserveCtx, new AbortController().signal);
    const abort = new AbortController();
    const waiting = slot.reserveSlot(reserveCtx, abort.signal);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    slot.releaseSlot(releaseCtx);
    // Nobody waits now: the slot is free again.
    expect(slot.tryReserveSlot()).toEqual({});
  });
});

describe('runner fleet facts', () => {
  const live = { lease_live: true, locked_at: null };
  it('states: locked wins, then offline without a live lease, then busy with a job', () => {
    const job = { specs: [], currentJob: { uuid: 'u', project: 'p', status: 'running' as const } };
    expect(runnerState({ ...live, locked_at: new Date() }, job)).toBe('locked');
    expect(runnerState({ ...live, lease_live: false }, job)).toBe('offline');
    expect(runnerState(live, job)).toBe('busy');
    expect(runnerState(live, { specs: [], currentJob: null })).toBe('idle');
  });

  it('drift: another build than the api, or a spec whose live runners disagree; never for an offline runner', () => {
    const build = (id: string) => ({ ...buildInfo(), id });
    const sha = 'a'.repeat(40);
    const specs = new Map([['s', new Set([sha])], ['t', new Set([sha, 'ci-42'])]]);
    expect(buildDrift({ lease_live: true, build: build('ci-41') }, ['s'], sha, specs)).toEqual({ reason: `runs build ci-41; the api runs ${'a'.repeat(12)}` });
    expect(buildDrift({ lease_live: true, build: build(sha) }, ['s'], sha, specs)).toBeNull();
    expect(buildDrift({ lease_live: true, build: build(sha) }, ['s', 't'], sha, specs)).toEqual({ reason: `the live runners of spec t run 2 builds: ${'a'.repeat(12)}, ci-42` });
    expect(buildDrift({ lease_live: false, build: build('ci-41') }, ['s'], sha, specs)).toBeNull();
    expect(shortBuild('ci-41')).toBe('ci-41');
  });

  it('accelerator and host-tuning warnings from what the daemon reported', () => {
    expect(accelerator({ executor: 'microvm', vmm: 'firecracker', accel: 'kvm' })).toBe('firecracker');
    expect(accelerator({ executor: 'microvm', vmm: 'qemu', accel: 'kvm' })).toBe('kvm');
    expect(accelerator({ executor: 'microvm', vmm: 'qemu', accel: 'tcg' })).toBe('emulation');
    expect(accelerator({ executor: 'sandbox' })).toBe('none');
    expect(accelerator(null)).toBeNull();
    expect(tuningWarnings({ tuning: { smt: 'on', turbo: 'on', governor: 'schedutil' } })).toEqual(['SMT is on', 'turbo is on', 'governor is schedutil, not performance']);
    // Facts the kernel hides (VMs, containers) are not warned about.
    expect(tuningWarnings({ tuning: { smt: 'notsupported', turbo: 'unknown', governor: 'unknown' } })).toEqual([]);
    expect(tuningWarnings(null)).toEqual([]);
  });
});
