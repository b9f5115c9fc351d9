import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { idempotencyStore } from '../lib/idempotency.js';
import { AppError } from '../lib/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyRowId?: string;
  }
}

const TTL_MS = 24 * 3600 * 1000;
const REPLAYED_HEADERS = ['content-type', 'etag', 'location'];

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * `Idempotency-Key` on every POST: the first answer is stored per (user, key) and replayed for 24 h;
 * the same key with another request is refused (422); a replay while the first is running is 409.
 * A 5xx is not stored, so the client may retry with the same key.
 */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance) => {
    const store = idempotencyStore(app.database.db);

    app.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'POST') return;
      const key = request.headers['idempotency-key'];
      if (key === undefined || !request.principal) return;
      if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
        throw new AppError('VALIDATION_FAILED', 'Idempotency-Key: 1 to 200 characters', {
          errors: [{ path: 'Idempotency-Key', message: 'must be 1 to 200 characters' }],
        });
      }
      const path = request.url;
      const hash = createHash('sha256')
        .update(`${request.method} ${path}\n${stableJson(request.body ?? null)}`)
        .digest('hex');
      const userId = request.principal.userId;
      const claimed = await store.claim(userId, key, request.method, path, hash);
      if (claimed) {
        request.idempotencyRowId = claimed;
        return;
      }
      const existing = await store.find(userId, key);
      if (!existing || Date.now() - existing.createdAt.getTime() > TTL_MS) {
        throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'retry the request');
      }
      if (existing.requestHash !== hash) {
        throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request');
      }
      if (existing.state !== 'DONE' || existing.statusCode === null) {
        throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'the first request with this Idempotency-Key has not finished');
      }
      for (const [h, v] of Object.entries(existing.responseHeaders ?? {})) reply.header(h, v);
      reply.header('idempotent-replayed', 'true');
      return reply.code(existing.statusCode).send(existing.responseBody ?? '');
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const rowId = request.idempotencyRowId;
      if (!rowId) return payload;
      request.idempotencyRowId = undefined;
      if (reply.statusCode >= 500) {
        await store.release(rowId);
        return payload;
      }
      const headers: Record<string, string> = {};
      for (const h of REPLAYED_HEADERS) {
        const v = reply.getHeader(h);
        if (v !== undefined) headers[h] = String(v);
      }
      await store.complete(rowId, reply.statusCode, headers, typeof payload === 'string' ? payload : String(payload ?? ''));
      return payload;
    });

    // A request that failed before onSend (aborted connection) must not leave its key pending forever.
    app.addHook('onResponse', async (request) => {
      if (request.idempotencyRowId) await store.release(request.idempotencyRowId);
    });
  },
  { name: 'keel-idempotency', dependencies: ['keel-auth'] },
);
