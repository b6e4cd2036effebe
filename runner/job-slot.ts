import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit, SlotReleaseContext, SlotReserveContext } from '@temporalio/worker';

/** How many tasks wait in a queue (Temporal's approximate backlog), or undefined when unknown. */
export type BacklogOf = (taskQueue: string) => Promise<number | undefined>;

/** How long a freed slot is kept for its releaser's queue (which has a backlog) to poll again. */
const REPOLL_GRACE_MS = 1000;

interface Waiter {
  taskQueue: string;
  grant: (permit: SlotPermit) => void;
}

/**
 * The runner's one job slot, shared by the Workers of every spec queue it serves: a benchmark
 * needs the whole machine, so at most one job runs, whichever queue it came from.
 *
 * The SDK reserves a slot before it polls, so only the holder's queue is polled, and a poll of an
 * empty queue holds the slot until the server ends it (about a minute). So when the slot comes
 * back, it goes to the longest-waiting queue that has jobs waiting (`backlogOf`), then to the
 * releasing queue if it has more, and only when no queue has a backlog (or backlogs are unknown)
 * to the longest-waiting poller. Busy queues take turns job by job; an idle queue costs a long
 * poll only when nothing else waits. A job arriving on a queue that is not being polled still waits
 * for the current long poll (up to a minute) — polling every queue at once would avoid that, but
 * could hand the runner a second job while one runs, holding it from the spec's idle runners.
 */
export class JobSlot implements CustomSlotSupplier<ActivitySlotInfo> {
  readonly type = 'custom';
  private held = false;
  private readonly waiters: Waiter[] = [];
  /** A freed slot kept for this queue's next poll (it has a backlog). */
  private reservedFor?: { taskQueue: string; timer: ReturnType<typeof setTimeout> };

  constructor(private readonly backlogOf: BacklogOf = async () => undefined) {}

  reserveSlot(ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    const permit = { taskQueue: ctx.taskQueue };
    if (this.reservedFor?.taskQueue === ctx.taskQueue) {
      clearTimeout(this.reservedFor.timer);
      this.reservedFor = undefined;
      this.held = true;
      return Promise.resolve(permit);
    }
    if (!this.held && !this.reservedFor && this.waiters.length === 0) {
      this.held = true;
      return Promise.resolve(permit);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { taskQueue: ctx.taskQueue, grant: () => resolve(permit) };
      this.waiters.push(waiter);
      abortSignal.addEventListener('abort', () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        // The SDK accepts only an AbortError here.
        reject(Object.assign(new Error('slot reservation aborted'), { name: 'AbortError' }));
      }, { once: true });
    });
  }

  /** Eager tasks (never sent to a runner's activity-only queues) get a slot only when it is free. */
  tryReserveSlot(): SlotPermit | null {
    if (this.held || this.reservedFor || this.waiters.length) return null;
    this.held = true;
    return {};
  }

  markSlotUsed(): void {}

  releaseSlot(ctx: SlotReleaseContext<ActivitySlotInfo>): void {
    // Nobody waits (a runner of one spec, always): whoever asks next, the releaser's poller most likely, takes it.
    if (this.waiters.length === 0) {
      this.held = false;
      return;
    }
    // Held while deciding, so no reservation slips in between.
    void this.handOn((ctx.permit as { taskQueue?: string }).taskQueue).catch(() => this.grantFirst());
  }

  private async handOn(releasedBy: string | undefined): Promise<void> {
    const queues = [...new Set([...this.waiters.map((w) => w.taskQueue), ...(releasedBy ? [releasedBy] : [])])];
    const backlogs = new Map(await Promise.all(queues.map(async (q) => [q, await this.backlogOf(q).catch(() => undefined)] as const)));
    const busy = this.waiters.find((w) => (backlogs.get(w.taskQueue) ?? 0) > 0);
    if (busy) return this.grant(busy);
    if (releasedBy && (backlogs.get(releasedBy) ?? 0) > 0) {
      // Its poller asks again right after giving the slot back; keep the slot for it a moment.
      this.held = false;
      this.reservedFor = { taskQueue: releasedBy, timer: setTimeout(() => { this.reservedFor = undefined; this.held = true; this.grantFirst(); }, REPOLL_GRACE_MS) };
      return;
    }
    this.grantFirst();
  }

  private grant(waiter: Waiter): void {
    this.waiters.splice(this.waiters.indexOf(waiter), 1);
    this.held = true;
    waiter.grant({});
  }

  /** First come, first served; free when nobody waits. */
  private grantFirst(): void {
    const next = this.waiters[0];
    if (next) this.grant(next);
    else this.held = false;
  }
}
