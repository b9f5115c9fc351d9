import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { idempotencyKeys } from '../db/schema/index.js';

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

// The stored answers of `Idempotency-Key` requests, per (user, key).
export function idempotencyStore(ex: Executor) {
  return {
    /** Claims the key for this request: the new row's id, or null when the key is taken. */
    async claim(userId: string, key: string, method: string, path: string, requestHash: string): Promise<string | null> {
      // Keys older than the replay window are forgotten, so the key may be used afresh.
      await ex
        .delete(idempotencyKeys)
        .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key), sql`${idempotencyKeys.createdAt} < now() - interval '24 hours'`));
      const [row] = await ex.insert(idempotencyKeys).values({ userId, key, method, path, requestHash }).onConflictDoNothing().returning({ id: idempotencyKeys.id });
      return row?.id ?? null;
    },

    async find(userId: string, key: string): Promise<IdempotencyRow | null> {
      const [row] = await ex
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
      return row ?? null;
    },

    async complete(id: string, statusCode: number, responseHeaders: Record<string, string>, responseBody: string): Promise<void> {
      await ex.update(idempotencyKeys).set({ state: 'DONE', statusCode, responseHeaders, responseBody }).where(eq(idempotencyKeys.id, id));
    },

    async release(id: string): Promise<void> {
      await ex.delete(idempotencyKeys).where(eq(idempotencyKeys.id, id));
    },
  };
}
