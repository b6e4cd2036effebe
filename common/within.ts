/** What `within` rejects with when the deadline came first (the work's own failures pass as they are). */
export class DeadlinePassed extends Error {}

/**
 * `work`, or a rejection naming `what` once `ms` have passed first. The work itself is not stopped
 * (a query keeps its connection until it ends): this bounds how long a caller waits, for answers
 * that must come in time even while a dependency hangs (a status page, a scrape).
 */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new DeadlinePassed(`${what} took over ${ms} ms`)), ms)));
  work.catch(() => undefined); // a rejection after the deadline has no one to hear it
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
