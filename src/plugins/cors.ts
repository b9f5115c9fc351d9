import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';

// What a browser app may read from an answer besides the simple headers (api.md §0).
export const EXPOSED_HEADERS = [
  'ETag',
  'Location',
  'Idempotent-Replayed',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'x-request-id',
];
export const ALLOWED_HEADERS = ['authorization', 'content-type', 'if-match', 'idempotency-key', 'x-request-id', 'x-api-key'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

// A front end served by a development server on this machine, whatever its port.
const LOCAL_DEV = [/^http:\/\/localhost(:\d+)?$/, /^http:\/\/127\.0\.0\.1(:\d+)?$/];

export function corsOrigins(config: Pick<Config, 'env' | 'corsOrigins'>): (string | RegExp)[] {
  return [...config.corsOrigins, ...(config.env === 'development' ? LOCAL_DEV : [])];
}

/**
 * CORS for the origins in CORS_ORIGINS. Registered before auth: a preflight carries no token, and
 * its answer (204) is written in the onRequest hook, before authentication runs. An origin not in
 * the list gets an answer without Access-Control-Allow-Origin, which the browser refuses to read.
 */
export const corsPlugin = fp(
  async (app: FastifyInstance, opts: { config: Config }) => {
    await app.register(fastifyCors, {
      origin: corsOrigins(opts.config),
      methods: METHODS,
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      // Bearer tokens, not cookies: no credentialed requests.
      credentials: false,
      maxAge: 600,
      // An OPTIONS without the preflight headers gets the same answer, not a plain-text 400.
      strictPreflight: false,
    });
  },
  { name: 'keel-cors', dependencies: ['keel-errors'] },
);
