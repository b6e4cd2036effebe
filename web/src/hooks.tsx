import { useEffect, useState } from 'preact/hooks';
import { apiGet, type Page } from './api';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; message: string; status: number } | { state: 'ok'; data: Page<T> };

/** GET `path` whenever it changes; an older answer arriving late never replaces a newer one. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    if (path === null) return;
    let current = true;
    apiGet<T>(path).then(
      (data) => current && setLoaded({ state: 'ok', data }),
      (err) => current && setLoaded({ state: 'error', message: err.message, status: err.status ?? 0 }),
    );
    return () => {
      current = false;
    };
  }, [path]);
  return loaded;
}

export function Status({ of }: { of: Loaded<unknown> }) {
  if (of.state === 'loading') return <p class="loading">Loading…</p>;
  if (of.state === 'error') return <p class="error">{of.status === 404 ? 'Not found (or not visible to you: sign in with a token of its organization).' : of.message}</p>;
  return null;
}
