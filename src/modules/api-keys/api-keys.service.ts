import type { Database } from '../../db/client.js';
import { can, type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, fieldError, notFound } from '../../lib/errors.js';
import { type Page, timeOrder, timePage, withCount } from '../../lib/pagination.js';
import { type ApiKeyRow, apiKeysRepository as repo } from './api-keys.repository.js';
import type { ApiKeyDto, CreateApiKeyInput, CreatedApiKeyDto, ListApiKeysQuery } from './api-keys.schemas.js';
import { generateKey, hashKey, keyMatches, prefixOf } from './key-material.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const toApiKeyDto = (r: ApiKeyRow): ApiKeyDto => ({
  id: r.id,
  userId: r.userId,
  name: r.name,
  prefix: r.prefix,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  expiresAt: iso(r.expiresAt),
  lastUsedAt: iso(r.lastUsedAt),
  revokedAt: iso(r.revokedAt),
  updatedAt: r.updatedAt.toISOString(),
});

// What the audit row and the event keep of a key: never its hash.
const audited = (r: ApiKeyRow) => toApiKeyDto(r);

export type ApiKeyOptions = { cacheMs: number; now?: () => number };
type Cached = { keyId: string; userId: string; expiresAt: number | null; until: number };

export function createApiKeyService(database: Database, opts: ApiKeyOptions) {
  const { db } = database;
  const now = opts.now ?? Date.now;
  // Keys that authenticated, by the hash of the key: reused for `cacheMs` at most (the principal
  // cache's time), cleared on this instance by a revocation. Other instances see a revocation
  // within `cacheMs`.
  const cache = new Map<string, Cached>();
  const touched = new Map<string, number>();

  return {
    async create(p: Principal, input: CreateApiKeyInput): Promise<CreatedApiKeyDto> {
      requirePermission(p, 'api-keys:create');
      if (input.expiresAt && Date.parse(input.expiresAt) <= now()) throw fieldError('VALIDATION_FAILED', 'expiresAt', 'must be in the future');
      return db.transaction(async (tx) => {
        const user = await repo.serviceUserVisible(tx, p, input.userId);
        // A user the caller cannot see answers exactly as an unknown one.
        if (!user) throw fieldError('VALIDATION_FAILED', 'userId', 'no such user');
        if (user.kind !== 'SERVICE') throw new AppError('API_KEY_USER_NOT_SERVICE', 'API keys are for SERVICE users; a person signs in with a token', { errors: [{ path: 'userId', message: 'not a SERVICE user' }] });
        const material = generateKey();
        const row = await repo.insert(tx, {
          userId: user.id,
          name: input.name,
          prefix: material.prefix,
          hash: material.hash,
          createdBy: p.userId,
          expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        });
        await recordChange(tx, p, { entityType: 'api_key', entityId: row.id, action: 'created', before: null, after: audited(row), owner: { ownerUserId: user.id, ownerUnitId: user.unitId } });
        return { ...toApiKeyDto(row), key: material.key };
      });
    },

    async list(p: Principal, q: ListApiKeysQuery): Promise<Page<ApiKeyDto>> {
      requirePermission(p, 'api-keys:read');
      const f = { userId: q.userId, active: q.active === 'true', updatedAfter: q.updatedAfter };
      const order = timeOrder(q);
      const pg = timePage(await repo.list(db, p, f, order, q.limit), q.limit, order);
      return withCount({ ...pg, data: pg.data.map(toApiKeyDto) }, () => repo.count(db, p, f));
    },

    async get(p: Principal, id: string): Promise<ApiKeyDto> {
      requirePermission(p, 'api-keys:read');
      const row = await repo.findVisible(db, p, id);
      if (!row) throw notFound('api key');
      return toApiKeyDto(row);
    },

    /** Revokes a key at once: the next request with it on this instance is refused, on others within the cache time. */
    async revoke(p: Principal, id: string): Promise<void> {
      await db.transaction(async (tx) => {
        // A key is visible to a caller who may read keys and sees the key's user; anything else is 404.
        const row = can(p, 'api-keys:read') ? await repo.findVisible(tx, p, id, { forUpdate: true }) : null;
        if (!row) throw notFound('api key');
        requirePermission(p, 'api-keys:delete');
        if (row.revokedAt) throw new AppError('API_KEY_REVOKED', 'the API key is already revoked');
        const after = await repo.revoke(tx, id);
        if (!after) throw new AppError('API_KEY_REVOKED', 'the API key is already revoked');
        const user = await repo.serviceUserVisible(tx, p, row.userId);
        await recordChange(tx, p, {
          entityType: 'api_key',
          entityId: id,
          action: 'revoked',
          before: audited(row),
          after: audited(after),
          owner: { ownerUserId: row.userId, ownerUnitId: user?.unitId ?? null },
        });
      });
      cache.clear();
    },

    /**
     * The user a presented key belongs to, or null when it is not a key, unknown, revoked or
     * expired. The key is found by its prefix and then compared by hash in constant time.
     */
    async authenticate(key: string): Promise<{ userId: string; keyId: string } | null> {
      const prefix = prefixOf(key);
      if (!prefix) return null;
      const hash = hashKey(key);
      const t = now();
      const hit = cache.get(hash);
      if (hit && hit.until > t) {
        if (hit.expiresAt !== null && hit.expiresAt <= t) return null;
        return { userId: hit.userId, keyId: hit.keyId };
      }
      cache.delete(hash);
      const row = await repo.byPrefix(db, prefix);
      if (!row || !keyMatches(key, row.hash) || row.revokedAt) return null;
      const expiresAt = row.expiresAt ? row.expiresAt.getTime() : null;
      if (expiresAt !== null && expiresAt <= t) return null;
      if (opts.cacheMs > 0) {
        if (cache.size >= 10_000) cache.delete(cache.keys().next().value as string);
        cache.set(hash, { keyId: row.id, userId: row.userId, expiresAt, until: t + opts.cacheMs });
      }
      // lastUsedAt: written at most once a minute per key (and per instance), after the answer is decided.
      const last = Math.max(touched.get(row.id) ?? 0, row.lastUsedAt?.getTime() ?? 0);
      if (t - last >= 60_000) {
        touched.set(row.id, t);
        if (touched.size > 10_000) touched.delete(touched.keys().next().value as string);
        await repo.touch(db, row.id);
      }
      return { userId: row.userId, keyId: row.id };
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
