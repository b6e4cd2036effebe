import { CircuitBreaker, DatabaseCircuitOpenError, type CircuitState } from '../../db/circuit-breaker';
import { isDatabaseUnavailable } from '../../db/unavailable';

/** The pool's breaker as a state machine, on a clock the test moves. */
describe('database circuit breaker', () => {
  let now = 0;
  let changes: CircuitState[];
  const breaker = () => {
    changes = [];
    return new CircuitBreaker({ threshold: 3, cooldownMs: 2000, now: () => now, onStateChange: (s) => changes.push(s) });
  };
  const refusal = (b: CircuitBreaker) => {
    try {
      b.admit();
    } catch (err) {
      return err as DatabaseCircuitOpenError;
    }
    return undefined;
  };
  beforeEach(() => (now = 1000));

  it('opens only after `threshold` failures in a row: a completed statement resets the streak', () => {
    const b = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    expect(b.admit()).toBe(false);
    b.failure();
    expect(b.state).toBe('open');
    expect(changes).toEqual(['open']);
  });

  it('refuses at once while open, with the time left until the probe, counted as an outage', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    now += 500;
    const err = refusal(b);
    expect(err).toBeInstanceOf(DatabaseCircuitOpenError);
    expect(err!.retryAfterMs).toBe(1500);
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it('after the cooldown lets one probe through and refuses the others while it is out', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    now += 2000;
    expect(b.admit()).toBe(true);
    expect(b.state).toBe('half-open');
    expect(refusal(b)).toBeInstanceOf(DatabaseCircuitOpenError);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.admit()).toBe(false);
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('a failed probe opens it for another full cooldown', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    now += 2500;
    b.admit();
    b.failure();
    expect(b.state).toBe('open');
    now += 1999;
    expect(refusal(b)?.retryAfterMs).toBe(1);
    now += 1;
    expect(b.admit()).toBe(true);
  });
});
