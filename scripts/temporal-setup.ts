/**
 * `npm run temporal-setup` (and docker-compose's `temporal-setup` service): registers the search
 * attributes job workflows carry (common/contracts/search-attributes.ts) on TEMPORAL_ADDRESS's
 * namespace. A workflow start naming an unregistered attribute is refused, so the api and the
 * orchestrator start after this. Adds only what is missing: running it again changes nothing.
 * The dev server needs none of this: it takes the same keys as `--search-attribute` flags.
 */
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { JOB_SEARCH_ATTRIBUTES } from '../common/contracts';
import { waitFor } from '../devenv/wait';

/** Adds the job search attributes the namespace lacks; returns the names it added. */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = JOB_SEARCH_ATTRIBUTES.filter((key) => !(key.name in (customAttributes ?? {})));
  if (missing.length) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!])),
    });
  }
  return missing.map((key) => key.name);
}

async function main() {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  // The server may still be starting (compose starts it alongside): wait for its namespace.
  const connection = await waitFor(`Temporal at ${address}`, async () => {
    const c = await Connection.connect({ address });
    try {
      await c.workflowService.describeNamespace({ namespace });
      return c;
    } catch (err) {
      await c.close();
      throw err;
    }
  }, 120000, 1000);
  try {
    const added = await registerSearchAttributes(connection, namespace);
    console.log(added.length ? `registered: ${added.join(', ')}` : 'search attributes up to date');
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
