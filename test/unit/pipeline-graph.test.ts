import { FieldError } from '../../common/field-error';
import { pipelineNeeds, type GraphJob } from '../../common/pipeline-graph';

const job = (key: string, ...needs: string[]): GraphJob => ({ key, needs: needs.map((n) => ({ job: n })) });

function refusal(jobs: GraphJob[]): FieldError {
  try {
    pipelineNeeds(jobs);
  } catch (err) {
    if (err instanceof FieldError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('pipeline graph', () => {
  it('answers each job’s needs as indices', () => {
    expect(pipelineNeeds([job('build'), job('x86', 'build'), job('arm', 'build'), job('compare', 'x86', 'arm')])).toEqual([[], [0], [0], [1, 2]]);
  });

  it('names a cycle of any length, in order, even behind jobs that are not in it', () => {
    expect(refusal([job('a', 'c'), job('b', 'a'), job('c', 'b')]).message).toBe('body.jobs: the needs form a cycle: a → c → b → a (each job needs the next)');
    expect(refusal([job('root'), job('tail', 'x'), job('x', 'y', 'root'), job('y', 'x')]).message).toMatch(/cycle: (x → y → x|y → x → y) /);
  });

  it('refuses duplicate keys, unknown and repeated needs and self-edges, naming the field', () => {
    expect(refusal([job('a'), job('a')]).field).toBe('body.jobs[1].key');
    expect(refusal([job('a', 'nope')]).field).toBe('body.jobs[0].needs[0].job');
    expect(refusal([job('a'), job('b', 'a', 'a')]).field).toBe('body.jobs[1].needs[1].job');
    const self = refusal([job('a'), job('b', 'b')]);
    expect([self.field, self.message]).toEqual(['body.jobs[1].needs[0].job', 'body.jobs[1].needs[0].job: job "b" cannot need itself']);
  });

  it('takes a 500-job DAG in a few milliseconds', () => {
    const jobs = Array.from({ length: 500 }, (_, i) => job(`j${i}`, ...(i ? [`j${Math.floor(i / 2)}`, `j${i - 1}`].filter((v, k, a) => a.indexOf(v) === k) : [])));
    const started = performance.now();
    expect(pipelineNeeds(jobs)).toHaveLength(500);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
