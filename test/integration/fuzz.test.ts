import { createRunner } from '../../db/seed';
import { fuzz } from '../../devenv/fuzz';
import { Stack } from '../harness/stack';

/**
 * The short `npm run fuzz`: schemathesis, every check, the fuzzing and stateful phases, from the api's
 * own OpenAPI document, against the real stack with a member's token and a runner's token. No 5xx,
 * no check failing: the document matches the server.
 */
describe('fuzzing the api from its OpenAPI document', () => {
  let stack: Stack;
  let runner: { slug: string; token: string };
  beforeAll(async () => {
    // Images only from the test registry: the fuzzer names random registries, and the orchestrator
    // must not go looking for them.
    stack = await Stack.start({ allowedRegistries: [process.env.BENCHLINE_TEST_REGISTRY!] });
    const created = await createRunner(stack.db, { slug: `fuzz-${stack.id}`, specIds: [stack.spec.id], seen: true });
    runner = { slug: created.runner.slug, token: created.token };
  });
  afterAll(() => stack?.stop());

  it('1,000 requests: no 5xx, no failed check', async () => {
    const result = await fuzz({
      apiUrl: stack.apiUrl,
      // A member, not a server admin: this database is shared with the other test files.
      token: stack.userToken,
      runnerToken: runner.token,
      parameters: { organization: `org-${stack.id}`, project: stack.project.slug, runner: runner.slug, spec: stack.spec.slug },
      requests: 1000,
      // Not the coverage phase: it alone takes about 100 s; `npm run fuzz` runs it.
      phases: ['examples', 'fuzzing', 'stateful'],
    });
    if (result.failures || result.errors || result.serverErrors) console.log(result.summary);
    expect(result.requests).toBeGreaterThanOrEqual(1000);
    expect({ serverErrors: result.serverErrors, failures: result.failures, errors: result.errors }).toEqual({ serverErrors: 0, failures: 0, errors: 0 });
  }, 300_000);
});
