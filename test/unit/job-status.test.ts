import { canTransition, isTerminal, JOB_STATUSES, sourcesOf, type JobStatus } from '../../common/contracts';

/** The whole table, written out: every pair not listed here must be refused. */
const VALID: [JobStatus, JobStatus][] = [
  ['scheduled', 'pending'], ['scheduled', 'failed'], ['scheduled', 'canceled'], ['scheduled', 'skipped'],
  ['pending', 'claimed'], ['pending', 'failed'], ['pending', 'canceled'], ['pending', 'skipped'],
  ['claimed', 'claimed'], ['claimed', 'running'], ['claimed', 'failed'], ['claimed', 'canceled'],
  ['running', 'claimed'], ['running', 'completed'], ['running', 'failed'], ['running', 'canceled'],
  ['completed', 'processed'], ['completed', 'failed'], ['completed', 'canceled'],
];

describe('job state machine', () => {
  const pairs = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as [JobStatus, JobStatus]));

  it.each(pairs)('%s → %s is allowed exactly when the table says so', (from, to) => {
    const expected = VALID.some(([f, t]) => f === from && t === to);
    expect(canTransition(from, to)).toBe(expected);
    expect(sourcesOf(to).includes(from)).toBe(expected);
  });

  it('processed, failed, canceled and skipped are terminal; nothing else is', () => {
    expect(JOB_STATUSES.filter(isTerminal)).toEqual(['processed', 'failed', 'canceled', 'skipped']);
  });
});
