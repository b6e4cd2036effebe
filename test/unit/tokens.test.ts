import { bearerToken, generateToken, hashToken, isWellFormedToken } from '../../common/tokens';

describe('tokens', () => {
  it('runner tokens are benchline_runner_ + 64 hex and hash to SHA-256 hex', () => {
    const token = generateToken('runner');
    expect(token).toMatch(/^benchline_runner_[0-9a-f]{64}$/);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).not.toContain(token.slice(17));
    expect(generateToken('runner')).not.toBe(token);
  });

  it.each([
    ['', false],
    ['benchline_runner_', false],
    [`benchline_runner_${'a'.repeat(63)}`, false],
    [`benchline_runner_${'a'.repeat(65)}`, false],
    [`benchline_runner_${'A'.repeat(64)}`, false],
    [`benchline_user_${'a'.repeat(64)}`, false],
    [`benchline_runner_${'0f'.repeat(32)}`, true],
  ])('isWellFormedToken(runner, %j) = %s', (token, ok) => {
    expect(isWellFormedToken('runner', token)).toBe(ok);
  });

  it('reads bearer tokens', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
