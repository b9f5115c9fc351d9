import { and, desc, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { recordRowChanges } from '../../lib/audit.js';
import { repointCustomerRows } from '../../lib/repoint.js';
import { customers, handoffs, lifecycleTransitions, orgUnits, users } from '../../db/schema/index.js';
import { access, allocationReachPredicate, handoffReceived, isHandoffReceiver, type Principal } from '../../lib/access.js';
import { countRows, keyset, updatedAfterCondition } from '../../lib/pagination.js';

export type HandoffRow = typeof handoffs.$inferSelect;
export type DueHandoff = {
  id: string;
  customerId: string;
  customerName: string;
  owner: { ownerUserId: string | null; ownerUnitId: string };
  toUnitId: string;
  toUserId: string | null;
};
export type TransitionRow = typeof lifecycleTransitions.$inferSelect;

const received = handoffReceived;
const handoffVisible = access.handoff.visible;

type HandoffListFilter = { box: 'received' | 'sent'; status?: string | undefined; updatedAfter?: string | undefined };
const HANDOFF_SORT_COLUMNS = { createdAt: handoffs.createdAt, updatedAt: handoffs.updatedAt } as const;

// The handoffs list's where-builder, for its pages and its count.
function handoffListConditions(p: Principal, f: HandoffListFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [f.box === 'sent' ? eq(handoffs.fromUserId, p.userId) : received(p)];
  if (f.status) conds.push(eq(handoffs.status, f.status));
  conds.push(updatedAfterCondition(handoffs.updatedAt, f.updatedAfter));
  return conds;
}

export const lifecycleRepository = {
  isReceiver(p: Principal, h: HandoffRow): boolean {
    return isHandoffReceiver(p, h);
  },

  async listTransitions(ex: Executor, customerId: string, cursor: string | undefined, limit: number): Promise<TransitionRow[]> {
    const ks = keyset({ column: lifecycleTransitions.at, desc: true, kind: 'timestamp' }, lifecycleTransitions.id, cursor);
    return ex
      .select()
      .from(lifecycleTransitions)
      .where(and(eq(lifecycleTransitions.customerId, customerId), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  // The list's rows over all its pages (the service has checked the customer is visible).
  countTransitions(ex: Executor, customerId: string): Promise<number> {
    return countRows(ex, lifecycleTransitions, eq(lifecycleTransitions.customerId, customerId));
  },

  async transitionsOf(ex: Executor, p: Principal, customerIds: readonly string[]): Promise<TransitionRow[]> {
    if (customerIds.length === 0) return [];
    return ex
      .select(getTableColumns(lifecycleTransitions))
      .from(lifecycleTransitions)
      .innerJoin(customers, eq(customers.id, lifecycleTransitions.customerId))
      .where(and(inArray(lifecycleTransitions.customerId, [...customerIds]), access.customer.visible(p)))
      .orderBy(desc(lifecycleTransitions.at), desc(lifecycleTransitions.id));
  },

  async handoffsOf(ex: Executor, p: Principal, customerIds: readonly string[]): Promise<HandoffRow[]> {
    if (customerIds.length === 0) return [];
    return ex
      .select()
      .from(handoffs)
      .where(and(inArray(handoffs.customerId, [...customerIds]), handoffVisible(p)))
      .orderBy(desc(handoffs.createdAt), desc(handoffs.id));
  },

  async findVisibleHandoff(ex: Executor, p: Principal, id: string): Promise<HandoffRow | null> {
    const [row] = await ex.select().from(handoffs).where(and(eq(handoffs.id, id), handoffVisible(p)));
    return row ?? null;
  },

  async lockHandoff(ex: Executor, id: string): Promise<HandoffRow | null> {
    const [row] = await ex.select().from(handoffs).where(eq(handoffs.id, id)).for('update');
    return row ?? null;
  },

  async listHandoffs(
    ex: Executor,
    p: Principal,
    f: HandoffListFilter,
    sort: { field: keyof typeof HANDOFF_SORT_COLUMNS; desc: boolean },
    cursor: string | undefined,
    limit: number,
  ): Promise<HandoffRow[]> {
    const ks = keyset({ column: HANDOFF_SORT_COLUMNS[sort.field], desc: sort.desc, kind: 'timestamp' }, handoffs.id, cursor);
    return ex
      .select()
      .from(handoffs)
      .where(and(...handoffListConditions(p, f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  // The list's rows over all its pages: the same box and filters.
  countHandoffs(ex: Executor, p: Principal, f: HandoffListFilter): Promise<number> {
    return countRows(ex, handoffs, and(...handoffListConditions(p, f)));
  },

  async pendingFor(ex: Executor, customerId: string): Promise<HandoffRow | null> {
    const [row] = await ex.select().from(handoffs).where(and(eq(handoffs.customerId, customerId), eq(handoffs.status, 'PENDING')));
    return row ?? null;
  },

  /** A receiver as the caller may address it: one outside its allocation reach answers like one that does not exist. */
  async receiverUser(ex: Executor, p: Principal, userId: string) {
    const [u] = await ex
      .select({ id: users.id, unitId: users.unitId, active: users.active, visible: sql<boolean>`(${allocationReachPredicate(p, users.unitId)})` })
      .from(users)
      .where(eq(users.id, userId));
    return u ?? null;
  },

  async receiverUnit(ex: Executor, p: Principal, unitId: string) {
    const [u] = await ex
      .select({ id: orgUnits.id, visible: sql<boolean>`(${allocationReachPredicate(p, orgUnits.id)})` })
      .from(orgUnits)
      .where(eq(orgUnits.id, unitId));
    return u ?? null;
  },

  async insertHandoff(ex: Executor, v: typeof handoffs.$inferInsert): Promise<HandoffRow> {
    const [row] = await ex.insert(handoffs).values(v).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async decide(ex: Executor, id: string, set: Partial<typeof handoffs.$inferInsert>): Promise<HandoffRow> {
    const [row] = await ex
      .update(handoffs)
      .set({ ...set, version: sql`${handoffs.version} + 1`, updatedAt: sql`now()` })
      .where(eq(handoffs.id, id))
      .returning();
    if (!row) throw new Error('update returned nothing');
    return row;
  },

  // ---- deadline escalation ----

  /** The handoff if still pending and overdue, with its customer (key-share locked, as accept and reject lock it first). */
  async dueForEscalation(ex: Executor, id: string): Promise<DueHandoff | null> {
    const [due] = await queryRows<{ id: string; customer_id: string; customer_name: string; owner_user_id: string | null; owner_unit_id: string; to_unit_id: string; to_user_id: string | null }>(
      ex,
      sql`SELECT h.id, h.customer_id, c.name AS customer_name, c.owner_user_id, c.owner_unit_id, h.to_unit_id, h.to_user_id
          FROM handoffs h JOIN customers c ON c.id = h.customer_id
          WHERE h.id = ${id} AND h.status = 'PENDING' AND h.due_at <= now()
          FOR KEY SHARE OF c`,
    );
    return due
      ? { id: due.id, customerId: due.customer_id, customerName: due.customer_name, owner: { ownerUserId: due.owner_user_id, ownerUnitId: due.owner_unit_id }, toUnitId: due.to_unit_id, toUserId: due.to_user_id }
      : null;
  },

  /** Flips a pending overdue handoff to ESCALATED; false when another run got there first. */
  async markEscalated(ex: Executor, id: string, escalatedToId: string | null): Promise<boolean> {
    const rows = await queryRows<{ id: string }>(
      ex,
      sql`UPDATE handoffs SET status = 'ESCALATED', escalated_at = now(), escalated_to_id = ${escalatedToId}::uuid, version = version + 1, updated_at = now()
          WHERE id = ${id} AND status = 'PENDING' AND due_at <= now()
          RETURNING id`,
    );
    return rows.length > 0;
  },

  async overdueIds(ex: Executor, limit: number): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(ex, sql`SELECT id FROM handoffs WHERE status = 'PENDING' AND due_at <= now() ORDER BY due_at, id LIMIT ${limit}`);
    return rows.map((r) => r.id);
  },

  // ---- merge ----

  /**
   * A merge: a PENDING handoff of the duplicate is cancelled first (the survivor may have one of its
   * own, and a lead cannot be handed off twice), then the duplicate's handoffs move to the survivor.
   */
  async repointToCustomer(ex: Executor, p: Principal, fromId: string, toId: string) {
    const w = recordRowChanges(p, {
      rows: 'moved',
      entityType: 'handoff',
      action: 'cancelled_by_merge',
      entityId: sql`id`,
      ownerUserId: sql`owner_user_id`,
      ownerUnitId: sql`owner_unit_id`,
      before: sql`jsonb_build_object('customerId', ${fromId}::text)`,
      after: sql`jsonb_build_object('customerId', ${toId}::text)`,
    });
    const cancelled = await queryRows<{ id: string }>(
      ex,
      sql`WITH moved AS (
          UPDATE handoffs SET status = 'CANCELLED', reason = ${`customer merged into ${toId}`}, decided_by = ${p.userId}, decided_at = now(), version = version + 1, updated_at = now()
          WHERE customer_id = ${fromId} AND status = 'PENDING'
          RETURNING id, to_user_id AS owner_user_id, to_unit_id AS owner_unit_id
        ), audit AS (${w.audit}), outbox AS (${w.events})
        SELECT id FROM moved`,
    );
    const handoffsMoved = await repointCustomerRows(ex, p, { table: 'handoffs', entityType: 'handoff', owner: sql`t.to_user_id AS owner_user_id, t.to_unit_id AS owner_unit_id`, fromId, toId });
    return { handoffs: handoffsMoved, cancelledHandoffs: cancelled.map((h) => h.id) };
  },
};
