import type { JobChanges, JobListItem } from '../../common/schemas';
import { mergeJobChanges } from '../../web/src/job-merge';

/** The Jobs page merges job changes into the page it shows, in the api's order, without reloading it. */
describe('mergeJobChanges', () => {
  const job = (n: number, status: JobListItem['status'] = 'pending', queue_position: number | null = null): JobListItem =>
    ({ uuid: `00000000-0000-4000-8000-00000000000${n}`, created: `2026-01-01T00:00:0${n}.000Z`, status, queue_position }) as JobListItem;
  const changes = (jobs: JobListItem[], positions: Array<[JobListItem, number]> = []): JobChanges => ({
    cursor: '1:1:', complete: true, jobs, queue_positions: positions.map(([j, position]) => ({ job: j.uuid, position })),
  });

  it('keeps the same page when nothing shown changed', () => {
    const page = { rows: [job(3, 'running'), job(2, 'processed')], total: 2 };
    expect(mergeJobChanges(page, changes([]), 2)).toBe(page);
  });

  it('replaces changed jobs in place, adds new ones in order, and counts them', () => {
    const page = { rows: [job(3, 'pending', 0), job(1, 'pending', 1)], total: 2 };
    const merged = mergeJobChanges(page, changes([job(3, 'running'), job(5), job(4)], [[job(1), 0], [job(5), 2], [job(4), 1]]), 10);
    expect(merged.rows.map((j) => [j.uuid.slice(-1), j.status, j.queue_position])).toEqual([
      ['5', 'pending', 2], ['4', 'pending', 1], ['3', 'running', null], ['1', 'pending', 0],
    ]);
    expect(merged.total).toBe(4);
  });

  it('takes a new job onto a full page only where it sorts into it, keeping the page size', () => {
    const page = { rows: [job(5), job(4)], total: 5 };
    // 3 changed but sorts after the page (it is on the next one); 6 is new and newest.
    const merged = mergeJobChanges(page, changes([job(3, 'running'), job(6)]), 2);
    expect(merged.rows.map((j) => j.uuid.slice(-1))).toEqual(['6', '5']);
    expect(merged.total).toBe(6);
  });

  it('moves queue positions of jobs whose own rows did not change, and clears them once they run', () => {
    const page = { rows: [job(2, 'pending', 1), job(1, 'pending', 0)], total: 2 };
    const merged = mergeJobChanges(page, changes([job(1, 'claimed')], [[job(2), 0]]), 2);
    expect(merged.rows.map((j) => [j.status, j.queue_position])).toEqual([['pending', 0], ['claimed', null]]);
  });
});
