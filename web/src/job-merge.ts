import type { JobChanges, JobListItem } from '../../common/schemas';

/** A page of the list as the console holds it (api.ts's Page, restated: this module is also tested outside a browser). */
type Page<T> = { rows: T; total: number };

/** The list's order (the api's): newest first, then by uuid. */
const byCreated = (a: JobListItem, b: JobListItem) => (a.created === b.created ? (a.uuid < b.uuid ? -1 : 1) : a.created > b.created ? -1 : 1);

/**
 * Merges job changes into a page of the list: shown jobs are replaced in place, a job that sorts
 * into this page and was not on it is new (it was submitted, or committed, after the page loaded)
 * and joins it, and the waiting jobs take their current queue positions.
 */
export function mergeJobChanges(page: Page<JobListItem[]>, changes: JobChanges, perPage: number): Page<JobListItem[]> {
  const positions = new Map(changes.queue_positions.map((p) => [p.job, p.position]));
  const changed = new Map(changes.jobs.map((j) => [j.uuid, j]));
  const shown = new Set(page.rows.map((j) => j.uuid));
  const last = page.rows.at(-1);
  // A page with room left holds the project's oldest jobs: any job not on it is newer.
  const fresh = changes.jobs.filter((j) => !shown.has(j.uuid) && (page.rows.length < perPage || !last || byCreated(j, last) < 0));
  let touched = fresh.length > 0;
  const current = (row: JobListItem) => {
    const next = changed.get(row.uuid) ?? row;
    const position = next.status === 'pending' ? positions.get(row.uuid) ?? null : null;
    if (next === row && position === row.queue_position) return row;
    touched = true;
    return { ...next, queue_position: position };
  };
  const rows = [...fresh, ...page.rows].map(current);
  if (!touched) return page;
  return { rows: rows.sort(byCreated).slice(0, perPage), total: page.total + fresh.length };
}
