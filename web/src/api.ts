/**
 * The console reads only the API, with the token pasted at sign-in: the same authorisation as any
 * client. The token lives in sessionStorage, so it lasts for this tab's session and no longer.
 */
const TOKEN_KEY = 'benchline.token';

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token: string | null): void => (token ? sessionStorage.setItem(TOKEN_KEY, token) : sessionStorage.removeItem(TOKEN_KEY));

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface Page<T> {
  rows: T;
  total: number;
}

export async function apiGet<T>(path: string): Promise<Page<T>> {
  const token = getToken();
  const response = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = await response.json().catch(() => ({ message: response.statusText }));
  if (!response.ok) throw new ApiError(response.status, body.message ?? response.statusText);
  return { rows: body as T, total: Number(response.headers.get('x-total-count') ?? 0) };
}

/** A query string from a record; arrays repeat their key, empty values are left out. */
export function query(params: Record<string, string | number | boolean | string[] | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '' || value === false) continue;
    for (const v of [value].flat()) search.append(key, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const projectPath = (project: string) => `/v0/projects/${encodeURIComponent(project)}`;
