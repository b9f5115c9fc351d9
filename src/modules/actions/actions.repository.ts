import { and, asc, eq, inArray, lte, type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { actions, customers, opportunities, pipelineStages } from '../../db/schema/index.js';
import { access, type Principal, qualified } from '../../lib/access.js';
import { keyset, type SortSpec } from '../../lib/pagination.js';
import { repointCustomerRows } from '../../lib/repoint.js';
import { type Move, transferWrites } from '../customers/index.js';
import { HORIZON_HOURS, MS_PER_HOUR, OVERDUE_RAMP_HOURS } from './priority.js';

export type ActionRow = typeof actions.$inferSelect;
export type ActionInsert = typeof actions.$inferInsert;
export type ActionWithContext = { row: ActionRow; customerName: string | null; opportunityName: string | null; stageKey: string | null };

export const RESOURCE = 'action';

const customerVisible = access.customer.visible;
const opportunityVisible = access.opportunity.visible;
export const actionAccess = access.action.allows;

/**
 * priority.ts's formula in SQL: the same float8 operations in the same order on the same integer
 * milliseconds, so ordering here is ordering by the pure function.
 */
export function prioritySql(nowMs: number): SQL {
  const dueMs = sql`(EXTRACT(EPOCH FROM ${qualified(actions.dueAt)}) * 1000)::bigint`;
  const h = sql`((${dueMs} - ${nowMs}::bigint)::float8 / ${MS_PER_HOUR}::float8)`;
  return sql`((${qualified(actions.value)} * ${qualified(actions.urgency)})::float8 * (CASE
    WHEN ${qualified(actions.dueAt)} IS NULL THEN 1::float8
    WHEN ${h} >= 0 THEN 1::float8 + ${2 * HORIZON_HOURS}::float8 / (${HORIZON_HOURS}::float8 + ${h})
    ELSE 3::float8 + LEAST(-${h}, ${OVERDUE_RAMP_HOURS}::float8) / ${OVERDUE_RAMP_HOURS}::float8 END))`;
}

const createdSort: SortSpec = { column: actions.createdAt, desc: false, kind: 'timestamp' };

export type ListFilter = { status?: string | undefined; assigneeId?: string | undefined };

// The context columns: the names only when the caller may see the customer / the opportunity.
function contextColumns(p: Principal) {
  const oppSeen = opportunityVisible(p);
  return {
    customerName: sql<string | null>`CASE WHEN ${customerVisible(p)} THEN ${qualified(customers.name)} END`,
    opportunityName: sql<string | null>`CASE WHEN ${qualified(opportunities.id)} IS NOT NULL AND ${oppSeen} THEN ${qualified(opportunities.name)} END`,
    stageKey: sql<string | null>`CASE WHEN ${qualified(opportunities.id)} IS NOT NULL AND ${oppSeen} THEN ${qualified(pipelineStages.key)} END`,
  };
}

function withContext(ex: Executor, p: Principal) {
  return ex
    .select({ row: actions, ...contextColumns(p) })
    .from(actions)
    .innerJoin(customers, eq(customers.id, actions.customerId))
    .leftJoin(opportunities, eq(opportunities.id, actions.opportunityId))
    .leftJoin(pipelineStages, eq(pipelineStages.id, opportunities.stageId));
}

// The rows of a list over all its pages: its where (visibility and filters, no cursor) on the joins
// the visibility predicate reads (the customer's and the opportunity's owners).
async function countActions(ex: Executor, where: SQL | undefined): Promise<number> {
  const [row] = await ex
    .select({ n: sql<number>`count(*)::int` })
    .from(actions)
    .innerJoin(customers, eq(customers.id, actions.customerId))
    .leftJoin(opportunities, eq(opportunities.id, actions.opportunityId))
    .where(where);
  return Number(row?.n ?? 0);
}

// A customer's or an opportunity's list: the where-builder of its pages and of its count.
function listConditions(p: Principal, parent: { customerId: string } | { opportunityId: string }, f: ListFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [actionAccess(p, 'actions:read')];
  conds.push('customerId' in parent ? eq(actions.customerId, parent.customerId) : eq(actions.opportunityId, parent.opportunityId));
  if (f.status) conds.push(eq(actions.status, f.status));
  if (f.assigneeId) conds.push(eq(actions.assigneeId, f.assigneeId));
  return conds;
}

// The agenda: open actions assigned to the caller or its delegators, visible to it.
function agendaConditions(p: Principal): SQL[] {
  return [
    sql`${qualified(actions.assigneeId)} = ANY(${sql.param([p.userId, ...p.delegatorIds])}::uuid[])`,
    eq(actions.status, 'OPEN'),
    actionAccess(p, 'actions:read'),
  ];
}

export const actionsRepository = {
  /** The action as the caller sees it (null when invisible), with whether it may update it. */
  async findForAction(ex: Executor, p: Principal, id: string, lock = false) {
    const q = ex
      .select({
        row: actions,
        allowed: sql<boolean>`(${actionAccess(p, 'actions:update')})`,
        customerOwnerUserId: customers.ownerUserId,
        opportunityOwnerUserId: opportunities.ownerUserId,
      })
      .from(actions)
      .innerJoin(customers, eq(customers.id, actions.customerId))
      .leftJoin(opportunities, eq(opportunities.id, actions.opportunityId))
      .where(and(eq(actions.id, id), actionAccess(p, 'actions:read')));
    const [hit] = lock ? await q.for('update', { of: actions }) : await q;
    return hit ?? null;
  },

  async findVisible(ex: Executor, p: Principal, id: string): Promise<ActionWithContext | null> {
    const [hit] = await withContext(ex, p).where(and(eq(actions.id, id), actionAccess(p, 'actions:read')));
    return hit ?? null;
  },

  // After a write: the row with its context, whether or not the writer may read it back.
  async withContextById(ex: Executor, p: Principal, id: string): Promise<ActionWithContext | null> {
    const [hit] = await withContext(ex, p).where(eq(actions.id, id));
    return hit ?? null;
  },

  async list(ex: Executor, p: Principal, parent: { customerId: string } | { opportunityId: string }, f: ListFilter, cursor: string | undefined, limit: number, desc: boolean) {
    const ks = keyset({ ...createdSort, desc }, actions.id, cursor);
    return withContext(ex, p)
      .where(and(...listConditions(p, parent, f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  count(ex: Executor, p: Principal, parent: { customerId: string } | { opportunityId: string }, f: ListFilter): Promise<number> {
    return countActions(ex, and(...listConditions(p, parent, f)));
  },

  /** Per parent, the rows of all pages of pagesByParent: the same visibility, no cursor. */
  async countByParent(ex: Executor, p: Principal, by: 'customerId' | 'opportunityId', parentIds: string[]): Promise<Map<string, number>> {
    if (parentIds.length === 0) return new Map();
    const parentCol = by === 'customerId' ? actions.customerId : actions.opportunityId;
    const rows = await ex
      .select({ key: sql<string>`${qualified(parentCol)}::text`, n: sql<number>`count(*)::int` })
      .from(actions)
      .innerJoin(customers, eq(customers.id, actions.customerId))
      .leftJoin(opportunities, eq(opportunities.id, actions.opportunityId))
      .where(and(inArray(parentCol, parentIds), actionAccess(p, 'actions:read')))
      .groupBy(qualified(parentCol));
    return new Map(rows.map((r) => [r.key, Number(r.n)]));
  },

  /**
   * One page of actions for each of many parents in one statement: the visible actions ranked per
   * parent (row_number over the parent), the first `limit + 1` of each kept.
   */
  async pagesByParent(ex: Executor, p: Principal, by: 'customerId' | 'opportunityId', parentIds: string[], cursor: string | undefined, limit: number) {
    if (parentIds.length === 0) return [];
    const parentCol = by === 'customerId' ? actions.customerId : actions.opportunityId;
    const ks = keyset(createdSort, actions.id, cursor);
    const ranked = ex
      .select({
        id: actions.id,
        rn: sql<number>`row_number() OVER (PARTITION BY ${qualified(parentCol)} ORDER BY ${qualified(actions.createdAt)}, ${qualified(actions.id)})`.as('rn'),
      })
      .from(actions)
      .innerJoin(customers, eq(customers.id, actions.customerId))
      .leftJoin(opportunities, eq(opportunities.id, actions.opportunityId))
      .where(and(inArray(parentCol, parentIds), actionAccess(p, 'actions:read'), ks.where))
      .as('ranked');
    return withContext(ex, p)
      .where(inArray(actions.id, ex.select({ id: ranked.id }).from(ranked).where(lte(ranked.rn, limit + 1))))
      .orderBy(asc(actions.createdAt), asc(actions.id));
  },

  /** Open actions assigned to the caller or its delegators, by priority at `nowMs` (highest first), then id. */
  async agenda(ex: Executor, p: Principal, nowMs: number, after: { priority: number; id: string } | null, limit: number) {
    const prio = prioritySql(nowMs);
    const conds: SQL[] = agendaConditions(p);
    if (after) conds.push(sql`(${prio} < ${after.priority}::float8 OR (${prio} = ${after.priority}::float8 AND ${qualified(actions.id)} > ${after.id}::uuid))`);
    return ex
      .select({ row: actions, ...contextColumns(p), priority: sql<number>`${prio}` })
      .from(actions)
      .innerJoin(customers, eq(customers.id, actions.customerId))
      .leftJoin(opportunities, eq(opportunities.id, actions.opportunityId))
      .leftJoin(pipelineStages, eq(pipelineStages.id, opportunities.stageId))
      .where(and(...conds))
      .orderBy(sql`${prio} DESC`, asc(actions.id))
      .limit(limit + 1);
  },

  countAgenda(ex: Executor, p: Principal): Promise<number> {
    return countActions(ex, and(...agendaConditions(p)));
  },

  async insert(ex: Executor, values: ActionInsert): Promise<ActionRow> {
    const [row] = await ex.insert(actions).values(values).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  /** Compare-and-set on version: null when another write got there first. */
  async update(ex: Executor, id: string, version: number, set: Partial<ActionInsert>): Promise<ActionRow | null> {
    const [row] = await ex
      .update(actions)
      .set({ ...set, version: sql`${actions.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(actions.id, id), eq(actions.version, version)))
      .returning();
    return row ?? null;
  },

  /** A customer as parent: null when invisible (customers:read), with whether actions:create covers it. */
  async customerParent(ex: Executor, p: Principal, id: string) {
    const [hit] = await ex
      .select({ id: customers.id, status: customers.status, ownerUserId: customers.ownerUserId, allowed: sql<boolean>`(${access.customer.allows(p, 'actions:create')})` })
      .from(customers)
      .where(and(eq(customers.id, id), customerVisible(p)));
    return hit ?? null;
  },

  /** An opportunity as parent: null when invisible (opportunities:read), with whether actions:create covers it. */
  async opportunityParent(ex: Executor, p: Principal, id: string) {
    const [hit] = await ex
      .select({
        id: opportunities.id,
        customerId: opportunities.customerId,
        ownerUserId: opportunities.ownerUserId,
        allowed: sql<boolean>`(${access.opportunity.allows(p, 'actions:create')})`,
      })
      .from(opportunities)
      .where(and(eq(opportunities.id, id), opportunityVisible(p)));
    return hit ?? null;
  },

  async customerVisible(ex: Executor, p: Principal, id: string): Promise<boolean> {
    const [hit] = await ex.select({ id: customers.id }).from(customers).where(and(eq(customers.id, id), customerVisible(p)));
    return hit !== undefined;
  },

  async opportunityVisible(ex: Executor, p: Principal, id: string): Promise<boolean> {
    const [hit] = await ex.select({ id: opportunities.id }).from(opportunities).where(and(eq(opportunities.id, id), opportunityVisible(p)));
    return hit !== undefined;
  },

  /** The key action an overdue handoff puts on its escalation's assignee (unique per handoff). */
  async insertEscalation(ex: Executor, v: { customerId: string; title: string; handoffId: string; assigneeId: string; ownerUnitId: string; createdBy: string }): Promise<ActionRow> {
    const [row] = await ex
      .insert(actions)
      .values({ ...v, dueAt: sql`now()`, value: 4, urgency: 5, kind: 'ESCALATION' })
      .returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async openCountOf(ex: Executor, userId: string): Promise<number> {
    const [r] = await queryRows<{ n: number | string }>(ex, sql`SELECT count(*) AS n FROM actions WHERE assignee_id = ${userId} AND status = 'OPEN'`);
    return Number(r?.n ?? 0);
  },

  /** A transfer: open actions assigned to the user go to `assignee` (never null: an action always has someone to do it). */
  async transferOpen(ex: Executor, m: Move, assignee: { id: string; unitId: string }): Promise<number> {
    const [r] = await queryRows<{ n: number | string }>(
      ex,
      sql`WITH locked AS (
          SELECT id, owner_unit_id FROM actions WHERE assignee_id = ${m.fromUserId} AND status = 'OPEN' ORDER BY id FOR UPDATE
        ), moved AS (
          UPDATE actions a SET assignee_id = ${assignee.id}::uuid, owner_unit_id = ${assignee.unitId}::uuid, version = a.version + 1, updated_at = now()
          FROM locked l WHERE a.id = l.id
          RETURNING a.id, a.customer_id, l.owner_unit_id AS from_unit_id, a.assignee_id AS to_user_id, a.owner_unit_id AS to_unit_id, a.version
        ), ${transferWrites('action', m)}
        SELECT count(*) AS n FROM moved`,
    );
    return Number(r?.n ?? 0);
  },

  /** A merge: the duplicate's actions move to the survivor. */
  async repointToCustomer(ex: Executor, p: Principal, fromId: string, toId: string): Promise<number> {
    return repointCustomerRows(ex, p, { table: 'actions', entityType: 'action', owner: sql`t.assignee_id AS owner_user_id, t.owner_unit_id`, fromId, toId });
  },
};
