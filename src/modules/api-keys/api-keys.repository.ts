import { and, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { apiKeys, users } from '../../db/schema/index.js';
import { access, type Principal } from '../../lib/access.js';
import { type TimeOrder, timeKeyset, updatedAfterCondition } from '../../lib/pagination.js';

export type ApiKeyRow = typeof apiKeys.$inferSelect;
// What authentication needs of a key: its owner and whether it may be used now.
export type KeyLookup = { id: string; userId: string; hash: string; expiresAt: Date | null; revokedAt: Date | null; lastUsedAt: Date | null };

const columns = {
  id: apiKeys.id,
  userId: apiKeys.userId,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  hash: apiKeys.hash,
  createdBy: apiKeys.createdBy,
  createdAt: apiKeys.createdAt,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
  updatedAt: apiKeys.updatedAt,
};

// A key is visible to whoever sees its user (lib/access.ts); the permission is checked by the service.
const visible = (p: Principal): SQL => access.user.visible(p);

type KeyFilter = { userId?: string | undefined; active?: boolean; updatedAfter?: string | undefined };

function listConditions(p: Principal, f: KeyFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [visible(p)];
  if (f.userId) conds.push(eq(apiKeys.userId, f.userId));
  if (f.active) conds.push(isNull(apiKeys.revokedAt), sql`(${apiKeys.expiresAt} IS NULL OR ${apiKeys.expiresAt} > now())`);
  conds.push(updatedAfterCondition(apiKeys.updatedAt, f.updatedAfter));
  return conds;
}

export const apiKeysRepository = {
  async serviceUserVisible(ex: Executor, p: Principal, userId: string): Promise<{ id: string; kind: string; unitId: string } | null> {
    const [row] = await ex
      .select({ id: users.id, kind: users.kind, unitId: users.unitId })
      .from(users)
      .where(and(eq(users.id, userId), visible(p)));
    return row ?? null;
  },

  async insert(ex: Executor, values: typeof apiKeys.$inferInsert): Promise<ApiKeyRow> {
    const [row] = await ex.insert(apiKeys).values(values).returning();
    if (!row) throw new Error('api key insert returned nothing');
    return row;
  },

  async findVisible(ex: Executor, p: Principal, id: string, opts: { forUpdate?: boolean } = {}): Promise<ApiKeyRow | null> {
    const q = ex
      .select(columns)
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(and(eq(apiKeys.id, id), visible(p)));
    const [row] = opts.forUpdate ? await q.for('update', { of: apiKeys }) : await q;
    return row ?? null;
  },

  async list(ex: Executor, p: Principal, f: KeyFilter, order: TimeOrder, limit: number): Promise<ApiKeyRow[]> {
    const ks = timeKeyset(order, apiKeys, apiKeys.id);
    const conds = [...listConditions(p, f), ks.where];
    return ex
      .select(columns)
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(and(...conds))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  /** The list's count: the same visibility and filters, no cursor or limit. */
  async count(ex: Executor, p: Principal, f: KeyFilter): Promise<number> {
    const [row] = await ex
      .select({ n: sql<number>`count(*)::int` })
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(and(...listConditions(p, f)));
    return Number(row?.n ?? 0);
  },

  async revoke(ex: Executor, id: string): Promise<ApiKeyRow | null> {
    const [row] = await ex.update(apiKeys).set({ revokedAt: sql`now()`, updatedAt: sql`now()` }).where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt))).returning();
    return row ?? null;
  },

  async byPrefix(ex: Executor, prefix: string): Promise<KeyLookup | null> {
    const [row] = await ex
      .select({ id: apiKeys.id, userId: apiKeys.userId, hash: apiKeys.hash, expiresAt: apiKeys.expiresAt, revokedAt: apiKeys.revokedAt, lastUsedAt: apiKeys.lastUsedAt })
      .from(apiKeys)
      .where(eq(apiKeys.prefix, prefix));
    return row ?? null;
  },

  /** Records a use, at most once a minute per key (a write per request would cost more than the request). */
  async touch(ex: Executor, id: string): Promise<void> {
    await ex
      .update(apiKeys)
      .set({ lastUsedAt: sql`now()` })
      .where(and(eq(apiKeys.id, id), sql`(${apiKeys.lastUsedAt} IS NULL OR ${apiKeys.lastUsedAt} < now() - interval '1 minute')`));
  },
};

