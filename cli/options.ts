import { Command, Option } from 'commander';
import { BenchlineClient } from './client';

/** Where the API is and who calls it: every command that talks to the API takes these. */
export interface ApiOptions {
  apiUrl: string;
  token?: string;
}

export interface ProjectOptions extends ApiOptions {
  project: string;
}

/** `--format human|json`: a table or lines for people, the API's JSON for scripts. */
export const LIST_FORMATS = ['human', 'json'] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];

export interface FormatOptions {
  format: ListFormat;
}

export function withApi(command: Command, tokenHelp = 'user API token'): Command {
  return command
    .addOption(new Option('--api-url <url>', 'Benchline API').env('BENCHLINE_API_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--token <token>', tokenHelp).env('BENCHLINE_TOKEN'));
}

export function withProject(command: Command): Command {
  return command.addOption(new Option('--project <project>', 'project slug or UUID').env('BENCHLINE_PROJECT').makeOptionMandatory());
}

/** A subcommand of a project's resources: the API, the caller, the project. */
export const projectCommand = (name: string) => withProject(withApi(new Command(name)));

export function withFormat(command: Command, what = 'how to print it'): Command {
  return command.addOption(new Option('--format <format>', what).choices(LIST_FORMATS).default('human'));
}

/** `--page` and `--per-page`, as every list endpoint takes them. */
export function withPaging(command: Command): Command {
  return command.option('--page <n>', 'page number', '1').option('--per-page <n>', 'rows per page (at most the server\'s limit)', '50');
}

export const clientOf = (o: ApiOptions) => new BenchlineClient(o.apiUrl.replace(/\/$/, ''), o.token);

export const repeatable = (value: string, previous: string[] = []) => [...previous, value];

/** A list query: the paging flags and each filter given (arrays repeat the parameter). */
export function listQuery(o: { page?: string; perPage?: string }, filters: Record<string, string | string[] | boolean | undefined>): URLSearchParams {
  const query = new URLSearchParams();
  if (o.page) query.set('page', o.page);
  if (o.perPage) query.set('per_page', o.perPage);
  for (const [key, value] of Object.entries(filters)) {
    for (const v of [value].flat()) if (v !== undefined) query.append(key, String(v));
  }
  return query;
}

/** Prints `data` as JSON, or as `human` renders it. */
export function print<T>(o: FormatOptions, data: T, human: (data: T) => string): void {
  console.log(o.format === 'json' ? JSON.stringify(data, null, 2) : human(data));
}
