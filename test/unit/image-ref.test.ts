import { parseImageRef } from '../../common/image-ref';

describe('parseImageRef', () => {
  it.each([
    ['127.0.0.1:5000/demo/bench:latest', { registry: '127.0.0.1:5000', repository: 'demo/bench', tag: 'latest' }],
    ['localhost/x', { registry: 'localhost', repository: 'x', tag: 'latest' }],
    ['ubuntu', { registry: 'registry-1.docker.io', repository: 'library/ubuntu', tag: 'latest' }],
    ['ghcr.io/org/bench:v1.2', { registry: 'ghcr.io', repository: 'org/bench', tag: 'v1.2' }],
    [`r.io/a@sha256:${'a'.repeat(64)}`, { registry: 'r.io', repository: 'a', digest: `sha256:${'a'.repeat(64)}` }],
  ])('%s', (input, expected) => {
    expect(parseImageRef(input)).toEqual(expect.objectContaining(expected));
  });

  it.each(['r.io/UPPER:tag', 'r.io/a:bad tag', 'r.io/a@sha256:short', 'r.io/'])('refuses %s', (input) => {
    expect(() => parseImageRef(input)).toThrow(input);
  });
});
