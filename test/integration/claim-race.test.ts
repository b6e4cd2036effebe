import { randomUUID } from 'node:crypto';
import { hashToken } from '../../common/tokens';
import { createRunner } from '../../db/seed';
import { RunnerApi, RunnerApiError } from '../../runner/api-client';
import { Stack } from '../harness/stack';

describe('claiming', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
  });
  afterAll(() => stack?.stop());

  it('two runners racing for one job: exactly one wins, every time', async () => {
    const runners = await Promise.all(
      ['a', 'b'].map(async (n) => {
        const slug = `race-${n}-${stack.id}`;
        const { token } = await createRunner(stack.db, { slug, specIds: [stack.spec.id], seen: true });
        return new RunnerApi(stack.apiUrl, slug, token);
      }),
    );
    const report = await stack.db('report').insert({ project_id: stack.project.id, branch_id: (await stack.db('branch').insert({ project_id: stack.project.id, slug: 'race', name: 'race' }).returning('id'))[0].id, testbed_id: (await stack.db('testbed').where({ project_id: stack.project.id, slug: 'ci' }).first()).id, adapter: 'json' }).returning('id');
    const winners: number[] = [];
    for (let round = 0; round < 40; round++) {
      // A ready job (spec and digest resolved, attempt 1's ticket issued), inserted directly: the race is
      // between two claims presenting the same (leaked) ticket alone.
      const ticket = randomUUID();
      const [job] = await stack.db('job')
        .insert({
          report_id: round === 0 ? report[0].id : (await stack.db('report').insert({ project_id: stack.project.id, branch_id: (await stack.db('branch').where({ slug: 'race' }).first()).id, testbed_id: (await stack.db('testbed').where({ project_id: stack.project.id, slug: 'ci' }).first()).id, adapter: 'json' }).returning('id'))[0].id,
          project_id: stack.project.id,
          organization_id: stack.project.organization_id,
          spec_id: stack.spec.id,
          status: 'pending', tier: 'paid', priority: 1, timeout_seconds: 60, source_ip: '127.0.0.1',
          config: { image: `${stack.registry}/x/y:1` },
          image_digest: `sha256:${'0'.repeat(64)}`,
          claim_ticket_hash: hashToken(ticket), claim_ticket_attempt: 1,
        })
        .returning('id');
      const results = await Promise.allSettled(runners.map((r) => r.claim(job.id, { ticket })));
      const won = results.filter((r) => r.status === 'fulfilled').length;
      winners.push(won);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as RunnerApiError).status).toBe(403);
    }
    expect(winners).toEqual(Array(40).fill(1));
  });
});
