import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by drain(): /ready answers 503 and responses close their connections. */
    lifecycle: { draining: boolean };
  }
}

export function registerLifecycle(app: FastifyInstance): void {
  app.decorate('lifecycle', { draining: false });
  // A keep-alive connection left open would hold the server's close until the client drops it:
  // while draining, each response is the last on its connection.
  app.addHook('onSend', async (_request, reply) => {
    if (app.lifecycle.draining) reply.header('connection', 'close');
  });
}

/**
 * The api's SIGTERM: readiness turns false at once and requests are still served for `delayMs` (a
 * load balancer stops routing here); then no new connection is accepted and requests in flight get
 * up to `timeoutMs` to finish. Resolves true when all of them did, false when the rest were cut off.
 */
export async function drain(app: FastifyInstance, { delayMs, timeoutMs }: { delayMs: number; timeoutMs: number }): Promise<boolean> {
  app.lifecycle.draining = true;
  if (delayMs > 0) await sleep(delayMs);
  let cutOff = false;
  const deadline = setTimeout(() => {
    cutOff = true;
    app.log.warn({ timeoutMs }, 'requests still in flight at the shutdown deadline: closing their connections');
    app.server.closeAllConnections();
  }, timeoutMs);
  try {
    await app.close();
  } finally {
    clearTimeout(deadline);
  }
  return !cutOff;
}
