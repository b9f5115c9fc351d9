import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { idempotencyKeys } from '../db/schema/index.js';

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

// The stored answers of `Idempotency-Key` requests, per (user, key). The key is claimed and its answer stored
// inside the request's own transaction (plugins/idempotency.ts), so the key exists exactly when the write does.
export const idempotencyStore = {
  /**
   * Claims the key in `tx`: the new row's id, or null when the key is taken. A concurrent request holding the
   * same key uncommitted makes this wait for its end (the unique index): then the key is taken, or free again.
   */
  async claim(tx: Executor, userId: string, key: string, method: string, path: string, requestHash: string): Promise<string | null> {
    // Keys older than the replay window are forgotten, so the key may be used afresh.
    await tx
      .delete(idempotencyKeys)
      .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key), sql`${idempotencyKeys.createdAt} < now() - interval '24 hours'`));
    const [row] = await tx.insert(idempotencyKeys).values({ userId, key, method, path, requestHash }).onConflictDoNothing().returning({ id: idempotencyKeys.id });
    return row?.id ?? null;
  },

  async find(ex: Executor, userId: string, key: string): Promise<IdempotencyRow | null> {
    const [row] = await ex
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key), sql`${idempotencyKeys.createdAt} >= now() - interval '24 hours'`));
    return row ?? null;
  },

  async complete(tx: Executor, id: string, statusCode: number, responseHeaders: Record<string, string>, responseBody: string): Promise<void> {
    await tx.update(idempotencyKeys).set({ state: 'DONE', statusCode, responseHeaders, responseBody }).where(eq(idempotencyKeys.id, id));
  },
};
