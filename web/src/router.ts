import { useEffect, useState } from 'preact/hooks';

/** Client routes live in the URL (path and query), so every view can be shared and the back button works. */
export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useLocation(): { path: string; params: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const changed = () => setTick((t) => t + 1);
    addEventListener('popstate', changed);
    return () => removeEventListener('popstate', changed);
  }, []);
  return { path: location.pathname, params: new URLSearchParams(location.search) };
}

/** Follows same-origin links through the router instead of reloading the page. */
export function onLinkClick(event: MouseEvent): void {
  const link = (event.target as Element).closest?.('a');
  if (!link || link.target || link.origin !== location.origin || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  if (!link.pathname.startsWith('/projects') && link.pathname !== '/' && link.pathname !== '/runners') return;
  event.preventDefault();
  navigate(link.pathname + link.search);
}
