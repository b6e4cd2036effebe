import { Command } from 'commander';
import type { SpecView } from '../../common/schemas/specs';
import { clientOf, listQuery, print, withApi, withFormat, withPaging, type ApiOptions, type FormatOptions } from '../options';
import { table } from '../render';

/** `benchline spec list`: the hardware specs jobs can ask for (`--spec`). */
export function specCommand(): Command {
  const list = withPaging(withFormat(withApi(new Command('list'))))
    .description('List the hardware specs a job can run on')
    .option('--archived <true|false>', 'only archived (true) or not archived (false) specs')
    .action(async (o: ApiOptions & FormatOptions & { page: string; perPage: string; archived?: string }) => {
      const specs = await clientOf(o).call<SpecView[]>('GET', `/v0/specs?${listQuery(o, { archived: o.archived })}`);
      print(o, specs, () =>
        table(
          ['spec', 'name', 'arch', 'cpus', 'memory MiB', 'disk MiB', 'network', 'state'],
          specs.map((s) => [
            `${s.slug}${s.default ? ' (default)' : ''}`, s.name, s.architecture, String(s.cpus), String(s.memory_mib), String(s.disk_mib), s.network ? 'yes' : 'no',
            s.archived ? 'archived' : s.paused ? `paused${s.pause_reason ? `: ${s.pause_reason}` : ''}` : 'active',
          ]),
        ),
      );
    });
  return new Command('spec').description('Hardware specs').addCommand(list);
}
