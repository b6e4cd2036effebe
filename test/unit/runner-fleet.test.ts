import { accelerator, buildDrift, runnerState, tuningWarnings } from '../../api/runner-fleet';
import { reportedBuild, shortBuild } from '../../common/build-info';
import { JobSlot } from '../../runner/job-slot';

const reserveCtx = { slotType: 'activity' as const, taskQueue: 'q', workerIdentity: 'w', workerBuildId: '', isSticky: false };

describe('the runner job slot', () => {
  it('grants one slot at a time, to waiters in arrival order, so the queues take turns', async () => {
    const slot = new JobSlot();
    const order: string[] = [];
    await slot.reserveSlot(reserveCtx, new AbortController().signal);
    const b = slot.reserveSlot({ ...reserveCtx, taskQueue: 'b' }, new AbortController().signal).then(() => order.push('b'));
    const a = slot.reserveSlot({ ...reserveCtx, taskQueue: 'a' }, new AbortController().signal).then(() => order.push('a'));
    expect(slot.tryReserveSlot()).toBeNull();
    slot.releaseSlot();
    await b;
    expect(order).toEqual(['b']);
    slot.releaseSlot();
    await a;
    expect(order).toEqual(['b', 'a']);
    slot.releaseSlot();
    expect(slot.tryReserveSlot()).toEqual({});
  });

  it('drops an aborted waiter from the line with an AbortError', async () => {
    const slot = new JobSlot();
    await slot.reserveSlot(reserveCtx, new AbortController().signal);
    const abort = new AbortController();
    const waiting = slot.reserveSlot(reserveCtx, abort.signal);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    // The signal's own reason: the SDK logs any other rejection of an aborted reservation as an error.
    await expect(waiting).rejects.toBe(abort.signal.reason);
    slot.releaseSlot();
    // Nobody waits now: the slot is free again.
    expect(slot.tryReserveSlot()).toEqual({});
  });

  it('refuses a reservation whose signal is already aborted, so no slot is granted that nobody releases', async () => {
    const slot = new JobSlot();
    await slot.reserveSlot(reserveCtx, new AbortController().signal);
    const abort = new AbortController();
    abort.abort();
    await expect(slot.reserveSlot(reserveCtx, abort.signal)).rejects.toBe(abort.signal.reason);
    slot.releaseSlot();
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
    const build = (id: string) => ({ ...reportedBuild(), id });
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
