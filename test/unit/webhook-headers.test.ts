import { headerTemplatesProblem, interpolateHeaders, signatureHeader, verifySignature } from '../../common/webhook-headers';
import { webhookRetryFromEnv } from '../../common/webhook-retry';
import { DEFAULT_WEBHOOK_RETRY } from '../../common/contracts';

describe('webhook header templates', () => {
  it('accepts known placeholders and plain values', () => {
    expect(headerTemplatesProblem({ 'X-Build': '{{job.branch}}-{{ job.testbed }}', Authorization: 'Bearer abc' })).toBeUndefined();
  });

  it.each([
    [{ 'X-A': '{{job.secret}}' }, 'headers.X-A', /unknown placeholder \{\{job\.secret\}\}/],
    [{ 'X-A': '{{constructor.name}}' }, 'headers.X-A', /unknown placeholder/],
    [{ 'X-A': 'a\nb' }, 'headers.X-A', /printable ASCII/],
    [{ 'X-A': 'é' }, 'headers.X-A', /printable ASCII/],
    [{ 'Bad Name': 'x' }, 'headers.Bad Name', /header name/],
    [{ 'content-length': '1' }, 'headers.content-length', /set by the delivery/],
    [{ 'BENCHLINE-Signature': 'x' }, 'headers.BENCHLINE-Signature', /set by the delivery/],
    [{ 'x-a': '1', 'X-A': '2' }, 'headers.X-A', /given twice/],
    [{ 'X-A': 'x'.repeat(1025) }, 'headers.X-A', /at most 1024/],
    [Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`X-${i}`, 'v'])), 'headers', /at most 16/],
  ])('refuses %j', (headers, field, reason) => {
    const problem = headerTemplatesProblem(headers);
    expect(problem?.field).toBe(field);
    expect(problem?.reason).toMatch(reason);
  });

  it('fills fields in, missing ones empty, and keeps each value one printable line', () => {
    expect(interpolateHeaders({ 'X-B': '{{job.branch}}/{{job.spec}}', 'X-P': '<{{pipeline.id}}>' }, { 'job.branch': 'main\r\nX-Evil: 1', 'job.spec': 'ci' })).toEqual({
      'X-B': 'mainX-Evil: 1/ci',
      'X-P': '<>',
    });
  });
});

describe('webhook signatures', () => {
  const body = '{"id":"job-1-processed"}';
  it('verifies what it signs, and nothing else', () => {
    const header = signatureHeader('whsec_k', 1_700_000_000, body);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature('whsec_k', header, body, 1_700_000_010)).toBe(true);
    expect(verifySignature('whsec_k', header, `${body} `, 1_700_000_010)).toBe(false);
    expect(verifySignature('whsec_other', header, body, 1_700_000_010)).toBe(false);
    // Replayed later than the tolerance.
    expect(verifySignature('whsec_k', header, body, 1_700_001_000)).toBe(false);
    expect(verifySignature('whsec_k', 'garbage', body, 1_700_000_010)).toBe(false);
  });
});

describe('webhook retry settings', () => {
  it('reads the environment over the defaults and refuses nonsense', () => {
    expect(webhookRetryFromEnv({})).toEqual(DEFAULT_WEBHOOK_RETRY);
    expect(webhookRetryFromEnv({ BENCHLINE_WEBHOOK_MAX_ATTEMPTS: '3', BENCHLINE_WEBHOOK_INITIAL_INTERVAL_MS: '100' })).toMatchObject({ maximumAttempts: 3, initialIntervalMs: 100 });
    expect(() => webhookRetryFromEnv({ BENCHLINE_WEBHOOK_MAX_ATTEMPTS: '0' })).toThrow(/BENCHLINE_WEBHOOK_MAX_ATTEMPTS/);
    expect(() => webhookRetryFromEnv({ BENCHLINE_WEBHOOK_BACKOFF_COEFFICIENT: 'fast' })).toThrow(/BENCHLINE_WEBHOOK_BACKOFF_COEFFICIENT/);
  });
});
