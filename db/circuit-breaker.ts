/**
 * The circuit breaker on the database pool (installed by db/connection.ts): after `threshold`
 * consecutive connection failures it opens, and every acquire fails at once with
 * DatabaseCircuitOpenError (the api answers 503 + Retry-After) instead of queueing behind
 * connection attempts that will fail or time out. After `cooldownMs` one acquire is let through
 * as a probe; if it gets a connection the breaker closes, if not it opens for another cooldown.
 *
 * Small and ours rather than opossum or cockatiel: failures are seen in two places (the pool's
 * acquire and a query's error on an already pooled connection), not in one wrapped call, and a
 * half-open breaker must refuse the other callers at once, not queue them behind the probe.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  threshold: number;
  cooldownMs: number;
  onStateChange?: (state: CircuitState, cause?: unknown) => void;
  now?: () => number;
}

/** What an acquire throws while the breaker is open; isDatabaseUnavailable counts it as an outage. */
export class DatabaseCircuitOpenError extends Error {
  readonly code = 'BENCHLINE_DB_CIRCUIT_OPEN';
  constructor(readonly retryAfterMs: number) {
    super('database circuit open: recent connection attempts failed');
    this.name = 'DatabaseCircuitOpenError';
  }
}

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    return this.current;
  }

  /**
   * Before an acquire: throws while open (or while another caller's probe is out); after the
   * cooldown the first caller becomes the probe and returns true.
   */
  admit(): boolean {
    if (this.current === 'closed') return false;
    const left = this.openedAt + this.options.cooldownMs - this.now();
    if (this.current === 'half-open' || left > 0) throw new DatabaseCircuitOpenError(Math.max(left, 0));
    this.transition('half-open');
    return true;
  }

  /** The database answered (a connection was made, a statement completed): the streak ends. */
  success(): void {
    this.failures = 0;
    if (this.current !== 'closed') this.transition('closed');
  }

  /** A connection failure. The probe failing, or the threshold reached, opens the breaker. */
  failure(cause?: unknown): void {
    this.failures++;
    if (this.current === 'half-open' || (this.current === 'closed' && this.failures >= this.options.threshold)) {
      this.openedAt = this.now();
      this.transition('open', cause);
    }
  }

  private transition(state: CircuitState, cause?: unknown): void {
    this.current = state;
    this.options.onStateChange?.(state, cause);
  }
}
