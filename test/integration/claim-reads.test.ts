import type { JobSummary, JobView, ReportView, RunAccepted } from '../../common/schemas';
import { CLAIM_TOKEN_HEADER, generateToken } from '../../common/tokens';
import { issueClaimToken } from '../../db/organizations';
import { createUser } from '../../db/seed';
import { Stack } from '../harness/stack';

const REDACTED = "the job's error is shown to members of its project's organization";

/**
 * An anonymous submitter is nobody's member: its claim token, sent as X-Benchline-Claim-Token,
 * shows it its own jobs and reports as a member sees them, until its organization is claimed.
 */
describe('reads with the claim token of an anonymous submission', () => {
  let stack: Stack;
  let slug: string;
  let accepted: RunAccepted;
  let claimToken: string;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
    const image = await stack.pushImage('anon-exit3', { entrypoint: ['/bin/sh', '-c', 'echo "boom: anonymous disk on fire" >&2; exit 3'] });
    slug = `anon-reads-${stack.id}`;
    const submitted = await stack.request<RunAccepted>('POST', '/v0/run', { project: slug, branch: 'main', testbed: 'ci', adapter: 'json', job: { image, spec: stack.spec.slug } }, null);
    expect(submitted.status).toBe(202);
    accepted = submitted.body;
    claimToken = accepted.claim!.claim_token;
    expect((await stack.waitForJob(accepted.job)).status).toBe('failed');
  });
  afterAll(() => stack?.stop());

  /** A GET as an anonymous caller, with the claim header when `claim` is given. */
  async function read<T>(path: string, claim?: string): Promise<{ status: number; body: T; text: string }> {
    const response = await fetch(`${stack.apiUrl}${path}`, { headers: claim === undefined ? {} : { [CLAIM_TOKEN_HEADER]: claim } });
    const text = await response.text();
    const json = response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined;
    return { status: response.status, body: json as T, text };
  }
  /** The job's error in its view, its project's list and its report, as `claim` shows them. */
  async function errors(claim?: string) {
    const [view, list, report] = await Promise.all([
      read<JobView>(`/v0/projects/${slug}/jobs/${accepted.job}`, claim),
      read<JobSummary[]>(`/v0/projects/${slug}/jobs`, claim),
      read<ReportView>(`/v0/projects/${slug}/reports/${accepted.report}`, claim),
    ]);
    expect([view.status, list.status, report.status]).toEqual([200, 200, 200]);
    return { view: view.body.error, list: list.body.find((j) => j.uuid === accepted.job)!.error, report: report.body.job_error, jobView: view.body, reportView: report.body };
  }
  const stderr = (claim?: string) => read(`/v0/projects/${slug}/jobs/${accepted.job}/outputs/stderr`, claim);

  it('the holder sees the real error, the config and the output; a request without it sees the redacted view', async () => {
    const holder = await errors(claimToken);
    expect(holder).toMatchObject({ view: 'the benchmark exited with code 3', list: 'the benchmark exited with code 3', report: 'the benchmark exited with code 3' });
    expect(holder.jobView).toMatchObject({ spec: stack.spec.slug, config: expect.objectContaining({ image: expect.stringContaining('anon-exit3') }) });
    expect(holder.reportView.settings).toBeDefined();
    expect(await stderr(claimToken)).toMatchObject({ status: 200, text: 'boom: anonymous disk on fire\n' });

    const nobody = await errors();
    expect(nobody).toMatchObject({ view: REDACTED, list: REDACTED, report: REDACTED });
    expect(nobody.jobView).not.toHaveProperty('config');
    expect(nobody.reportView).not.toHaveProperty('settings');
    // Output is private: to others it is missing, not forbidden.
    expect((await stderr()).status).toBe(404);
  });

  it('the token is looked up once per request that sends it, never for one that does not', async () => {
    const lookups = async (claim?: string) => {
      const seen: string[] = [];
      const onQuery = (q: { sql: string }) => q.sql.includes('claim_token_hash') && seen.push(q.sql);
      stack.db.on('query', onQuery);
      try {
        await errors(claim);
      } finally {
        stack.db.removeListener('query', onQuery);
      }
      return seen.length;
    };
    // errors() makes three requests.
    expect(await lookups()).toBe(0);
    expect(await lookups(claimToken)).toBe(3);
  });

  it('a wrong or malformed token is a 401 that names neither the token nor the project', async () => {
    for (const wrong of [generateToken('claim'), 'benchline_claim_not-hex', `${claimToken}x`]) {
      const answers = await Promise.all([
        read<{ message: string }>(`/v0/projects/${slug}/jobs/${accepted.job}`, wrong),
        read<{ message: string }>(`/v0/projects/${slug}/reports/${accepted.report}`, wrong),
        read<{ message: string }>(`/v0/projects/nothing-${stack.id}/jobs`, wrong),
        stderr(wrong),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(401);
        expect(answer.text).not.toContain(wrong);
        expect(answer.text).not.toContain(slug);
      }
    }
  });

  it("another unclaimed organization's token is valid but shows this project as anyone sees it", async () => {
    const other = await stack.tenant('anon-other', { plan: 'free', claimed: false });
    const { organization_id: otherOrg } = await stack.db('project').where({ slug: other.project }).first('organization_id');
    const theirs = await issueClaimToken(stack.db, otherOrg);
    expect(await errors(theirs)).toMatchObject({ view: REDACTED, list: REDACTED, report: REDACTED });
    expect((await stderr(theirs)).status).toBe(404);
  });

  it('cancel takes the claim token in the header as well as in the body', async () => {
    // The job has failed: a caller allowed to cancel it is told so (409), anyone else is refused first (403).
    const cancel = (headers: Record<string, string>) =>
      fetch(`${stack.apiUrl}/v0/projects/${slug}/jobs/${accepted.job}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
    expect((await cancel({})).status).toBe(403);
    expect((await cancel({ [CLAIM_TOKEN_HEADER]: claimToken })).status).toBe(409);
  });

  it('the OpenAPI document declares the claim header on the reads of jobs (and their changes), reports and outputs only (no anonymous submitter has a pipeline)', async () => {
    const doc = (await read<{ components: { securitySchemes: Record<string, unknown> }; paths: Record<string, Record<string, { security: unknown[] }>> }>('/v0/openapi.json')).body;
    expect(doc.components.securitySchemes.claim).toMatchObject({ type: 'apiKey', in: 'header', name: CLAIM_TOKEN_HEADER });
    const claimable = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).filter(([, op]) => op.security?.some((s) => 'claim' in (s as object))).map(([method]) => `${method} ${path}`));
    expect(claimable.sort()).toEqual([
      'get /v0/projects/{project}/job-changes',
      'get /v0/projects/{project}/jobs',
      'get /v0/projects/{project}/jobs/{job}',
      'get /v0/projects/{project}/jobs/{job}/outputs/{kind}',
      'get /v0/projects/{project}/reports/{report}',
      'post /v0/projects/{project}/jobs/{job}/cancel',
    ]);
  });

  // Last: claiming spends the token.
  it('once the organization is claimed the claim token grants nothing; its new leader sees what it saw', async () => {
    const claimer = await createUser(stack.db, { slug: `claimer-${stack.id}` });
    const claimed = await stack.request('POST', `/v0/organizations/${accepted.claim!.organization}/claim`, { claim_token: claimToken }, claimer.token);
    expect(claimed.status).toBe(200);
    expect((await read(`/v0/projects/${slug}/jobs/${accepted.job}`, claimToken)).status).toBe(401);
    expect((await read(`/v0/projects/${slug}/reports/${accepted.report}`, claimToken)).status).toBe(401);
    expect((await stderr(claimToken)).status).toBe(401);
    const asLeader = await stack.request<JobView>('GET', `/v0/projects/${slug}/jobs/${accepted.job}`, undefined, claimer.token);
    expect(asLeader.body.error).toBe('the benchmark exited with code 3');
  });
});
