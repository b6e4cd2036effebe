/**
 * The few GitHub REST calls the action makes, on global fetch (no octokit: four endpoints and a
 * Link header do not need a dependency). The base URL is GITHUB_API_URL, as GitHub Actions sets it
 * (https://api.github.com, or a GitHub Enterprise Server's /api/v3), which lets tests point it at a
 * local server.
 */

export class GitHubError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    message: string,
  ) {
    super(`GitHub API ${method} ${path}: HTTP ${status}: ${message}`);
  }
}

export interface IssueComment {
  id: number;
  body?: string;
  html_url?: string;
}

export type CommitState = 'error' | 'failure' | 'pending' | 'success';

/** GitHub truncates nothing: a status description over 140 characters is a 422. */
const DESCRIPTION_LIMIT = 140;

export class GitHub {
  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
    /** owner/name */
    private readonly repository: string,
  ) {}

  static fromEnv(token: string, env: NodeJS.ProcessEnv = process.env): GitHub {
    const repository = env.GITHUB_REPOSITORY;
    if (!repository || !/^[^/]+\/[^/]+$/.test(repository)) throw new Error(`GITHUB_REPOSITORY must be owner/name, got "${repository ?? ''}"`);
    return new GitHub((env.GITHUB_API_URL || 'https://api.github.com').replace(/\/$/, ''), token, repository);
  }

  /**
   * The comment whose body starts with `marker`, looking through every page of the pull request's
   * comments (a reply quoting ours holds the marker too, but not first).
   */
  async findComment(issue: number, marker: string): Promise<IssueComment | undefined> {
    let path: string | undefined = `/repos/${this.repository}/issues/${issue}/comments?per_page=100`;
    while (path) {
      const { data, next }: { data: IssueComment[]; next?: string } = await this.request('GET', path);
      const found = data.find((c) => c.body?.startsWith(marker));
      if (found) return found;
      path = next;
    }
    return undefined;
  }

  /** Updates the comment with `marker`, or creates it: one comment per marker, however often the action runs. */
  async upsertComment(issue: number, marker: string, body: string): Promise<{ comment: IssueComment; created: boolean }> {
    const existing = await this.findComment(issue, marker);
    if (existing) {
      const { data } = await this.request<IssueComment>('PATCH', `/repos/${this.repository}/issues/comments/${existing.id}`, { body });
      return { comment: data, created: false };
    }
    const { data } = await this.request<IssueComment>('POST', `/repos/${this.repository}/issues/${issue}/comments`, { body });
    return { comment: data, created: true };
  }

  /** A commit status: `context` names it (one per project / branch / testbed), so a required check can name it too. */
  async setStatus(sha: string, status: { state: CommitState; context: string; description: string; target_url?: string }): Promise<void> {
    const description = status.description.length > DESCRIPTION_LIMIT ? `${status.description.slice(0, DESCRIPTION_LIMIT - 1)}…` : status.description;
    await this.request('POST', `/repos/${this.repository}/statuses/${sha}`, { ...status, description });
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<{ data: T; next?: string }> {
    // A Link header's next page is absolute: it must stay on the API the token is for.
    if (path.startsWith('http') && !path.startsWith(`${this.apiUrl}/`)) throw new Error(`GitHub API: refusing to follow a next page outside ${this.apiUrl}: ${path}`);
    const url = path.startsWith('http') ? path : `${this.apiUrl}${path}`;
    const response = await fetch(url, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${this.token}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'benchline-action',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    const shown = path.replace(/\?.*/, '');
    if (!response.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // Not JSON (a proxy's error page): its first bytes say enough.
      }
      throw new GitHubError(response.status, method, shown, message);
    }
    return { data: (text ? JSON.parse(text) : undefined) as T, next: nextLink(response.headers.get('link')) };
  }
}

/** The `rel="next"` URL of a Link header (GitHub's pagination), if any. */
export function nextLink(header: string | null): string | undefined {
  for (const part of header?.split(',') ?? []) {
    const m = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (m) return m[1];
  }
  return undefined;
}
