import { useEffect, useRef, useState } from 'preact/hooks';
import type { JobChanges } from '../../common/schemas';
import { apiGet, projectPath, query, type Page } from './api';
import type { Loaded } from './hooks';

/** How often a live view asks what changed: one small indexed query when nothing did. */
export const REFRESH_MS = 1500;

export interface LiveJobs<T> {
  /** The jobs shown as waiting, whose queue positions to ask for (they move without their own row changing). */
  queued: (data: T) => string[];
  /** The data with the changes merged in (the same object when nothing shown changed), or 'reload' to GET it again. */
  merge: (data: Page<T>, changes: JobChanges) => Page<T> | 'reload';
  /** True once nothing shown can change any more: polling stops. */
  done?: (data: T) => boolean;
}

/**
 * GET `path` (a job list or a job) once, then keep it live from the project's job-changes: the
 * cursor is taken before the first load, so a change committed while it loads is still returned by
 * the first poll (merging a job twice is harmless). Reloads only when `merge` asks or more changed
 * than one answer holds. One request at a time; none while the tab is hidden.
 */
export function useLiveJobs<T>(project: string, path: string | null, live: LiveJobs<T>): Loaded<T> {
  const [loaded, setLoaded] = useState<{ path: string; result: Loaded<T> } | null>(null);
  // The latest callbacks without restarting the loop on every render.
  const callbacks = useRef(live);
  callbacks.current = live;
  useEffect(() => {
    if (path === null) return;
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cursor = '';
    let data: Page<T>;
    const changes = (params: Record<string, string | string[]>) => apiGet<JobChanges>(`${projectPath(project)}/job-changes${query(params)}`).then((p) => p.rows);
    const show = (result: Loaded<T>) => current && setLoaded({ path, result });
    const poll = async () => {
      if (!current) return;
      if (!document.hidden) {
        try {
          const answer = await changes({ since: cursor, queued: callbacks.current.queued(data.rows) });
          const merged = answer.complete ? callbacks.current.merge(data, answer) : 'reload';
          const next = merged === 'reload' ? await apiGet<T>(path) : merged;
          // The answer's cursor was read before any reload, so nothing between them is skipped.
          cursor = answer.cursor;
          if (next !== data) show({ state: 'ok', data: (data = next) });
        } catch {
          // A failed poll (the api restarting, a network blip) is tried again at the next tick; the view stays.
        }
      }
      if (current && !callbacks.current.done?.(data.rows)) timer = setTimeout(poll, REFRESH_MS);
    };
    (async () => {
      cursor = (await changes({})).cursor;
      data = await apiGet<T>(path);
      show({ state: 'ok', data });
    })().then(
      () => current && !callbacks.current.done?.(data.rows) && (timer = setTimeout(poll, REFRESH_MS)),
      (err) => show({ state: 'error', message: err.message, status: err.status ?? 0 }),
    );
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [project, path]);
  return loaded && loaded.path === path ? loaded.result : { state: 'loading' };
}
