import pino from 'pino';

/** Structured logs for the worker processes (the api logs through Fastify's own pino). */
export const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: { service: process.env.BENCHLINE_SERVICE } });
