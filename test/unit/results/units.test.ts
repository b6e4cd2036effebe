import { NUMBER_PATTERN, isTimeUnit, outputLines, parseNumber, siPrefixFactor, stripAnsi, toNanoseconds, toOpsPerSecond } from '../../../results/units';

describe('parseNumber', () => {
  test.each([
    ['1,234', 1234],
    ['1,234,567.89', 1234567.89],
    ['161,638.25', 161638.25],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['3.3762388731228185E9', 3376238873.1228185],
    ['-2.5e-3', -0.0025],
    [' 42 ', 42],
  ])('%s → %d', (text, expected) => expect(parseNumber(text)).toBe(expected));

  test.each(['', 'abc', '1.2.3', '12ms', 'NaN'])('%s is not a number', (text) => expect(parseNumber(text)).toBeNaN());

  test('the shared pattern takes thousands groups but not a comma-separated list', () => {
    const whole = new RegExp(`^(?:${NUMBER_PATTERN})$`);
    expect(whole.test('1,234,567.8')).toBe(true);
    expect(whole.test('12,34')).toBe(false);
    expect(whole.test('1, 2')).toBe(false);
  });
});

describe('time units', () => {
  test.each([
    ['ps', 1500, 1.5],
    ['ns', 12, 12],
    ['us', 1.5, 1500],
    ['µs', 1.5, 1500], // U+00B5 micro sign
    ['μs', 1.5, 1500], // U+03BC Greek mu, which asv and Catch2 print
    ['ms', 2, 2e6],
    ['s', 0.25, 2.5e8],
    ['min', 1, 6e10],
  ])('%s', (unit, value, ns) => {
    expect(isTimeUnit(unit)).toBe(true);
    expect(toNanoseconds(value, unit)).toBeCloseTo(ns, 9);
  });

  test('an unknown unit throws rather than guessing', () => {
    expect(isTimeUnit('fortnights')).toBe(false);
    expect(() => toNanoseconds(1, 'fortnights')).toThrow(RangeError);
  });

  test('rates per time unit become per second', () => {
    expect(toOpsPerSecond(1523.4, 'ms')).toBeCloseTo(1523400, 6);
    expect(toOpsPerSecond(2, 'us')).toBeCloseTo(2e6, 6);
    expect(toOpsPerSecond(7, 's')).toBe(7);
    expect(siPrefixFactor('G')).toBe(1e9);
    expect(siPrefixFactor('X')).toBeUndefined();
  });
});

test('output lines lose CRLF endings and ANSI colour', () => {
  expect(stripAnsi('\u001b[32mok\u001b[0m \u001b[1;34m10\u001b[0m')).toBe('ok 10');
  expect(outputLines('a\r\nb\nc\rd')).toEqual(['a', 'b', 'c', 'd']);
});
