import { Command } from 'commander';
import type { RunnerView } from '../../common/schemas/runners';
import { clientOf, listQuery, print, withApi, withFormat, withPaging, type ApiOptions, type FormatOptions } from '../options';
import { table } from '../render';

type Options = ApiOptions & FormatOptions;

const path = (runner: string) => `/v0/runners/${encodeURIComponent(runner)}`;
const adminCommand = (name: string) => withFormat(withApi(new Command(name), 'user API token (a server admin)'));

function renderRunner(r: RunnerView): string {
  return [
    `Runner ${r.slug} (${r.uuid}): ${r.name}${r.organization ? `, organization ${r.organization}` : ''}`,
    `specs: ${r.specs.join(', ') || '-'}`,
    `state: ${r.archived ? `archived since ${r.archived}` : r.locked ? `locked since ${r.locked}` : 'active'}`,
    `last seen: ${r.last_seen ?? 'never'}${r.version ? `, version ${r.version}` : ''}${r.executor ? `, executor ${r.executor}` : ''}`,
    `current job: ${r.current_job ? `${r.current_job.uuid} (${r.current_job.project}, ${r.current_job.status})` : '-'}`,
  ].join('\n');
}

/** `benchline runner list|view|lock|unlock|archive|rotate-token`: managing runners (server admins). */
export function runnerCommand(): Command {
  const list = withPaging(adminCommand('list'))
    .description('List runners')
    .option('--archived <true|false>', 'only archived (true) or not archived (false) runners')
    .option('--locked <true|false>', 'only locked (true) or unlocked (false) runners')
    .action(async (o: Options & { page: string; perPage: string; archived?: string; locked?: string }) => {
      const runners = await clientOf(o).call<RunnerView[]>('GET', `/v0/runners?${listQuery(o, { archived: o.archived, locked: o.locked })}`);
      print(o, runners, () =>
        table(
          ['runner', 'name', 'specs', 'state', 'last seen', 'current job'],
          runners.map((r) => [r.slug, r.name, r.specs.join(',') || '-', r.archived ? 'archived' : r.locked ? 'locked' : 'active', r.last_seen ?? 'never', r.current_job?.uuid ?? '-']),
        ),
      );
    });

  const view = adminCommand('view')
    .description('View a runner')
    .argument('<runner>', 'runner slug or UUID')
    .action(async (id: string, o: Options) => print(o, await clientOf(o).call<RunnerView>('GET', path(id)), renderRunner));

  const command = new Command('runner').description('Runners, the machines that run jobs (server admins)').addCommand(list).addCommand(view);
  const changes = [
    { name: 'lock', body: { locked: true }, description: 'Lock a runner: it takes no new work (its current job finishes)' },
    { name: 'unlock', body: { locked: false }, description: 'Unlock a runner: it takes work again' },
    { name: 'archive', body: { archived: true }, description: 'Archive a runner: every call it makes is refused' },
  ];
  for (const { name, body, description } of changes) {
    command.addCommand(
      adminCommand(name)
        .description(description)
        .argument('<runner>', 'runner slug or UUID')
        .action(async (id: string, o: Options) => print(o, await clientOf(o).call<RunnerView>('PATCH', path(id), body), renderRunner)),
    );
  }
  return command.addCommand(
    adminCommand('rotate-token')
      .description("Rotate a runner's token: the old one stops working at once; the new one is shown once")
      .argument('<runner>', 'runner slug or UUID')
      .action(async (id: string, o: Options) => {
        const rotated = await clientOf(o).call<{ token: string }>('POST', `${path(id)}/token`);
        print(o, rotated, (r) => `New token for runner ${id} (shown once; give it to the runner as BENCHLINE_RUNNER_TOKEN):\n${r.token}`);
      }),
  );
}
