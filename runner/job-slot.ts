import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit, SlotReserveContext } from '@temporalio/worker';

/**
 * The runner's one job slot, shared by the Workers of every spec queue it serves: a benchmark
 * needs the whole machine, so at most one job runs, whichever queue it came from.
 *
 * The SDK reserves a slot before it polls, so only the holder's queue is being polled. Waiters are
 * served first come, first served, and the holder rejoins the back of the line when it gives the slot
 * back (after a job, or after a long poll that found its queue empty), so the queues take turns: a
 * busy queue cannot keep the slot from an idle-looking one, and no queue waits longer than the
 * others' turns (at most one job, or one empty long poll, each).
 *
 * The price: a turn given to an empty queue lasts until the server ends its long poll, and
 * meanwhile the other queues' waiting jobs wait too: on a server's default (about a minute) a spec
 * with jobs queued beside an idle one ran one job per ~55-60 s. Benchline's Temporal settings
 * (deploy/temporal-dynamicconfig.yaml, devenv/paths.ts) end long polls after 5 s, which bounds that
 * wait (measured: 5.1 s between jobs; runner-multispec.test). Polling every
 * queue at once would avoid that idle time, but a second queue's outstanding poll could then hand
 * this runner a job while another runs, holding it from the spec's idle runners; a benchmark runner
 * prefers idle time to that.
 */
export class JobSlot implements CustomSlotSupplier<ActivitySlotInfo> {
  readonly type = 'custom';
  private held = false;
  private readonly waiters: { grant: (permit: SlotPermit) => void }[] = [];

  reserveSlot(_ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    if (!this.held && this.waiters.length === 0) {
      this.held = true;
      return Promise.resolve({});
    }
    // Already aborted: no 'abort' event will come, and a waiter queued now would be granted the slot with no one to release it.
    if (abortSignal.aborted) return Promise.reject(abortSignal.reason);
    return new Promise((resolve, reject) => {
      const waiter = { grant: resolve };
      this.waiters.push(waiter);
      abortSignal.addEventListener('abort', () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        // The SDK expects the signal's own reason (an AbortError) back; anything else it logs as an error.
        reject(abortSignal.reason);
      }, { once: true });
    });
  }

  /** Eager tasks (never sent to a runner's activity-only queues) get a slot only when it is free. */
  tryReserveSlot(): SlotPermit | null {
    if (this.held || this.waiters.length) return null;
    this.held = true;
    return {};
  }

  markSlotUsed(): void {}

  releaseSlot(): void {
    const next = this.waiters.shift();
    if (next) next.grant({});
    else this.held = false;
  }
}
