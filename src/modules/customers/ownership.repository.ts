import { eq, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { customers, lifecycleTransitions, ownershipChanges } from '../../db/schema/index.js';
import type { Principal } from '../../lib/access.js';
import { recordRowChanges } from '../../lib/audit.js';

// The customers module owns the customer row, its lifecycle transitions and the ownership history
// of every record (customers, opportunities, actions). Other modules change them only through the
// functions here, re-exported by index.ts, inside their own transaction.

export type CustomerRow = typeof customers.$inferSelect;
export type LifecycleTransitionRow = typeof lifecycleTransitions.$inferSelect;
export type Owner = { ownerUserId: string | null; ownerUnitId: string };
export type OwnershipCause = 'TRANSFER' | 'REASSIGNMENT' | 'HANDOFF' | 'MERGE' | 'ALLOCATION';

// Who a transfer moves records from and to, and on whose authority.
export type Move = { transferId: string; fromUserId: string; toUserId: string | null; toUnitId: string; actor: Principal };

const count = async (ex: Executor, q: ReturnType<typeof sql>): Promise<number> => {
  const [r] = await queryRows<{ n: number | string }>(ex, q);
  return Number(r?.n ?? 0);
};

export const ownershipRepository = {
  /** The customer row, locked for the rest of the transaction (no visibility check: the caller made it). */
  async lockById(ex: Executor, id: string): Promise<CustomerRow | null> {
    const [row] = await ex.select().from(customers).where(eq(customers.id, id)).for('update');
    return row ?? null;
  },

  async setOwner(ex: Executor, id: string, owner: Owner): Promise<CustomerRow> {
    const [row] = await ex
      .update(customers)
      .set({ ...owner, version: sql`${customers.version} + 1`, updatedAt: sql`now()` })
      .where(eq(customers.id, id))
      .returning();
    if (!row) throw new Error('update returned nothing');
    return row;
  },

  async setLifecycleStage(ex: Executor, id: string, stage: string): Promise<void> {
    await ex
      .update(customers)
      .set({ lifecycleStage: stage, version: sql`${customers.version} + 1`, updatedAt: sql`now()` })
      .where(eq(customers.id, id));
  },

  async insertLifecycleTransition(ex: Executor, v: typeof lifecycleTransitions.$inferInsert): Promise<LifecycleTransitionRow> {
    const [row] = await ex.insert(lifecycleTransitions).values(v).returning();
    if (!row) throw new Error('lifecycle transition insert returned nothing');
    return row;
  },

  /** One row of ownership history. */
  async insertChange(
    ex: Executor,
    p: Principal,
    c: { entityType: string; entityId: string; customerId: string; from: Owner; to: Owner; cause: OwnershipCause; onBehalfOfId: string | null },
  ): Promise<void> {
    await ex.insert(ownershipChanges).values({
      entityType: c.entityType,
      entityId: c.entityId,
      customerId: c.customerId,
      fromUserId: c.from.ownerUserId,
      fromUnitId: c.from.ownerUnitId,
      toUserId: c.to.ownerUserId,
      toUnitId: c.to.ownerUnitId,
      cause: c.cause,
      actorId: p.userId,
      onBehalfOfId: c.onBehalfOfId,
    });
  },

  /** Every customer the user owns, whatever its status: no record keeps a departed owner. */
  async transferCustomers(ex: Executor, m: Move): Promise<number> {
    return count(
      ex,
      sql`WITH locked AS (
          SELECT id, owner_unit_id FROM customers WHERE owner_user_id = ${m.fromUserId} ORDER BY id FOR UPDATE
        ), moved AS (
          UPDATE customers c SET owner_user_id = ${m.toUserId}::uuid, owner_unit_id = ${m.toUnitId}::uuid, version = c.version + 1, updated_at = now()
          FROM locked l WHERE c.id = l.id
          RETURNING c.id, c.id AS customer_id, l.owner_unit_id AS from_unit_id, c.owner_user_id AS to_user_id, c.owner_unit_id AS to_unit_id, c.version
        ), ${transferWrites('customer', m)}
        SELECT count(*) AS n FROM moved`,
    );
  },

  /** How many customers the user owns, whatever their status. */
  async ownedCount(ex: Executor, userId: string): Promise<number> {
    return count(ex, sql`SELECT count(*) AS n FROM customers WHERE owner_user_id = ${userId}`);
  },

  /** A merge: the duplicate's ownership history follows it into the survivor. */
  async repointHistory(ex: Executor, fromId: string, toId: string): Promise<number> {
    return count(
      ex,
      sql`WITH moved AS (UPDATE ownership_changes SET customer_id = ${toId} WHERE customer_id = ${fromId} RETURNING id) SELECT count(*) AS n FROM moved`,
    );
  },
};

/**
 * The WITH entries that record a transfer of the rows of the CTE `moved` (id, customer_id,
 * from_unit_id, to_user_id, to_unit_id, version): one ownership_changes row per moved row (so each
 * record's timeline shows the transfer), and its audit row and event, addressed to the new owner.
 * Used by every module whose records a transfer moves.
 */
export function transferWrites(entityType: string, m: Move) {
  const w = recordRowChanges(m.actor, {
    rows: 'moved',
    entityType,
    action: 'transferred',
    entityId: sql`id`,
    ownerUserId: sql`to_user_id`,
    ownerUnitId: sql`to_unit_id`,
    before: sql`jsonb_build_object('ownerUserId', ${m.fromUserId}::text, 'ownerUnitId', from_unit_id)`,
    after: sql`jsonb_build_object('ownerUserId', to_user_id, 'ownerUnitId', to_unit_id, 'version', version, 'transferId', ${m.transferId}::text, 'customerId', customer_id)`,
  });
  return sql`history AS (
      INSERT INTO ownership_changes (entity_type, entity_id, customer_id, from_user_id, from_unit_id, to_user_id, to_unit_id, cause, transfer_id, actor_id, on_behalf_of_id)
      SELECT ${entityType}, id, customer_id, ${m.fromUserId}::uuid, from_unit_id, to_user_id, to_unit_id, 'TRANSFER', ${m.transferId}::uuid, ${m.actor.userId}::uuid, NULL FROM moved
    ), audit AS (${w.audit}), outbox AS (${w.events})`;
}
