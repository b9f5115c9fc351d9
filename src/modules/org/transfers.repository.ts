import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { transfers } from '../../db/schema/index.js';
import type { Principal } from '../../lib/access.js';
import type { TransferCounts } from './org.schemas.js';

export type TransferRow = typeof transfers.$inferSelect;

// Who a transfer moves records from and to, and on whose authority.
export type Move = { transferId: string; fromUserId: string; toUserId: string | null; toUnitId: string; actor: Principal };

const n = async (ex: Executor, q: ReturnType<typeof sql>): Promise<number> => {
  const [r] = await queryRows<{ n: number | string }>(ex, q);
  return Number(r?.n ?? 0);
};

/**
 * Each move is one statement: lock the rows (in id order, so two transfers touching the same rows
 * queue instead of deadlocking), update them (new owner, version + 1), and write one
 * ownership_changes row and one outbox event per moved row, set-based.
 */
export const transfersRepository = {
  /** Every customer the user owns, whatever its status: no record keeps a departed owner. */
  async moveCustomers(ex: Executor, m: Move): Promise<number> {
    return n(
      ex,
      sql`WITH locked AS (
          SELECT id, owner_unit_id FROM customers WHERE owner_user_id = ${m.fromUserId} ORDER BY id FOR UPDATE
        ), moved AS (
          UPDATE customers c SET owner_user_id = ${m.toUserId}::uuid, owner_unit_id = ${m.toUnitId}::uuid, version = c.version + 1, updated_at = now()
          FROM locked l WHERE c.id = l.id
          RETURNING c.id, c.id AS customer_id, l.owner_unit_id AS from_unit_id, c.owner_user_id AS to_user_id, c.owner_unit_id AS to_unit_id, c.version
        ), history AS (${history('customer', m)}), outbox AS (${outbox('customer', m)})
        SELECT count(*) AS n FROM moved`,
    );
  },

  /** Open opportunities the user owns; won and lost ones keep who closed them. */
  async moveOpportunities(ex: Executor, m: Move): Promise<number> {
    return n(
      ex,
      sql`WITH locked AS (
          SELECT id, owner_unit_id FROM opportunities WHERE owner_user_id = ${m.fromUserId} AND status = 'OPEN' ORDER BY id FOR UPDATE
        ), moved AS (
          UPDATE opportunities o SET owner_user_id = ${m.toUserId}::uuid, owner_unit_id = ${m.toUnitId}::uuid, version = o.version + 1, updated_at = now()
          FROM locked l WHERE o.id = l.id
          RETURNING o.id, o.customer_id, l.owner_unit_id AS from_unit_id, o.owner_user_id AS to_user_id, o.owner_unit_id AS to_unit_id, o.version
        ), history AS (${history('opportunity', m)}), outbox AS (${outbox('opportunity', m)})
        SELECT count(*) AS n FROM moved`,
    );
  },

  async openActionsOf(ex: Executor, userId: string): Promise<number> {
    return n(ex, sql`SELECT count(*) AS n FROM actions WHERE assignee_id = ${userId} AND status = 'OPEN'`);
  },

  /** Open actions assigned to the user go to `assigneeId` (never null: an action always has someone to do it). */
  async moveActions(ex: Executor, m: Move, assignee: { id: string; unitId: string }): Promise<number> {
    return n(
      ex,
      sql`WITH locked AS (
          SELECT id, owner_unit_id FROM actions WHERE assignee_id = ${m.fromUserId} AND status = 'OPEN' ORDER BY id FOR UPDATE
        ), moved AS (
          UPDATE actions a SET assignee_id = ${assignee.id}::uuid, owner_unit_id = ${assignee.unitId}::uuid, version = a.version + 1, updated_at = now()
          FROM locked l WHERE a.id = l.id
          RETURNING a.id, a.customer_id, l.owner_unit_id AS from_unit_id, a.assignee_id AS to_user_id, a.owner_unit_id AS to_unit_id, a.version
        ), history AS (${history('action', m)}), outbox AS (${outbox('action', m)})
        SELECT count(*) AS n FROM moved`,
    );
  },

  /** The head of a unit: its longest-serving active manager (or partner manager), if any. */
  async headOf(ex: Executor, unitId: string): Promise<{ id: string; unitId: string } | null> {
    const [row] = await queryRows<{ id: string; unit_id: string }>(
      ex,
      sql`SELECT u.id, u.unit_id FROM users u
        WHERE u.unit_id = ${unitId} AND u.active
          AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name IN ('manager', 'partner_manager'))
        ORDER BY u.created_at, u.id LIMIT 1
        FOR SHARE OF u`,
    );
    return row ? { id: row.id, unitId: row.unit_id } : null;
  },

  async insert(ex: Executor, m: Move, counts: TransferCounts): Promise<TransferRow> {
    const [row] = await ex
      .insert(transfers)
      .values({ id: m.transferId, fromUserId: m.fromUserId, toUserId: m.toUserId, toUnitId: m.toUnitId, counts, actorId: m.actor.userId, onBehalfOfId: null })
      .returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  /** What a user still holds: what deactivation waits for. */
  async holdings(ex: Executor, userId: string): Promise<TransferCounts> {
    const [r] = await queryRows<{ customers: number | string; opportunities: number | string; actions: number | string }>(
      ex,
      sql`SELECT (SELECT count(*) FROM customers WHERE owner_user_id = ${userId}) AS customers,
        (SELECT count(*) FROM opportunities WHERE owner_user_id = ${userId} AND status = 'OPEN') AS opportunities,
        (SELECT count(*) FROM actions WHERE assignee_id = ${userId} AND status = 'OPEN') AS actions`,
    );
    return { customers: Number(r?.customers ?? 0), opportunities: Number(r?.opportunities ?? 0), actions: Number(r?.actions ?? 0) };
  },
};

// One ownership_changes row per moved row (CTE `moved`), so each record's timeline shows the transfer.
function history(entityType: string, m: Move) {
  return sql`INSERT INTO ownership_changes (entity_type, entity_id, customer_id, from_user_id, from_unit_id, to_user_id, to_unit_id, cause, transfer_id, actor_id, on_behalf_of_id)
    SELECT ${entityType}, id, customer_id, ${m.fromUserId}::uuid, from_unit_id, to_user_id, to_unit_id, 'TRANSFER', ${m.transferId}::uuid, ${m.actor.userId}::uuid, NULL FROM moved`;
}

// One outbox event per moved row, addressed to its new owner.
function outbox(entityType: string, m: Move) {
  return sql`INSERT INTO events (type, entity_type, entity_id, owner_user_id, owner_unit_id, actor_id, on_behalf_of_id, payload)
    SELECT ${`${entityType}.transferred`}, ${entityType}, id, to_user_id, to_unit_id, ${m.actor.userId}::uuid, NULL,
      jsonb_build_object('transferId', ${m.transferId}::text, 'customerId', customer_id,
        'before', jsonb_build_object('ownerUserId', ${m.fromUserId}::text, 'ownerUnitId', from_unit_id),
        'after', jsonb_build_object('ownerUserId', to_user_id, 'ownerUnitId', to_unit_id, 'version', version))
    FROM moved`;
}
