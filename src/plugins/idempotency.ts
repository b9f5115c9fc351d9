import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ambientTransaction } from '../db/ambient.js';
import type { Tx } from '../db/client.js';
import { AppError } from '../lib/errors.js';
import { idempotencyStore as store, type IdempotencyRow } from '../lib/idempotency.js';

type Held = { rowId: string; finish: (save: ((tx: Tx) => Promise<void>) | null) => void; ended: Promise<void> };

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: Held | undefined;
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const REPLAYED_HEADERS = ['content-type', 'etag', 'location'];
const ROLLBACK = new Error('idempotent request rolled back');

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

function replay(reply: FastifyReply, existing: IdempotencyRow, hash: string) {
  if (existing.requestHash !== hash) throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request');
  if (existing.state !== 'DONE' || existing.statusCode === null) throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'the first request with this Idempotency-Key has not finished');
  for (const [h, v] of Object.entries(existing.responseHeaders ?? {})) reply.header(h, v);
  reply.header('idempotent-replayed', 'true');
  return reply.code(existing.statusCode).send(existing.responseBody ?? '');
}

/**
 * `Idempotency-Key` on every write (POST, PUT, PATCH, DELETE; GraphQL mutations arrive as POST): the request
 * runs in one transaction that first claims the key, then makes the write (the services' transactions become
 * savepoints of it) and finally stores the answer — committed together, so a crash leaves either the write and
 * its key with the answer, or neither: never a key "in progress". A replay within 24 h answers the stored
 * response; the same key with another request is refused (422). A second request with a key whose first is
 * still running waits for it at the key's unique index, then replays its answer. A 5xx stores nothing.
 */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance) => {
    const db = app.database.rawDb ?? app.database.db;

    // Every request gets its own context, where an idempotent write sets its transaction.
    app.addHook('onRequest', (_request, _reply, done) => {
      ambientTransaction.run({}, done);
    });

    app.addHook('preHandler', async (request, reply) => {
      if (!WRITES.has(request.method)) return;
      const key = request.headers['idempotency-key'];
      if (key === undefined || !request.principal) return;
      if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
        throw new AppError('VALIDATION_FAILED', 'Idempotency-Key: 1 to 200 characters', { errors: [{ path: 'Idempotency-Key', message: 'must be 1 to 200 characters' }] });
      }
      const path = request.url;
      const hash = createHash('sha256')
        .update(`${request.method} ${path}\n${stableJson(request.body ?? null)}`)
        .digest('hex');
      const userId = request.principal.userId;
      const done = await store.find(db, userId, key);
      if (done) return replay(reply, done, hash);

      const context = ambientTransaction.getStore();
      if (!context) throw new Error('no request context for Idempotency-Key');
      const held = await hold(request, (tx) => store.claim(tx, userId, key, request.method, path, hash));
      if (!held) {
        // Another request held the key and has committed it meanwhile: its answer is this one's.
        const first = await store.find(db, userId, key);
        if (!first) throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'retry the request');
        return replay(reply, first, hash);
      }
      request.idempotency = held.held;
      context.tx = held.tx;
    });

    // Opens the request's transaction and claims the key in it; the transaction stays open until `finish`.
    async function hold(request: FastifyRequest, claim: (tx: Tx) => Promise<string | null>): Promise<{ held: Held; tx: Tx } | null> {
      let finish!: Held['finish'];
      const decided = new Promise<((tx: Tx) => Promise<void>) | null>((resolve) => {
        finish = resolve;
      });
      let opened!: (v: { tx: Tx; rowId: string | null }) => void;
      let failed!: (err: unknown) => void;
      const ready = new Promise<{ tx: Tx; rowId: string | null }>((resolve, reject) => {
        opened = resolve;
        failed = reject;
      });
      const ended = db
        .transaction(async (tx) => {
          const rowId = await claim(tx);
          opened({ tx, rowId });
          if (rowId === null) throw ROLLBACK;
          const save = await decided;
          if (!save) throw ROLLBACK;
          await save(tx);
        })
        .catch((err: unknown) => {
          failed(err);
          if (err !== ROLLBACK) throw err;
        });
      const { tx, rowId } = await ready;
      if (rowId === null) {
        await ended;
        return null;
      }
      request.log.debug({ rowId }, 'idempotency key claimed');
      return { held: { rowId, finish, ended }, tx };
    }

    app.addHook('onSend', async (request, reply, payload) => {
      const held = request.idempotency;
      if (!held) return payload;
      request.idempotency = undefined;
      const context = ambientTransaction.getStore();
      if (context) context.tx = undefined;
      if (reply.statusCode >= 500) {
        held.finish(null);
        await held.ended;
        return payload;
      }
      const headers: Record<string, string> = {};
      for (const h of REPLAYED_HEADERS) {
        const v = reply.getHeader(h);
        if (v !== undefined) headers[h] = String(v);
      }
      held.finish((tx) => store.complete(tx, held.rowId, reply.statusCode, headers, typeof payload === 'string' ? payload : String(payload ?? '')));
      try {
        await held.ended;
      } catch (err) {
        // The commit failed: a refusal still stands (it wrote nothing); a success did not happen.
        if (reply.statusCode >= 400) return payload;
        throw err;
      }
      return payload;
    });

    // A request that ended before onSend (an aborted connection) rolls back its write and frees its key.
    const abandon = async (request: FastifyRequest) => {
      const held = request.idempotency;
      if (!held) return;
      request.idempotency = undefined;
      held.finish(null);
      await held.ended.catch(() => undefined);
    };
    app.addHook('onResponse', abandon);
    app.addHook('onRequestAbort', abandon);
  },
  { name: 'keel-idempotency', dependencies: ['keel-auth'] },
);
