import { isDatabaseUnavailable } from '../../db/unavailable';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
const timeout = Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED'), true],
    ['refused on every address', Object.assign(new AggregateError([withCode('ECONNREFUSED')]), {}), true],
    ['admin shutdown (57P01)', withCode('57P01', 'terminating connection due to administrator command'), true],
    ['cannot connect now (57P03)', withCode('57P03', 'the database system is starting up'), true],
    ['connection exception class 08', withCode('08006'), true],
    ['too many connections', withCode('53300'), true],
    ['pool acquire timeout', timeout, true],
    ['connection terminated mid-query', new Error('Connection terminated unexpectedly'), true],
    ['a client whose connection broke, used again', new Error('Client has encountered a connection error and is not queryable'), true],
    ['a unique violation', withCode('23505'), false],
    ['a syntax error', withCode('42601'), false],
    ['a plain error', new Error('boom'), false],
    ['not an error', 'ECONNREFUSED', false],
  ])('%s → %s', (_name, err, expected) => {
    expect(isDatabaseUnavailable(err)).toBe(expected);
  });
});
