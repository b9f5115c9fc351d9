import { and, desc, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { customers, handoffs, lifecycleTransitions, orgUnits, ownershipChanges, users } from '../../db/schema/index.js';
import { access, allocationReachPredicate, handoffReceived, isHandoffReceiver, type Principal } from '../../lib/access.js';
import { keyset } from '../../lib/pagination.js';

export type HandoffRow = typeof handoffs.$inferSelect;
export type TransitionRow = typeof lifecycleTransitions.$inferSelect;
export type CustomerRow = typeof customers.$inferSelect;

const received = handoffReceived;
const handoffVisible = access.handoff.visible;

export const lifecycleRepository = {
  isReceiver(p: Principal, h: HandoffRow): boolean {
    return isHandoffReceiver(p, h);
  },

  async lockCustomer(ex: Executor, id: string): Promise<CustomerRow | null> {
    const [row] = await ex.select().from(customers).where(eq(customers.id, id)).for('update');
    return row ?? null;
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

  async listHandoffs(ex: Executor, p: Principal, f: { box: 'received' | 'sent'; status?: string | undefined }, cursor: string | undefined, limit: number): Promise<HandoffRow[]> {
    const ks = keyset({ column: handoffs.createdAt, desc: true, kind: 'timestamp' }, handoffs.id, cursor);
    const conds: (SQL | undefined)[] = [f.box === 'sent' ? eq(handoffs.fromUserId, p.userId) : received(p), ks.where];
    if (f.status) conds.push(eq(handoffs.status, f.status));
    return ex
      .select()
      .from(handoffs)
      .where(and(...conds))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
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

  async setOwner(ex: Executor, id: string, owner: { ownerUserId: string | null; ownerUnitId: string }): Promise<CustomerRow> {
    const [row] = await ex
      .update(customers)
      .set({ ...owner, version: sql`${customers.version} + 1`, updatedAt: sql`now()` })
      .where(eq(customers.id, id))
      .returning();
    if (!row) throw new Error('update returned nothing');
    return row;
  },

  async insertOwnershipChange(ex: Executor, v: typeof ownershipChanges.$inferInsert): Promise<void> {
    await ex.insert(ownershipChanges).values(v);
  },
};
