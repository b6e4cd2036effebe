import { useEffect, useState } from 'preact/hooks';
import { apiGet, type Page } from './api';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; message: string; status: number } | { state: 'ok'; data: Page<T> };

/**
 * GET `path` whenever it changes; until its own answer comes, it is loading (never an older path's answer).
 * With `refreshMs`, it is fetched again that often while the tab is visible, and each answer replaces the
 * last in place: live views re-render only what changed, with no reload and no "loading" flash.
 */
export function useApi<T>(path: string | null, refreshMs?: number): Loaded<T> {
  const [loaded, setLoaded] = useState<{ path: string; result: Loaded<T> } | null>(null);
  useEffect(() => {
    if (path === null) return;
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = (): unknown =>
      apiGet<T>(path)
        .then(
          (data) => current && setLoaded({ path, result: { state: 'ok', data } }),
          (err) => current && setLoaded({ path, result: { state: 'error', message: err.message, status: err.status ?? 0 } }),
        )
        // One request at a time: the next is scheduled only once this one has answered.
        .finally(() => {
          if (current && refreshMs) timer = setTimeout(function tick() { if (document.hidden) timer = setTimeout(tick, refreshMs); else load(); }, refreshMs);
        });
    load();
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [path, refreshMs]);
  return loaded && loaded.path === path ? loaded.result : { state: 'loading' };
}

export function Status({ of }: { of: Loaded<unknown> }) {
  if (of.state === 'loading') return <p class="loading">Loading…</p>;
  if (of.state === 'error') return <p class="error">{of.status === 404 ? 'Not found (or not visible to you: sign in with a token of its organization).' : of.message}</p>;
  return null;
}
