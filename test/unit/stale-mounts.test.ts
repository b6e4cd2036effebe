import { mountPointsUnder } from '../../runner/stale-mounts';

describe('mountPointsUnder', () => {
  const table = [
    'proc /proc proc rw 0 0',
    'overlay /cache/jobs/a-1/merged overlay rw,lowerdir=x 0 0',
    'overlay /cache/jobs/with\\040space/merged overlay rw 0 0',
    'tmpfs /cache/jobs/a-1/merged/tmp tmpfs rw 0 0',
    'overlay /cache-other/jobs/b/merged overlay rw 0 0',
    '',
  ].join('\n');

  it('finds mounts below the root only, newest first, with escapes decoded', () => {
    expect(mountPointsUnder(table, '/cache/jobs')).toEqual(['/cache/jobs/a-1/merged/tmp', '/cache/jobs/with space/merged', '/cache/jobs/a-1/merged']);
    expect(mountPointsUnder(table, '/cache/jobs/')).toHaveLength(3);
    expect(mountPointsUnder(table, '/nowhere')).toEqual([]);
  });
});
