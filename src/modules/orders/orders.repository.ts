import { and, asc, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import { type Executor } from '../../db/client.js';
import { insertJsonRows } from '../../db/json-rows.js';
import { customers, opportunities, orderLines, orders } from '../../db/schema/index.js';
import { access, type Principal } from '../../lib/access.js';
import { keyset } from '../../lib/pagination.js';
import { repointCustomerRows, survivorOwner } from '../../lib/repoint.js';
import type { Line } from './orders.rules.js';

export type OrderRow = typeof orders.$inferSelect;
export type OrderInsert = typeof orders.$inferInsert;
export type LineRow = typeof orderLines.$inferSelect;
// An order with its owner as it stands now: the customer's (a transfer of the customer moves its orders' owner too).
export type OrderHit = { row: OrderRow; ownerUserId: string | null; ownerUnitId: string };

export const RESOURCE = 'order';

// The columns a merge patch of an order writes (with the owner, the customer's as it stands).
const WRITABLE = ['number', 'currency', 'opportunityId', 'status', 'orderedAt', 'paidAt', 'shippedAt', 'confirmedAt', 'cancelledAt', 'amount', 'ownerUserId', 'ownerUnitId'] as const;
type Writable = (typeof WRITABLE)[number];

const canSee = access.order.visible;
const canDo = access.order.allows;

export type OrderSort = 'orderedAt' | 'updatedAt';
const SORTS = { orderedAt: orders.orderedAt, updatedAt: orders.updatedAt } as const;

export type ListFilter = {
  customerId?: string | undefined;
  opportunityId?: string | undefined;
  status?: string | undefined;
  number?: string | undefined;
  currency?: string | undefined;
  productLine?: string | undefined;
  ownerUserId?: string | undefined;
  ownerUnitId?: string | undefined;
  orderedAfter?: string | undefined;
  orderedBefore?: string | undefined;
  updatedAfter?: string | undefined;
};

const withOwner = { row: orders, ownerUserId: customers.ownerUserId, ownerUnitId: customers.ownerUnitId };

function listConditions(p: Principal, f: ListFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [canSee(p)];
  if (f.customerId) conds.push(eq(orders.customerId, f.customerId));
  if (f.opportunityId) conds.push(eq(orders.opportunityId, f.opportunityId));
  if (f.status) conds.push(eq(orders.status, f.status));
  if (f.number) conds.push(eq(orders.number, f.number));
  if (f.currency) conds.push(eq(orders.currency, f.currency));
  if (f.ownerUserId) conds.push(eq(customers.ownerUserId, f.ownerUserId));
  if (f.ownerUnitId) conds.push(eq(customers.ownerUnitId, f.ownerUnitId));
  if (f.orderedAfter) conds.push(sql`${orders.orderedAt} >= ${f.orderedAfter}::timestamptz`);
  if (f.orderedBefore) conds.push(sql`${orders.orderedAt} < ${f.orderedBefore}::timestamptz`);
  if (f.updatedAfter) conds.push(sql`${orders.updatedAt} > ${f.updatedAfter}::timestamptz`);
  if (f.productLine) conds.push(sql`${orders.id} IN (SELECT ol.order_id FROM order_lines ol WHERE ol.product_line = ${f.productLine})`);
  return conds;
}

export const ordersRepository = {
  async findVisible(ex: Executor, p: Principal, id: string): Promise<OrderHit | null> {
    const [hit] = await ex
      .select(withOwner)
      .from(orders)
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .where(and(eq(orders.id, id), canSee(p)));
    return hit ?? null;
  },

  async visibleByIds(ex: Executor, p: Principal, ids: readonly string[]): Promise<OrderHit[]> {
    if (ids.length === 0) return [];
    return ex
      .select(withOwner)
      .from(orders)
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .where(and(inArray(orders.id, [...ids]), canSee(p)));
  },

  /** The order if visible, locked (the order row only), with whether `permission` allows acting on it. */
  async findForAction(ex: Executor, p: Principal, id: string, permission: string): Promise<(OrderHit & { allowed: boolean }) | null> {
    const [hit] = await ex
      .select({ ...withOwner, allowed: sql<boolean>`(${canDo(p, permission)})` })
      .from(orders)
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .where(and(eq(orders.id, id), canSee(p)))
      .for('update', { of: orders });
    return hit ?? null;
  },

  /** Many visible orders, each with whether `permission` allows acting on it (a bulk load's read; no lock). */
  async visibleForAction(ex: Executor, p: Principal, ids: readonly string[], permission: string): Promise<(OrderHit & { allowed: boolean })[]> {
    if (ids.length === 0) return [];
    return ex
      .select({ ...withOwner, allowed: sql<boolean>`(${canDo(p, permission)})` })
      .from(orders)
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .where(and(inArray(orders.id, [...ids]), canSee(p)));
  },

  async list(ex: Executor, p: Principal, f: ListFilter, field: OrderSort, desc: boolean, cursor: string | undefined, limit: number): Promise<OrderHit[]> {
    const ks = keyset({ column: SORTS[field], desc, kind: 'timestamp' }, orders.id, cursor);
    return ex
      .select(withOwner)
      .from(orders)
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .where(and(...listConditions(p, f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  async count(ex: Executor, p: Principal, f: ListFilter): Promise<number> {
    const [row] = await ex
      .select({ n: sql<number>`count(*)::int` })
      .from(orders)
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .where(and(...listConditions(p, f)));
    return Number(row?.n ?? 0);
  },

  /** One page per customer for many customers in one statement (GraphQL Customer.orders), newest order first. */
  async pagesByCustomer(ex: Executor, p: Principal, customerIds: readonly string[], cursor: string | undefined, limit: number): Promise<OrderHit[]> {
    if (customerIds.length === 0) return [];
    const ks = keyset({ column: orders.orderedAt, desc: true, kind: 'timestamp' }, orders.id, cursor);
    const ranked = ex
      .select({
        id: orders.id,
        rn: sql<number>`row_number() OVER (PARTITION BY ${orders.customerId} ORDER BY ${orders.orderedAt} DESC, ${orders.id} DESC)`.as('rn'),
      })
      .from(orders)
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .where(and(inArray(orders.customerId, [...customerIds]), canSee(p), ks.where))
      .as('ranked');
    return ex
      .select(withOwner)
      .from(orders)
      .innerJoin(ranked, eq(ranked.id, orders.id))
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .where(sql`${ranked.rn} <= ${limit + 1}`)
      .orderBy(asc(orders.customerId), sql`${orders.orderedAt} DESC`, sql`${orders.id} DESC`);
  },

  /** How many visible orders each of these customers has (one statement). */
  async countsByCustomer(ex: Executor, p: Principal, customerIds: readonly string[]): Promise<Map<string, number>> {
    if (customerIds.length === 0) return new Map();
    const rows = await ex
      .select({ customerId: orders.customerId, n: sql<number>`count(*)::int` })
      .from(orders)
      .innerJoin(customers, eq(customers.id, orders.customerId))
      .where(and(inArray(orders.customerId, [...customerIds]), canSee(p)))
      .groupBy(orders.customerId);
    return new Map(rows.map((r) => [r.customerId, Number(r.n)]));
  },

  async linesOf(ex: Executor, orderIds: readonly string[]): Promise<LineRow[]> {
    if (orderIds.length === 0) return [];
    return ex
      .select()
      .from(orderLines)
      .where(inArray(orderLines.orderId, [...orderIds]))
      .orderBy(asc(orderLines.orderId), asc(orderLines.position));
  },

  async insert(ex: Executor, values: OrderInsert): Promise<OrderRow> {
    const [row] = await ex.insert(orders).values(values).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  /**
   * Many new orders (ids given) in one INSERT and their lines in one more (db/json-rows.ts: one jsonb parameter
   * each); answers the orders as stored, in the order given.
   */
  async insertMany(ex: Executor, values: readonly (OrderInsert & { id: string; lines: readonly Line[] })[]): Promise<OrderRow[]> {
    if (values.length === 0) return [];
    await insertJsonRows(ex, orders, values.map(({ lines: _, ...v }) => v));
    await insertJsonRows(ex, orderLines, values.flatMap((v) => v.lines.map((l, i) => ({ orderId: v.id, position: i + 1, ...l }))));
    const rows = new Map((await ex.select().from(orders).where(sql`${orders.id} = ANY(${sql.param(values.map((v) => v.id))}::uuid[])`)).map((r) => [r.id, r]));
    return values.map((v) => rows.get(v.id) as OrderRow);
  },

  /** Compare-and-set on version: null when another write got there first. */
  async update(ex: Executor, id: string, version: number, set: Partial<OrderInsert>): Promise<OrderRow | null> {
    const [row] = await ex
      .update(orders)
      .set({ ...set, version: sql`${orders.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(orders.id, id), eq(orders.version, version)))
      .returning();
    return row ?? null;
  },

  /** Many orders locked (FOR UPDATE, in id order), with their versions: the orders a bulk load's batch changes. */
  async lockVersions(ex: Executor, ids: readonly string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await ex
      .select({ id: orders.id, version: orders.version })
      .from(orders)
      .where(sql`${orders.id} = ANY(${sql.param([...new Set(ids)])}::uuid[])`)
      .orderBy(asc(orders.id))
      .for('update');
    return new Map(rows.map((r) => [r.id, r.version]));
  },

  /**
   * Many orders' new headers in one statement, each compare-and-set on its version (version + 1, updated_at now);
   * an order another write got to first is absent from the answer. The ids also go as an array, so the primary
   * key finds the rows.
   */
  async updateMany(ex: Executor, rows: readonly (Pick<OrderRow, 'id' | 'version'> & Pick<OrderRow, Writable>)[]): Promise<OrderRow[]> {
    if (rows.length === 0) return [];
    const cols = getTableColumns(orders);
    const json = rows.map((r) => Object.fromEntries([['id', r.id], ['version', r.version], ...WRITABLE.map((k) => [cols[k].name, r[k]])]));
    const set = Object.fromEntries(WRITABLE.map((k) => [k, sql.raw(`v.${cols[k].name}`)]));
    return ex
      .update(orders)
      .set({ ...set, version: sql`${orders.version} + 1`, updatedAt: sql`now()` })
      .from(sql`jsonb_populate_recordset(NULL::orders, ${JSON.stringify(json)}::jsonb) AS v`)
      .where(sql`${orders.id} = v.id AND ${orders.version} = v.version AND ${orders.id} = ANY(${sql.param(rows.map((r) => r.id))}::uuid[])`)
      .returning(getTableColumns(orders));
  },

  /** Many orders' lines replaced (one delete, one insert). */
  async replaceLinesMany(ex: Executor, byOrder: readonly { orderId: string; lines: readonly Line[] }[]): Promise<void> {
    if (byOrder.length === 0) return;
    await ex.delete(orderLines).where(sql`${orderLines.orderId} = ANY(${sql.param(byOrder.map((o) => o.orderId))}::uuid[])`);
    await insertJsonRows(ex, orderLines, byOrder.flatMap((o) => o.lines.map((l, i) => ({ orderId: o.orderId, position: i + 1, ...l }))));
  },

  /** The order's lines become `lines` (one delete, one insert). */
  async replaceLines(ex: Executor, orderId: string, lines: readonly Line[]): Promise<void> {
    await ex.delete(orderLines).where(eq(orderLines.orderId, orderId));
    if (lines.length > 0) await ex.insert(orderLines).values(lines.map((l, i) => ({ orderId, position: i + 1, ...l })));
  },

  /** An opportunity the caller sees, with its customer (an order may name the deal it came from). */
  async visibleOpportunity(ex: Executor, p: Principal, id: string): Promise<{ id: string; customerId: string } | null> {
    const [hit] = await ex
      .select({ id: opportunities.id, customerId: opportunities.customerId })
      .from(opportunities)
      .where(and(eq(opportunities.id, id), access.opportunity.visible(p)));
    return hit ?? null;
  },

  /** A merge moves the duplicate's orders to the survivor, whose owner they then carry. */
  async repointToCustomer(ex: Executor, p: Principal, fromId: string, toId: string): Promise<number> {
    const n = await repointCustomerRows(ex, p, {
      table: 'orders',
      entityType: RESOURCE,
      owner: survivorOwner(toId),
      fromId,
      toId,
    });
    if (n > 0) {
      await ex.execute(sql`UPDATE orders o SET owner_user_id = c.owner_user_id, owner_unit_id = c.owner_unit_id FROM customers c WHERE c.id = ${toId} AND o.customer_id = ${toId}`);
    }
    return n;
  },
};
