import { sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';

export type DeliveryBacklog = { due: number; scheduled: number; lagSeconds: number };

/**
 * What event delivery owes, read at scrape time (two indexed statements):
 * - `due`: webhook deliveries PENDING whose next attempt time has come, for active subscriptions;
 * - `scheduled`: PENDING deliveries waiting for a later retry;
 * - `lagSeconds`: the age of the oldest event not yet delivered to an active subscription — either
 *   still ahead of the subscription's position in the feed, or picked up and PENDING — 0 when none.
 */
export async function deliveryBacklog(database: Database): Promise<DeliveryBacklog> {
  const [counts] = await queryRows<{ due: number; scheduled: number; oldest: string | null }>(
    database.db,
    sql`SELECT count(*) FILTER (WHERE d.next_attempt_at <= now())::int AS due,
               count(*) FILTER (WHERE d.next_attempt_at > now())::int AS scheduled,
               extract(epoch FROM now() - min(coalesce((d.payload->>'occurredAt')::timestamptz, d.created_at)))::text AS oldest
        FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'PENDING' AND w.active`,
  );
  const [ahead] = await queryRows<{ oldest: string | null }>(
    database.db,
    sql`SELECT extract(epoch FROM now() - min(e.at))::text AS oldest
        FROM webhooks w
        CROSS JOIN LATERAL (
          SELECT ev.at FROM events ev WHERE (ev.xid, ev.id) > (w.pos_xid, w.pos_id) ORDER BY ev.xid, ev.id LIMIT 1
        ) e
        WHERE w.active`,
  );
  const age = (s: string | null | undefined) => (s ? Math.max(0, Number(s)) : 0);
  return { due: Number(counts?.due ?? 0), scheduled: Number(counts?.scheduled ?? 0), lagSeconds: Math.max(age(counts?.oldest), age(ahead?.oldest)) };
}
