import { and, asc, eq, getTableColumns, gt, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { selectRows } from '../../db/rows.js';
import { contacts, customers, interactionRevisions, interactions, opportunities } from '../../db/schema/index.js';
import { access, type Principal } from '../../lib/access.js';
import { countRows, keyset, type SortSpec, updatedAfterCondition } from '../../lib/pagination.js';
import { repointCustomerRows, survivorOwner } from '../../lib/repoint.js';
import type { InteractionFilter, InteractionSort } from './contact-history.schemas.js';

export type InteractionRow = typeof interactions.$inferSelect;
export type InteractionInsert = typeof interactions.$inferInsert;
export type RevisionRow = typeof interactionRevisions.$inferSelect;
export type CustomerRow = typeof customers.$inferSelect;

export const interactionsVisible = access.interaction.visible;
export const customerAllows = access.customer.allows;
export const opportunityVisible = access.opportunity.visible;

const newestFirst = { column: interactions.occurredAt, desc: true, kind: 'timestamp' } as const;
/** A list's order: by when the contact happened (the default, newest first) or by the last change (a sync). */
export type InteractionOrder = { field: InteractionSort; desc: boolean };
const sortSpec = (o: InteractionOrder): SortSpec => ({ column: o.field === 'updatedAt' ? interactions.updatedAt : interactions.occurredAt, desc: o.desc, kind: 'timestamp' });

function filterConds(f: InteractionFilter): (SQL | undefined)[] {
  return [
    f.channel ? eq(interactions.channel, f.channel) : undefined,
    f.direction ? eq(interactions.direction, f.direction) : undefined,
    f.occurredAfter ? sql`${interactions.occurredAt} > ${f.occurredAfter}::timestamptz` : undefined,
    f.occurredBefore ? sql`${interactions.occurredAt} < ${f.occurredBefore}::timestamptz` : undefined,
    f.opportunityId ? eq(interactions.opportunityId, f.opportunityId) : undefined,
    f.contactId ? eq(interactions.contactId, f.contactId) : undefined,
    updatedAfterCondition(interactions.updatedAt, f.updatedAfter),
  ];
}

export const contactHistoryRepository = {
  /** The customer if visible (customers:read), with whether `permission` allows acting on it. */
  async findCustomer(ex: Executor, p: Principal, id: string, permission: string, lock = false) {
    const q = ex
      .select({ row: customers, allowed: sql<boolean>`(${customerAllows(p, permission)})` })
      .from(customers)
      .where(and(eq(customers.id, id), access.customer.visible(p)));
    const [hit] = lock ? await q.for('share', { of: customers }) : await q;
    return hit ?? null;
  },

  /** The interaction if visible, with its customer and whether `permission` allows acting on it. */
  async findInteraction(ex: Executor, p: Principal, id: string, permission: string, lock = false) {
    const q = ex
      .select({ interaction: interactions, customer: customers, allowed: sql<boolean>`(${customerAllows(p, permission)})` })
      .from(interactions)
      .innerJoin(customers, eq(customers.id, interactions.customerId))
      .where(and(eq(interactions.id, id), interactionsVisible(p)));
    const [hit] = lock ? await q.for('update', { of: interactions }) : await q;
    return hit ?? null;
  },

  async contactOf(ex: Executor, contactId: string): Promise<{ customerId: string } | null> {
    const [row] = await ex.select({ customerId: contacts.customerId }).from(contacts).where(eq(contacts.id, contactId));
    return row ?? null;
  },

  async opportunityOf(ex: Executor, opportunityId: string): Promise<{ customerId: string } | null> {
    const [row] = await ex.select({ customerId: opportunities.customerId }).from(opportunities).where(eq(opportunities.id, opportunityId));
    return row ?? null;
  },

  /** The opportunity if visible, with whether its interactions may be read at all. */
  async findOpportunity(ex: Executor, p: Principal, id: string) {
    const [row] = await ex
      .select({ id: opportunities.id, customerId: opportunities.customerId })
      .from(opportunities)
      .where(and(eq(opportunities.id, id), opportunityVisible(p)));
    return row ?? null;
  },

  async listForCustomer(ex: Executor, customerId: string, f: InteractionFilter, order: InteractionOrder, cursor: string | undefined, limit: number): Promise<InteractionRow[]> {
    const ks = keyset(sortSpec(order), interactions.id, cursor);
    return ex
      .select()
      .from(interactions)
      .where(and(eq(interactions.customerId, customerId), ...filterConds(f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  async listForOpportunity(
    ex: Executor,
    p: Principal,
    opportunityId: string,
    f: InteractionFilter,
    order: InteractionOrder,
    cursor: string | undefined,
    limit: number,
  ): Promise<InteractionRow[]> {
    const ks = keyset(sortSpec(order), interactions.id, cursor);
    const rows = await ex
      .select({ i: interactions })
      .from(interactions)
      .innerJoin(customers, eq(customers.id, interactions.customerId))
      .where(and(eq(interactions.opportunityId, opportunityId), interactionsVisible(p), ...filterConds(f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
    return rows.map((r) => r.i);
  },

  // The lists' rows over all their pages: the same filters and visibility as their pages, no cursor.
  countForCustomer(ex: Executor, customerId: string, f: InteractionFilter): Promise<number> {
    return countRows(ex, interactions, and(eq(interactions.customerId, customerId), ...filterConds(f)));
  },

  async countForOpportunity(ex: Executor, p: Principal, opportunityId: string, f: InteractionFilter): Promise<number> {
    const [row] = await ex
      .select({ n: sql<number>`count(*)::int` })
      .from(interactions)
      .innerJoin(customers, eq(customers.id, interactions.customerId))
      .where(and(eq(interactions.opportunityId, opportunityId), interactionsVisible(p), ...filterConds(f)));
    return Number(row?.n ?? 0);
  },

  /** Per parent, the rows of all pages of newestPerParent: the same gate and filters, no cursor. */
  async countPerParent(ex: Executor, p: Principal, parent: 'customer' | 'opportunity', parentIds: readonly string[], f: InteractionFilter): Promise<Map<string, number>> {
    if (parentIds.length === 0) return new Map();
    const parentCol = parent === 'customer' ? interactions.customerId : interactions.opportunityId;
    const key = sql<string>`${parentCol}::text`;
    const base = ex.select({ key, n: sql<number>`count(*)::int` }).from(interactions).innerJoin(customers, eq(customers.id, interactions.customerId));
    const where = and(inArray(parentCol, [...parentIds]), interactionsVisible(p), ...filterConds(f));
    const rows =
      parent === 'customer'
        ? await base.where(where).groupBy(parentCol)
        : await base
            .innerJoin(opportunities, eq(opportunities.id, interactions.opportunityId))
            .where(and(where, opportunityVisible(p)))
            .groupBy(parentCol);
    return new Map(rows.map((r) => [r.key, Number(r.n)]));
  },

  /**
   * The newest `perParent + 1` interactions of each of many customers or opportunities, in one
   * statement: a lateral subquery per parent walks that parent's (parent, occurred_at, id) index
   * and stops after the page, however long the history is. Only interactions visible to the caller.
   */
  async newestPerParent(
    ex: Executor,
    p: Principal,
    parent: 'customer' | 'opportunity',
    parentIds: readonly string[],
    f: InteractionFilter,
    cursor: string | undefined,
    perParent: number,
  ): Promise<InteractionRow[]> {
    if (parentIds.length === 0) return [];
    const parentCol = parent === 'customer' ? interactions.customerId : interactions.opportunityId;
    const ks = keyset(newestFirst, interactions.id, cursor);
    const ids = sql`ARRAY[${sql.join(
      parentIds.map((id) => sql`${id}`),
      sql`, `,
    )}]::uuid[]`;
    const parents = ex
      .select({ parentId: sql<string>`pid`.as('parent_id') })
      .from(sql`unnest(${ids}) AS pid`)
      .as('parents');
    // Whether the parent's interactions are visible: one check per parent, not per row.
    const gate =
      parent === 'customer'
        ? sql`coalesce((SELECT ${interactionsVisible(p)} FROM customers WHERE customers.id = ${parents.parentId}), false)`
        : sql`coalesce((SELECT ${interactionsVisible(p)} AND ${opportunityVisible(p)} FROM opportunities
            JOIN customers ON customers.id = opportunities.customer_id WHERE opportunities.id = ${parents.parentId}), false)`;
    const page = ex
      .select()
      .from(interactions)
      .where(and(sql`${parentCol} = ${parents.parentId}`, gate, ...filterConds(f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(perParent + 1)
      .as('page');
    // The page's own columns, flat: drizzle maps a nested join result column by column per row.
    const flat = Object.fromEntries(Object.keys(getTableColumns(interactions)).map((k) => [k, page[k as keyof typeof page]])) as unknown as typeof page._.selectedFields;
    return (await selectRows(ex.select(flat).from(parents).innerJoinLateral(page, sql`true`))) as InteractionRow[];
  },

  async insert(ex: Executor, values: InteractionInsert): Promise<InteractionRow> {
    const [row] = await ex.insert(interactions).values(values).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  /** Compare-and-set on version: null when another write got there first. */
  async update(ex: Executor, id: string, version: number, set: Partial<InteractionInsert>): Promise<InteractionRow | null> {
    const [row] = await ex
      .update(interactions)
      .set({ ...set, version: sql`${interactions.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(interactions.id, id), eq(interactions.version, version)))
      .returning();
    return row ?? null;
  },

  async insertRevision(ex: Executor, values: typeof interactionRevisions.$inferInsert): Promise<void> {
    await ex.insert(interactionRevisions).values(values);
  },

  async listRevisions(ex: Executor, interactionId: string, afterVersion: number | undefined, limit: number): Promise<RevisionRow[]> {
    return ex
      .select()
      .from(interactionRevisions)
      .where(and(eq(interactionRevisions.interactionId, interactionId), afterVersion === undefined ? undefined : gt(interactionRevisions.version, afterVersion)))
      .orderBy(asc(interactionRevisions.version), asc(interactionRevisions.id))
      .limit(limit + 1);
  },

  // The list's rows over all its pages (the service has checked the interaction is visible).
  countRevisions(ex: Executor, interactionId: string): Promise<number> {
    return countRows(ex, interactionRevisions, eq(interactionRevisions.interactionId, interactionId));
  },

  async revisionsOf(ex: Executor, p: Principal, interactionIds: string[]): Promise<RevisionRow[]> {
    if (interactionIds.length === 0) return [];
    return ex
      .select(getTableColumns(interactionRevisions))
      .from(interactionRevisions)
      .innerJoin(interactions, eq(interactions.id, interactionRevisions.interactionId))
      .innerJoin(customers, eq(customers.id, interactions.customerId))
      .where(and(inArray(interactionRevisions.interactionId, interactionIds), interactionsVisible(p)))
      .orderBy(asc(interactionRevisions.interactionId), asc(interactionRevisions.version));
  },

  /** A merge: the duplicate's interactions move to the survivor (their events addressed to its owner). */
  async repointToCustomer(ex: Executor, p: Principal, fromId: string, toId: string): Promise<number> {
    return repointCustomerRows(ex, p, { table: 'interactions', entityType: 'interaction', owner: survivorOwner(toId), fromId, toId });
  },
};
