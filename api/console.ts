import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from './errors';

/** Where scripts/bootstrap.sh has Vite build the console (web/), never committed. */
export const CONSOLE_DIR = resolve(__dirname, '../web/dist');

/**
 * The web console at `/`: its hashed assets under /assets/, and its page for every client route
 * (`/`, `/projects/…`, `/runners`), where the single-page app takes over. Only these paths are served, so the
 * API's 404 and 405 answers stay as they are, and every route is hidden from the OpenAPI document.
 */
export async function registerConsole(app: FastifyInstance, dir = CONSOLE_DIR): Promise<void> {
  const built = existsSync(join(dir, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, { root: join(dir, 'assets'), prefix: '/assets/', wildcard: true, index: false, immutable: true, maxAge: '365d' });
  }
  const page = async (_request: unknown, reply: FastifyReply) => {
    if (!built) throw new HttpError(503, 'console_not_built', 'the web console is not built: run scripts/bootstrap.sh');
    // The page names its hashed assets: it must be fetched again after an upgrade, they need not be.
    return reply.header('cache-control', 'no-cache').sendFile('index.html', dir);
  };
  app.get('/', { schema: { hide: true } }, page);
  app.get('/projects/*', { schema: { hide: true } }, page);
  app.get('/runners', { schema: { hide: true } }, page);
}
