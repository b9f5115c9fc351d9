import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { AppError } from '../lib/errors.js';
import { isPublic } from './auth.js';

const MINUTE = 60_000;

/** A caller's quota: the highest per-role override among its roles, or the general one. */
export function quotaFor(roles: readonly string[], cfg: Config['rateLimit']): number {
  const overrides = roles.map((r) => cfg.perRole[r]).filter((n): n is number => n !== undefined);
  return overrides.length > 0 ? Math.max(...overrides) : cfg.perMinute;
}

/**
 * Per-caller rate limits (@fastify/rate-limit) and overload shedding (@fastify/under-pressure).
 * Registered after auth and before the routes: the limit is keyed by the authenticated user, so
 * every instance and both doors count one caller together (in Redis when RATE_LIMIT_REDIS_URL is
 * set). Public routes (health, docs, metrics) are not limited.
 */
export const limitsPlugin = fp(
  async (app: FastifyInstance, opts: { config: Config }) => {
    const { rateLimit: cfg, pressure } = opts.config;

    if (pressure.maxEventLoopDelayMs > 0 || pressure.maxHeapUsedBytes > 0 || pressure.maxRssBytes > 0) {
      // The event loop's delay is sampled as a mean over one-second windows. The windows around the
      // instance's own start (modules loaded on first use, migrations, the job queue starting at
      // ready) are not load from callers: a fresh instance on a busy machine would otherwise refuse its
      // first requests. Delay-based shedding starts PRESSURE_STARTUP_GRACE_MS after ready; memory limits apply at once.
      let sheddingFrom = Number.POSITIVE_INFINITY;
      app.addHook('onReady', async () => {
        sheddingFrom = Date.now() + pressure.startupGraceMs;
      });
      await app.register(underPressure, {
        maxEventLoopDelay: pressure.maxEventLoopDelayMs,
        maxHeapUsedBytes: pressure.maxHeapUsedBytes,
        maxRssBytes: pressure.maxRssBytes,
        // Health answers stay honest under pressure: a load balancer must still reach /healthz.
        // The promise form: its rejection goes through the error handler (problem+json, Retry-After).
        pressureHandler: async (request, _reply, type) => {
          if (isPublic(request.url)) return;
          if (type === 'eventLoopDelay' && Date.now() < sheddingFrom) return;
          request.log.warn({ type }, 'shedding load');
          throw new AppError('UNAVAILABLE', 'the service is overloaded; retry later', { extra: { retryAfterSeconds: 5 } });
        },
      });
    }

    if (cfg.perMinute <= 0 && Object.keys(cfg.perRole).length === 0) return;
    let redis: Redis | undefined;
    if (cfg.redisUrl) {
      // A Redis that is away must not take the API with it: commands fail fast and the limit is skipped.
      // Loaded only when configured: a server without a Redis store never loads the client.
      const { Redis } = await import('ioredis');
      redis = new Redis(cfg.redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
      redis.on('error', (err: Error) => app.log.warn({ reason: err.message }, 'rate limit store unavailable'));
      app.addHook('onClose', async () => {
        redis?.disconnect();
      });
    }
    const roleNames = (request: FastifyRequest): string[] => (request.principal ? request.principal.roles.map((r) => r.name) : []);
    await app.register(rateLimit, {
      global: true,
      timeWindow: MINUTE,
      max: async (request) => {
        const q = quotaFor(roleNames(request), cfg);
        // 0 for a role means "not limited".
        return q > 0 ? q : Number.MAX_SAFE_INTEGER;
      },
      keyGenerator: (request) => (request.principal ? `u:${request.principal.userId}` : `ip:${request.ip}`),
      allowList: (request) => isPublic(request.url) || request.method === 'OPTIONS',
      // IETF RateLimit header fields (RateLimit-Limit, -Remaining, -Reset) and Retry-After.
      enableDraftSpec: true,
      skipOnError: true,
      nameSpace: 'keel-rate:',
      ...(redis ? { redis } : {}),
      errorResponseBuilder: (_request, ctx) =>
        new AppError('RATE_LIMITED', `at most ${ctx.max} requests per minute for this caller; retry after ${Math.max(1, Math.ceil(ctx.ttl / 1000))} s`, {
          extra: { retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)) },
        }),
    });
  },
  { name: 'keel-limits', dependencies: ['keel-errors', 'keel-auth'] },
);
