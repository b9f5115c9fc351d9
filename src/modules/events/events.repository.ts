import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { access, type Principal } from '../../lib/access.js';

// Positions in the feed are (xid, id): the writing transaction's id, then the row's. Only rows below
// the oldest transaction still running are served: such a transaction's rows (which may carry lower
// ids than rows already committed) are then either all visible or gone, so a reader that resumes
// after a position never skips a row committed late.

export type Position = { xid: string; id: number };

export type EventRow = {
  id: string;
  xid: string;
  at: Date | string;
  type: string;
  entity_type: string;
  entity_id: string;
  actor_id: string | null;
  on_behalf_of_id: string | null;
  request_id: string | null;
  payload: unknown;
  c_id: string | null;
  c_name: string | null;
  c_external_ids: Record<string, string> | null;
};

const UUID_TEXT = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const eventsRepository = {
  /** Every transaction below this xid has ended: the feed may serve rows up to it. */
  async horizon(ex: Executor): Promise<string> {
    const [r] = await queryRows<{ xmin: string }>(ex, sql`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`);
    return r?.xmin ?? '0';
  },

  /** Where pruning stopped: a position at or before it may have lost events. */
  async prunedThrough(ex: Executor): Promise<Position | null> {
    const [r] = await queryRows<{ xid: string; event_id: string }>(ex, sql`SELECT xid::text AS xid, event_id FROM events_pruned WHERE id = 1`);
    return r ? { xid: r.xid, id: Number(r.event_id) } : null;
  },

  /**
   * Up to `limit` events after `after`, below `horizon`, of the stored types given, that `p` may read.
   * Won and lost deals bring their customer (if `p` may see it).
   */
  async page(ex: Executor, p: Principal, o: { after: Position | null; horizon: string; storedTypes: string[]; limit: number; dealTypes: string[] }): Promise<EventRow[]> {
    const after = o.after ? sql`AND (events.xid, events.id) > (${o.after.xid}::xid8, ${o.after.id}::bigint)` : sql``;
    const customerId = sql`CASE WHEN events.type = ANY(${sql.param(o.dealTypes)}::text[]) AND (events.payload->'after'->>'customerId') ~ ${UUID_TEXT}
      THEN (events.payload->'after'->>'customerId')::uuid END`;
    return queryRows<EventRow>(
      ex,
      sql`SELECT events.id, events.xid::text AS xid, events.at, events.type, events.entity_type, events.entity_id, events.actor_id,
          events.on_behalf_of_id, events.request_id, events.payload, customers.id AS c_id, customers.name AS c_name, customers.external_ids AS c_external_ids
        FROM events
        LEFT JOIN customers ON customers.id = ${customerId} AND ${access.customer.visible(p)}
        WHERE events.xid < ${o.horizon}::xid8 ${after}
          AND events.type = ANY(${sql.param(o.storedTypes)}::text[])
          AND ${access.event.visible(p)}
        ORDER BY events.xid, events.id
        LIMIT ${o.limit}`,
    );
  },

  /**
   * Deletes the events older than `cutoff`, as a prefix of the feed (never one younger than the
   * oldest kept event's position), and moves the watermark. Returns how many went.
   */
  async prune(ex: Executor, cutoff: Date, horizon: string): Promise<number> {
    const [r] = await queryRows<{ n: string }>(
      ex,
      sql`WITH young AS (
            SELECT xid, id FROM events WHERE at >= ${cutoff.toISOString()}::timestamptz OR xid >= ${horizon}::xid8 ORDER BY xid, id LIMIT 1
          ), gone AS (
            DELETE FROM events WHERE at < ${cutoff.toISOString()}::timestamptz AND xid < ${horizon}::xid8
              AND (NOT EXISTS (SELECT 1 FROM young) OR (xid, id) < (SELECT xid, id FROM young))
            RETURNING xid, id
          ), last AS (SELECT xid, id FROM gone ORDER BY xid DESC, id DESC LIMIT 1),
          mark AS (
            INSERT INTO events_pruned (id, xid, event_id, pruned_at) SELECT 1, xid, id, now() FROM last
            ON CONFLICT (id) DO UPDATE SET xid = excluded.xid, event_id = excluded.event_id, pruned_at = now()
              WHERE (excluded.xid, excluded.event_id) > (events_pruned.xid, events_pruned.event_id)
          )
          SELECT count(*) AS n FROM gone`,
    );
    return Number(r?.n ?? 0);
  },
};
