/**
 * One run of `fn` per key at a time, shared by concurrent callers. `forget` says when the key is
 * cleared: 'on-failure' keeps a success for the life of the process (a built binary, a probe
 * result) while letting a failure be retried; 'when-settled' only joins callers that overlap (the
 * on-disk cache keeps the result).
 */
export function singleFlight<T>(inFlight: Map<string, Promise<T>>, key: string, fn: () => Promise<T>, forget: 'on-failure' | 'when-settled'): Promise<T> {
  let pending = inFlight.get(key);
  if (!pending) {
    pending = forget === 'when-settled' ? fn().finally(() => inFlight.delete(key)) : fn();
    inFlight.set(key, pending);
    if (forget === 'on-failure') pending.catch(() => inFlight.delete(key));
  }
  return pending;
}
