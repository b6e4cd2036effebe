import { MAX_INPUT_DEPTH } from '../../api/input-text';
import { createRunner } from '../../db/seed';
import { registrationBody } from '../harness/fleet';
import { Stack } from '../harness/stack';

/**
 * Input the database cannot store (NUL, unpaired surrogates) is refused as a 400 naming the field,
 * in every input family, authenticated or not; routing answers 405 and 414 rather than 404.
 */
describe('input the database refuses', () => {
  let stack: Stack;
  let runner: { slug: string; token: string };
  beforeAll(async () => {
    stack = await Stack.start();
    const created = await createRunner(stack.db, { slug: `input-${stack.id}`, specIds: [stack.spec.id], seen: true });
    runner = { slug: created.runner.slug, token: created.token };
  });
  afterAll(() => stack?.stop());

  const NUL = '\u0000';
  const run = (job: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    project: stack.project.slug, branch: 'main', testbed: 'ci', ...extra, job: { image: `${stack.registry}/x/y:1`, ...job },
  });
  /** A run without its project: a pipeline's job or a schedule's template. */
  const projectless = (job: Record<string, unknown>) => {
    const { project: _project, ...rest } = run(job);
    return rest;
  };
  const project = () => `/v0/projects/${stack.project.slug}`;
  const ANY_UUID = '00000000-0000-4000-8000-000000000000';

  type Case = [name: string, field: string, request: () => [method: string, path: string, body: unknown, token: 'user' | 'runner' | null]];
  const cases: Case[] = [
    ['path parameter', 'params.project', () => ['GET', `/v0/projects/a%00b`, undefined, 'user']],
    ['path parameter, anonymous', 'params.project', () => ['GET', `/v0/projects/a%00b/jobs`, undefined, null]],
    ['query parameter', 'querystring.branch', () => ['GET', `/v0/projects/${stack.project.slug}/alerts?branch=%00`, undefined, 'user']],
    ['job.image', 'body.job.image', () => ['POST', '/v0/run', run({ image: `x${NUL}` }), 'user']],
    ['job.cmd', 'body.job.cmd.1', () => ['POST', '/v0/run', run({ cmd: ['ok', `a${NUL}b`] }), 'user']],
    ['job.entrypoint, anonymous', 'body.job.entrypoint.0', () => ['POST', '/v0/run', run({ entrypoint: [NUL] }), null]],
    ['job.env value', 'body.job.env.A', () => ['POST', '/v0/run', run({ env: { A: `x${NUL}` } }), 'user']],
    ['job.env key', 'body.job.env', () => ['POST', '/v0/run', run({ env: { [`A${NUL}`]: 'x' } }), 'user']],
    ['job.file_paths', 'body.job.file_paths.0', () => ['POST', '/v0/run', run({ file_paths: [`/out${NUL}`] }), 'user']],
    ['branch name', 'body.branch', () => ['POST', '/v0/run', run({}, { branch: `main${NUL}` }), 'user']],
    ['testbed name', 'body.testbed', () => ['POST', '/v0/run', run({}, { testbed: `ci${NUL}` }), 'user']],
    ['idempotency key', 'body.idempotency_key', () => ['POST', '/v0/run', run({}, { idempotency_key: `k${NUL}` }), 'user']],
    ['unpaired surrogate', 'body.job.env.A', () => ['POST', '/v0/run', run({ env: { A: 'x\ud800' } }), 'user']],
    ['results body', 'body.results.0', () => ['POST', `/v0/projects/${stack.project.slug}/reports`, { branch: 'main', testbed: 'ci', results: [`{"b":${NUL}}`] }, 'user']],
    ['results file path', 'body.results.0.files', () => ['POST', `/v0/projects/${stack.project.slug}/reports`, { branch: 'main', testbed: 'ci', results: [{ files: { [`f${NUL}`]: '{}' } }] }, 'user']],
    ['runner registration', 'body.version', () => ['POST', `/v0/runners/${runner.slug}/register`, registrationBody({ version: `1${NUL}` }), 'runner']],
    ['runner registration host facts', 'body.host.cpu.model', () => ['POST', `/v0/runners/${runner.slug}/register`, registrationBody({ host: { cpu: { model: NUL } } }), 'runner']],
    ['runner registration, no token', 'body.version', () => ['POST', `/v0/runners/${runner.slug}/register`, registrationBody({ version: NUL }), null]],
    ['runner registration host name', 'body.hostname', () => ['POST', `/v0/runners/${runner.slug}/register`, registrationBody({ hostname: `h${NUL}` }), 'runner']],
    ['organization name', 'body.name', () => ['POST', '/v0/organizations', { name: `Org${NUL}` }, 'user']],
    ['project name', 'body.name', () => ['POST', `/v0/organizations/org-${stack.id}/projects`, { name: `P${NUL}` }, 'user']],
    ['token name', 'body.name', () => ['POST', '/v0/tokens', { name: `t${NUL}` }, 'user']],
    ['claim token', 'body.claim_token', () => ['POST', `/v0/organizations/org-${stack.id}/claim`, { claim_token: NUL }, 'user']],
    ['pipeline job', 'body.jobs.0.job.cmd.0', () => ['POST', '/v0/pipelines', { project: stack.project.slug, jobs: [{ key: 'a', ...projectless({ cmd: [`a${NUL}`] }) }] }, 'user']],
    ['pipeline action path parameter', 'params.pipeline', () => ['POST', '/v0/pipelines/a%00b/cancel', {}, 'user']],
    ['schedule template', 'body.template.run.job.env.A', () => ['POST', `${project()}/schedules`, { cron: '@daily', template: { kind: 'run', run: projectless({ env: { A: NUL } }) } }, 'user']],
    ['schedule pause note', 'body.note', () => ['POST', `${project()}/schedules/${ANY_UUID}/pause`, { note: `n${NUL}` }, 'user']],
    ['webhook URL', 'body.url', () => ['POST', `${project()}/webhooks`, { url: `https://hooks.example/${NUL}`, events: ['job.completed'] }, 'user']],
    ['webhook header value', 'body.headers.X-Token', () => ['POST', `${project()}/webhooks`, { url: 'https://hooks.example/', events: ['job.completed'], headers: { 'X-Token': `t${NUL}` } }, 'user']],
    ['concurrency rule label', 'body.match.suite', () => ['POST', `${project()}/concurrency-rules`, { match: { suite: `s${NUL}` }, max: 1 }, 'user']],
    ['spec creation (admin)', 'body.name', () => ['POST', '/v0/specs', { name: `S${NUL}`, cpus: 1, memory_mib: 1024, disk_mib: 1024 }, 'user']],
    ['spec update (admin)', 'body.name', () => ['PATCH', `/v0/specs/${stack.spec.slug}`, { name: `S${NUL}` }, 'user']],
    ['runner creation (admin)', 'body.name', () => ['POST', '/v0/runners', { name: `R${NUL}`, specs: [stack.spec.slug] }, 'user']],
    ['runner specs (admin)', 'body.specs.0', () => ['PUT', `/v0/runners/${runner.slug}/specs`, { specs: [`s${NUL}`] }, 'user']],
    ['runner update (admin), anonymous', 'body.name', () => ['PATCH', `/v0/runners/${runner.slug}`, { name: `R${NUL}` }, null]],
  ];

  it.each(cases)('%s: 400 naming %s', async (_name, field, request) => {
    const [method, path, body, who] = request();
    const token = who === 'user' ? stack.userToken : who === 'runner' ? runner.token : null;
    const res = await stack.request<{ error: string; message: string; details: { field: string } }>(method, path, body, token);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('bad_request');
    expect(res.body.details.field).toBe(field);
    expect(res.body.message).toMatch(new RegExp(`^${field.replaceAll('.', '\\.')}: .*(NUL characters|unpaired UTF-16 surrogates)`));
  });

  it('input nested past the depth limit is a 400 naming where, not a stack overflow (500), anonymous or as a runner', async () => {
    // Sent as text: the body is too deep for this side's JSON.stringify too.
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    const post = async (path: string, json: string, token: string | null) => {
      const res = await fetch(`${stack.apiUrl}${path}`, { method: 'POST', body: json, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
      return { status: res.status, body: await res.json() };
    };
    const tooDeep = (field: string, levels: number) => `${field}${'.0'.repeat(levels)}: nested deeper than ${MAX_INPUT_DEPTH} levels`;
    const submission = JSON.stringify(run({ env: '<deep>' })).replace('"<deep>"', deep);
    expect(await post('/v0/run', submission, null)).toMatchObject({ status: 400, body: { message: tooDeep('body.job.env', MAX_INPUT_DEPTH - 1) } });
    // One daemon instance for both: the second registration renews the first's lease.
    const body = JSON.stringify(registrationBody({ host: { cpu: '<host>' } }));
    const register = (host: string) => post(`/v0/runners/${runner.slug}/register`, body.replace('"<host>"', host), runner.token);
    expect(await register(deep)).toMatchObject({ status: 400, body: { message: tooDeep('body.host.cpu', MAX_INPUT_DEPTH - 1) } });
    // Its innermost array exactly at the limit: input like any other.
    const levels = MAX_INPUT_DEPTH - 1;
    expect((await register('['.repeat(levels) + ']'.repeat(levels))).status).toBe(200);
  });

  it('a NUL in a bearer token is refused before the api (never a 500)', async () => {
    // Node's HTTP parser refuses NUL in any header; fetch will not even send one, so use a raw socket.
    const { connect } = await import('node:net');
    const { port } = new URL(stack.apiUrl);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end(`GET /v0/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\u0000b\r\n\r\n`));
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers 405 with Allow for a method a known path does not have, 404 for an unknown path', async () => {
    const res = await fetch(`${stack.apiUrl}/v0/tokens`, { method: 'DELETE', headers: { authorization: `Bearer ${stack.userToken}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    expect(await res.json()).toEqual({ error: 'method_not_allowed', message: 'DELETE is not allowed on /v0/tokens; allowed: GET, HEAD, POST' });
    const params = await fetch(`${stack.apiUrl}/v0/projects/${stack.project.slug}/jobs/x`, { method: 'PUT' });
    expect(params.status).toBe(405);
    expect(params.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${stack.apiUrl}/v0/nothing-here`, { method: 'DELETE' })).status).toBe(404);
  });

  it('checks a long path parameter against its schema (400), and refuses an over-long URL (414)', async () => {
    const long = await stack.request<{ details: unknown }>('GET', `/v0/projects/${'a'.repeat(200)}`);
    expect(long.status).toBe(400);
    expect(long.body.details).toEqual([{ field: 'params.project', message: expect.any(String) }]);
    for (const url of [`/v0/projects/${'a'.repeat(9000)}`, `/v0/projects/x/jobs?status=${'a'.repeat(9000)}`]) {
      const tooLong = await stack.request<{ error: string }>('GET', url);
      expect(tooLong.status).toBe(414);
      expect(tooLong.body.error).toBe('uri_too_long');
    }
    const badlyEncoded = await stack.request<{ error: string }>('GET', '/v0/projects/%E0%A4%A');
    expect(badlyEncoded).toEqual({ status: 400, body: { error: 'bad_request', message: 'the URL is not validly percent-encoded' } });
    // Refused by Node's parser before any route: still the documented error shape (no extra fields).
    const hugeHeaders = await fetch(`${stack.apiUrl}/v0/projects/${stack.project.slug}/jobs`, { headers: { 'x-filler': 'a'.repeat(20000) } });
    expect(hugeHeaders.status).toBe(431);
    expect(await hugeHeaders.json()).toEqual({ error: 'headers_too_large', message: 'the request headers exceed the 16 KiB limit' });
  });

  it('documents security, error statuses and the text rule per operation, as the server behaves', async () => {
    type Operation = { security: Record<string, string[]>[]; responses: Record<string, { content?: object }>; requestBody?: { content: Record<string, { schema: { properties: Record<string, { pattern?: string }> } }> } };
    const doc = (await stack.request<{ security?: unknown; paths: Record<string, Record<string, Operation>> }>('GET', '/v0/openapi.json', undefined, null)).body;
    expect(doc.security).toBeUndefined();
    const op = (method: string, path: string) => doc.paths[path][method];
    // Public, optional token, user token, runner token.
    expect(op('get', '/ready').security).toEqual([]);
    expect(op('post', '/v0/run').security).toEqual([{}, { bearer: [] }]);
    expect(op('get', '/v0/tokens').security).toEqual([{ bearer: [] }]);
    expect(op('post', '/v0/runners/{runner}/register').security).toEqual([{ runner: [] }]);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        // Every operation may meet an unreachable database or an over-long URL.
        expect([path, method, Object.keys(operation.responses)]).toEqual([path, method, expect.arrayContaining(['414', '431', '503'])]);
        if (operation.security.length) expect([path, method, operation.responses['401']]).toEqual([path, method, expect.anything()]);
        if (operation.requestBody) expect([path, method, Object.keys(operation.responses)]).toEqual([path, method, expect.arrayContaining(['400', '413', '415'])]);
        // No Content has no body to describe.
        if (operation.responses['204']) expect(operation.responses['204'].content).toBeUndefined();
      }
    }
    expect(Object.keys(op('post', '/v0/run').responses)).toContain('429');
    expect(op('post', '/v0/run').requestBody!.content['application/json'].schema.properties.idempotency_key.pattern).toBe('^[^\\u0000]*$');
    // The revocation link names the token's UUID, never the secret the creation response carries.
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v0/tokens/{uuid}', '/v0/tokens/{uuid}/revoke']));
    expect(Object.keys(doc.paths).filter((p) => p.includes('{token}'))).toEqual([]);
  });
});
