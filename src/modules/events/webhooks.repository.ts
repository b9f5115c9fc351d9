import { and, desc, eq, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { type DeliveryAttempt, webhookDeliveries, webhooks } from '../../db/schema/index.js';
import { access, type Principal } from '../../lib/access.js';
import { countRows, type TimeOrder, timeKeyset, updatedAfterCondition } from '../../lib/pagination.js';
import type { Position } from './events.repository.js';

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export const webhooksRepository = {
  async insert(tx: Executor, v: typeof webhooks.$inferInsert): Promise<WebhookRow> {
    const [row] = await tx.insert(webhooks).values(v).returning();
    if (!row) throw new Error('webhook insert failed');
    return row;
  },

  /** A subscription `p` may use for `permission` (read, update, delete); locked for a write. */
  async find(ex: Executor, p: Principal, id: string, permission: string, forUpdate = false): Promise<WebhookRow | null> {
    const q = ex.select().from(webhooks).where(and(eq(webhooks.id, id), access.webhook.allows(p, permission)));
    const [row] = forUpdate ? await q.for('update') : await q;
    return row ?? null;
  },

  /** A page of the subscriptions `p` may read, changed after `updatedAfter` if given, in `order`. */
  async list(ex: Executor, p: Principal, updatedAfter: string | undefined, order: TimeOrder, limit: number): Promise<WebhookRow[]> {
    const ks = timeKeyset(order, webhooks, webhooks.id);
    return ex
      .select()
      .from(webhooks)
      .where(and(access.webhook.allows(p, 'webhooks:read'), updatedAfterCondition(webhooks.updatedAt, updatedAfter), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  countVisible: (ex: Executor, p: Principal, updatedAfter?: string): Promise<number> =>
    countRows(ex, webhooks, and(access.webhook.allows(p, 'webhooks:read'), updatedAfterCondition(webhooks.updatedAt, updatedAfter))),

  countDeliveries: (ex: Executor, webhookId: string, status: string | undefined): Promise<number> =>
    countRows(ex, webhookDeliveries, and(eq(webhookDeliveries.webhookId, webhookId), status ? eq(webhookDeliveries.status, status) : undefined)),

  async update(tx: Executor, id: string, v: Partial<typeof webhooks.$inferInsert>): Promise<WebhookRow> {
    const [row] = await tx
      .update(webhooks)
      .set({ ...v, version: sql`${webhooks.version} + 1`, updatedAt: sql`now()` })
      .where(eq(webhooks.id, id))
      .returning();
    if (!row) throw new Error('webhook update failed');
    return row;
  },

  async remove(tx: Executor, id: string): Promise<void> {
    await tx.delete(webhooks).where(eq(webhooks.id, id));
  },

  async deliveries(ex: Executor, webhookId: string, limit: number, beforeSeq: number | null, status: string | undefined): Promise<DeliveryRow[]> {
    return ex
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.webhookId, webhookId), beforeSeq !== null ? sql`${webhookDeliveries.seq} < ${beforeSeq}` : undefined, status ? eq(webhookDeliveries.status, status) : undefined))
      .orderBy(desc(webhookDeliveries.seq))
      .limit(limit);
  },

  // ---- the delivery engine's statements ----

  /** Active subscriptions no other instance is reading the feed for right now. */
  async lockForFanOut(tx: Executor, limit: number): Promise<WebhookRow[]> {
    return tx.select().from(webhooks).where(eq(webhooks.active, true)).orderBy(webhooks.updatedAt).limit(limit).for('update', { skipLocked: true });
  },

  async setPosition(tx: Executor, id: string, pos: Position): Promise<void> {
    await tx.execute(sql`UPDATE webhooks SET pos_xid = ${pos.xid}::xid8, pos_id = ${pos.id} WHERE id = ${id}`);
  },

  async insertDeliveries(tx: Executor, rows: (typeof webhookDeliveries.$inferInsert)[]): Promise<void> {
    if (rows.length > 0) await tx.insert(webhookDeliveries).values(rows);
  },

  /**
   * Claims due deliveries fairly: up to `perWebhook` of each active subscription (never the N oldest
   * overall, so one dead target cannot starve the others), each the oldest pending one of its record
   * (order per record), skipping rows another instance holds. The claim is a lease: the row's next
   * try moves past the request's timeout, so a crashed instance's claim falls due again by itself.
   */
  async claimDue(tx: Executor, perWebhook: number, leaseMs: number): Promise<DeliveryRow[]> {
    const rows = await queryRows<{ id: string }>(
      tx,
      sql`WITH due AS (
            SELECT d.id FROM webhooks w
            CROSS JOIN LATERAL (
              SELECT d.id, d.seq FROM webhook_deliveries d
              WHERE d.webhook_id = w.id AND d.status = 'PENDING' AND d.next_attempt_at <= now()
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND e.entity_id = d.entity_id AND e.status = 'PENDING' AND e.seq < d.seq)
              ORDER BY d.seq LIMIT ${perWebhook}
            ) d
            WHERE w.active
          ), locked AS (
            -- Re-checked on the locked row: a row another instance claimed (and committed) after this
            -- statement's snapshot was taken is no longer due, and is not claimed a second time.
            SELECT id FROM webhook_deliveries WHERE id IN (SELECT id FROM due) AND status = 'PENDING' AND next_attempt_at <= now() FOR UPDATE SKIP LOCKED
          )
          UPDATE webhook_deliveries SET next_attempt_at = now() + ${`${leaseMs} milliseconds`}::interval
          WHERE id IN (SELECT id FROM locked) RETURNING id`,
    );
    if (rows.length === 0) return [];
    return tx
      .select()
      .from(webhookDeliveries)
      .where(sql`${webhookDeliveries.id} = ANY(${sql.param(rows.map((r) => r.id))}::uuid[])`)
      .orderBy(webhookDeliveries.seq);
  },

  async finish(ex: Executor, id: string, v: { status: string; nextAttemptAt: Date | null; attempt: DeliveryAttempt; delivered: boolean }): Promise<void> {
    await ex.execute(sql`UPDATE webhook_deliveries SET status = ${v.status}, attempts = attempts + 1,
      next_attempt_at = ${v.nextAttemptAt ? v.nextAttemptAt.toISOString() : null}::timestamptz,
      last_status_code = ${v.attempt.statusCode}, last_error = ${v.attempt.error}, last_latency_ms = ${v.attempt.latencyMs},
      delivered_at = CASE WHEN ${v.delivered} THEN now() ELSE delivered_at END,
      attempt_log = (CASE WHEN jsonb_array_length(attempt_log) >= 20 THEN attempt_log - 0 ELSE attempt_log END) || ${JSON.stringify([v.attempt])}::jsonb
      WHERE id = ${id}`);
  },

  async disable(ex: Executor, id: string, reason: string): Promise<void> {
    await ex.execute(sql`UPDATE webhooks SET active = false, disabled_reason = ${reason}, version = version + 1, updated_at = now() WHERE id = ${id} AND active`);
  },

  async secretsOf(ex: Executor, ids: string[]): Promise<Map<string, { url: string; secrets: string[] }>> {
    const rows = await ex.select().from(webhooks).where(sql`${webhooks.id} = ANY(${sql.param(ids)}::uuid[])`);
    const now = Date.now();
    return new Map(
      rows.map((w) => [
        w.id,
        { url: w.url, secrets: [w.secret, ...(w.previousSecret && w.previousSecretExpiresAt && w.previousSecretExpiresAt.getTime() > now ? [w.previousSecret] : [])] },
      ]),
    );
  },
};
