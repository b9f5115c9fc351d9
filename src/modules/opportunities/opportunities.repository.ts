import { and, asc, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { type Executor, queryRows } from '../../db/client.js';
import { actions, opportunities, orgUnits, pipelineStages, pipelines, stageTransitions } from '../../db/schema/index.js';
import { access, type Principal } from '../../lib/access.js';
import { countGroups, countRows, decodeCursor, keyset, type TimeSortField, timeOrderBy, updatedAfterCondition } from '../../lib/pagination.js';
import { fieldError } from '../../lib/errors.js';
import { repointCustomerRows } from '../../lib/repoint.js';
import { heldExternalId, type Move, transferWrites } from '../customers/index.js';
import { isoDate } from '../../lib/schemas.js';

export type PipelineRow = typeof pipelines.$inferSelect;
export type StageRow = typeof pipelineStages.$inferSelect;
export type OpportunityRow = typeof opportunities.$inferSelect;
export type OpportunityInsert = typeof opportunities.$inferInsert;
export type TransitionRow = typeof stageTransitions.$inferSelect;
export type OpportunityWithStage = { row: OpportunityRow; stageKey: string };

export const RESOURCE = 'opportunity';

const canSee = access.opportunity.visible;
const canDo = access.opportunity.allows;

export type ListFilter = {
  stageId?: string | undefined;
  stageKey?: string | undefined;
  status?: string | undefined;
  ownerUserId?: string | undefined;
  ownerUnitId?: string | undefined;
  customerId?: string | undefined;
  pipelineId?: string | undefined;
  expectedCloseFrom?: string | undefined;
  expectedCloseTo?: string | undefined;
  amountMin?: string | undefined;
  amountMax?: string | undefined;
  updatedAfter?: string | undefined;
  externalId?: { system: string; externalId: string } | undefined;
};

export type OpportunitySort = 'createdAt' | 'updatedAt' | 'expectedCloseDate' | 'amount';

type SortDef = { column: AnyPgColumn; kind: 'timestamp' | 'date' | 'numeric' };
const SORTS: Record<OpportunitySort, SortDef> = {
  createdAt: { column: opportunities.createdAt, kind: 'timestamp' },
  updatedAt: { column: opportunities.updatedAt, kind: 'timestamp' },
  expectedCloseDate: { column: opportunities.expectedCloseDate, kind: 'date' },
  amount: { column: opportunities.amount, kind: 'numeric' },
};

export function sortValue(row: OpportunityRow, field: OpportunitySort): string | null {
  const v = row[field];
  return v instanceof Date ? v.toISOString() : v;
}

const CURSOR_SHAPES: Record<SortDef['kind'], RegExp> = {
  timestamp: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  numeric: /^\d{1,16}(\.\d{1,2})?$/,
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Keyset on (column, id) for columns that may be null (close date, amount): nulls always sort last,
 * in either direction, and the cursor may carry a null. The non-null columns use the shared keyset.
 */
function nullableKeyset(def: SortDef, desc: boolean, cursor: string | undefined): { where: SQL | undefined; orderBy: SQL[] } {
  const col = def.column;
  const id = opportunities.id;
  const dir = desc ? sql`DESC` : sql`ASC`;
  const orderBy = [sql`${col} ${dir} NULLS LAST`, sql`${id} ${dir}`];
  if (!cursor) return { where: undefined, orderBy };
  const [value, last] = decodeCursor(cursor, 2);
  const shapeOk = (v: string) => CURSOR_SHAPES[def.kind].test(v) && (def.kind !== 'date' || isoDate.safeParse(v).success);
  if (typeof last !== 'string' || !UUID.test(last) || (value !== null && (typeof value !== 'string' || !shapeOk(value)))) {
    throw fieldError('VALIDATION_FAILED', 'cursor', 'invalid cursor');
  }
  const idCmp = desc ? sql`${id} < ${last}::uuid` : sql`${id} > ${last}::uuid`;
  if (value === null) return { where: sql`(${col} IS NULL AND ${idCmp})`, orderBy };
  const v = def.kind === 'date' ? sql`${value}::date` : sql`${value}::numeric`;
  const beyond = desc ? sql`${col} < ${v}` : sql`${col} > ${v}`;
  return { where: sql`(${beyond} OR (${col} = ${v} AND ${idCmp}) OR ${col} IS NULL)`, orderBy };
}

function sortKeyset(field: OpportunitySort, desc: boolean, cursor: string | undefined) {
  const def = SORTS[field];
  if (def.kind === 'timestamp') return keyset({ column: def.column, desc, kind: 'timestamp' }, opportunities.id, cursor);
  return nullableKeyset(def, desc, cursor);
}

const withStage = { row: opportunities, stageKey: pipelineStages.key };

function listConditions(p: Principal, f: ListFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [canSee(p)];
  if (f.stageId) conds.push(eq(opportunities.stageId, f.stageId));
  if (f.stageKey) conds.push(eq(pipelineStages.key, f.stageKey));
  if (f.status) conds.push(eq(opportunities.status, f.status));
  if (f.ownerUserId) conds.push(eq(opportunities.ownerUserId, f.ownerUserId));
  if (f.ownerUnitId) conds.push(eq(opportunities.ownerUnitId, f.ownerUnitId));
  if (f.customerId) conds.push(eq(opportunities.customerId, f.customerId));
  if (f.pipelineId) conds.push(eq(opportunities.pipelineId, f.pipelineId));
  if (f.expectedCloseFrom) conds.push(sql`${opportunities.expectedCloseDate} >= ${f.expectedCloseFrom}::date`);
  if (f.expectedCloseTo) conds.push(sql`${opportunities.expectedCloseDate} <= ${f.expectedCloseTo}::date`);
  if (f.amountMin) conds.push(sql`${opportunities.amount} >= ${f.amountMin}::numeric`);
  if (f.amountMax) conds.push(sql`${opportunities.amount} <= ${f.amountMax}::numeric`);
  if (f.updatedAfter) conds.push(sql`${opportunities.updatedAt} > ${f.updatedAfter}::timestamptz`);
  if (f.externalId) conds.push(heldExternalId(opportunities.id, RESOURCE, f.externalId));
  return conds;
}

export const opportunitiesRepository = {
  // ---- pipelines (configuration: readable by everyone with pipelines:read, no owner) ----
  /** Pipelines changed (or their stages) after `f.updatedAfter` if given; the default first, or in a sync's time order. */
  async listPipelines(ex: Executor, f: { updatedAfter?: string | undefined } = {}, order?: { field: TimeSortField; desc: boolean }): Promise<PipelineRow[]> {
    const q = ex.select().from(pipelines).where(updatedAfterCondition(pipelines.updatedAt, f.updatedAfter));
    return order ? q.orderBy(...timeOrderBy(order, pipelines, pipelines.id)) : q.orderBy(sql`${pipelines.isDefault} DESC`, asc(pipelines.createdAt), asc(pipelines.id));
  },

  async findPipeline(ex: Executor, id: string, lock = false): Promise<PipelineRow | null> {
    const q = ex.select().from(pipelines).where(eq(pipelines.id, id));
    const [row] = lock ? await q.for('update') : await q;
    return row ?? null;
  },

  async defaultPipeline(ex: Executor): Promise<PipelineRow | null> {
    const [row] = await ex.select().from(pipelines).where(eq(pipelines.isDefault, true));
    return row ?? null;
  },

  async stagesOf(ex: Executor, pipelineIds: readonly string[]): Promise<StageRow[]> {
    if (pipelineIds.length === 0) return [];
    return ex
      .select()
      .from(pipelineStages)
      .where(inArray(pipelineStages.pipelineId, [...pipelineIds]))
      .orderBy(asc(pipelineStages.pipelineId), asc(pipelineStages.position));
  },

  async stagesByIds(ex: Executor, ids: readonly string[]): Promise<StageRow[]> {
    if (ids.length === 0) return [];
    return ex.select().from(pipelineStages).where(inArray(pipelineStages.id, [...ids]));
  },

  /** How many opportunities and recorded transitions still point at each of these stages. */
  async stageUsage(ex: Executor, stageIds: readonly string[]): Promise<Map<string, { opportunities: number; transitions: number }>> {
    const out = new Map<string, { opportunities: number; transitions: number }>();
    if (stageIds.length === 0) return out;
    for (const id of stageIds) out.set(id, { opportunities: 0, transitions: 0 });
    const ids = [...stageIds];
    const opps = await ex
      .select({ stageId: opportunities.stageId, n: sql<number>`count(*)::int` })
      .from(opportunities)
      .where(inArray(opportunities.stageId, ids))
      .groupBy(opportunities.stageId);
    for (const r of opps) out.set(r.stageId, { ...(out.get(r.stageId) ?? { opportunities: 0, transitions: 0 }), opportunities: Number(r.n) });
    const trs = await ex.execute(sql`SELECT s AS stage_id, count(*)::int AS n FROM (
        SELECT from_stage_id AS s FROM stage_transitions WHERE from_stage_id = ANY(${sql.param(ids)}::uuid[])
        UNION ALL SELECT to_stage_id FROM stage_transitions WHERE to_stage_id = ANY(${sql.param(ids)}::uuid[])) u GROUP BY s`);
    for (const r of (trs as unknown as { rows: { stage_id: string; n: number }[] }).rows) {
      out.set(r.stage_id, { ...(out.get(r.stage_id) ?? { opportunities: 0, transitions: 0 }), transitions: Number(r.n) });
    }
    return out;
  },

  // ---- opportunities ----
  async findVisible(ex: Executor, p: Principal, id: string): Promise<OpportunityWithStage | null> {
    const [hit] = await ex
      .select(withStage)
      .from(opportunities)
      .innerJoin(pipelineStages, eq(pipelineStages.id, opportunities.stageId))
      .where(and(eq(opportunities.id, id), canSee(p)));
    return hit ?? null;
  },

  async visibleByIds(ex: Executor, p: Principal, ids: readonly string[]): Promise<OpportunityWithStage[]> {
    if (ids.length === 0) return [];
    return ex
      .select(withStage)
      .from(opportunities)
      .innerJoin(pipelineStages, eq(pipelineStages.id, opportunities.stageId))
      .where(and(inArray(opportunities.id, [...ids]), canSee(p)));
  },

  /** The record if visible (locked when asked), with whether `permission` also allows acting on it. */
  async findForAction(ex: Executor, p: Principal, id: string, permission: string, lock = false) {
    const q = ex
      .select({ row: opportunities, allowed: sql<boolean>`(${canDo(p, permission)})` })
      .from(opportunities)
      .where(and(eq(opportunities.id, id), canSee(p)));
    const [hit] = lock ? await q.for('update', { of: opportunities }) : await q;
    return hit ?? null;
  },

  async list(ex: Executor, p: Principal, f: ListFilter, field: OpportunitySort, desc: boolean, cursor: string | undefined, limit: number, customerIds?: readonly string[]): Promise<OpportunityWithStage[]> {
    const conds = listConditions(p, f);
    if (customerIds) conds.push(inArray(opportunities.customerId, [...customerIds]));
    const ks = sortKeyset(field, desc, cursor);
    conds.push(ks.where);
    return ex
      .select(withStage)
      .from(opportunities)
      .innerJoin(pipelineStages, eq(pipelineStages.id, opportunities.stageId))
      .where(and(...conds))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  /** Per customer, the rows of all pages of pagesByCustomer: the same visibility, no cursor. */
  async countByCustomer(ex: Executor, p: Principal, customerIds: readonly string[]): Promise<Map<string, number>> {
    if (customerIds.length === 0) return new Map();
    return countGroups(ex, opportunities, opportunities.customerId, and(inArray(opportunities.customerId, [...customerIds]), canSee(p)));
  },

  // The list's rows without its page: the same filters (the stage key joins the stage), the same visibility.
  async count(ex: Executor, p: Principal, f: ListFilter): Promise<number> {
    const [row] = await ex
      .select({ n: sql<number>`count(*)::int` })
      .from(opportunities)
      .innerJoin(pipelineStages, eq(pipelineStages.id, opportunities.stageId))
      .where(and(...listConditions(p, f)));
    return row?.n ?? 0;
  },

  /**
   * One page per customer for many customers in one statement (GraphQL Customer.opportunities):
   * newest first, `limit + 1` rows per customer so each page knows whether more follow.
   */
  async pagesByCustomer(ex: Executor, p: Principal, customerIds: readonly string[], cursor: string | undefined, limit: number): Promise<OpportunityWithStage[]> {
    if (customerIds.length === 0) return [];
    const ks = keyset({ column: opportunities.createdAt, desc: true, kind: 'timestamp' }, opportunities.id, cursor);
    const ranked = ex
      .select({
        id: opportunities.id,
        rn: sql<number>`row_number() OVER (PARTITION BY ${opportunities.customerId} ORDER BY ${opportunities.createdAt} DESC, ${opportunities.id} DESC)`.as('rn'),
      })
      .from(opportunities)
      .where(and(inArray(opportunities.customerId, [...customerIds]), canSee(p), ks.where))
      .as('ranked');
    return ex
      .select(withStage)
      .from(opportunities)
      .innerJoin(ranked, eq(ranked.id, opportunities.id))
      .innerJoin(pipelineStages, eq(pipelineStages.id, opportunities.stageId))
      .where(sql`${ranked.rn} <= ${limit + 1}`)
      .orderBy(asc(opportunities.customerId), sql`${opportunities.createdAt} DESC`, sql`${opportunities.id} DESC`);
  },

  async insert(ex: Executor, values: OpportunityInsert): Promise<OpportunityRow> {
    const [row] = await ex.insert(opportunities).values(values).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  /** Compare-and-set on version: null when another write got there first. */
  async update(ex: Executor, id: string, version: number, set: Partial<OpportunityInsert> | Record<string, unknown>): Promise<OpportunityRow | null> {
    const [row] = await ex
      .update(opportunities)
      .set({ ...set, version: sql`${opportunities.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(opportunities.id, id), eq(opportunities.version, version)))
      .returning();
    return row ?? null;
  },

  async doneActionKeys(ex: Executor, opportunityId: string): Promise<string[]> {
    const rows = await ex
      .selectDistinct({ key: actions.key })
      .from(actions)
      .where(and(eq(actions.opportunityId, opportunityId), eq(actions.status, 'DONE'), sql`${actions.key} IS NOT NULL`));
    return rows.map((r) => r.key).filter((k): k is string => k !== null);
  },

  // The customer as the subject of a consequence (its lifecycle moves with its opportunities), locked.
  // Visibility was settled by the caller's own read; nothing of it is returned to the client.

  // ---- transitions ----
  async insertTransition(ex: Executor, values: typeof stageTransitions.$inferInsert & { enteredAt: Date }): Promise<TransitionRow> {
    const { enteredAt, ...rest } = values;
    const [row] = await ex
      .insert(stageTransitions)
      .values({ ...rest, secondsInFromStage: sql`GREATEST(0, floor(extract(epoch FROM (now() - ${enteredAt.toISOString()}::timestamptz))))::int` })
      .returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async listTransitions(ex: Executor, opportunityId: string, cursor: string | undefined, limit: number): Promise<TransitionRow[]> {
    const ks = keyset({ column: stageTransitions.at, desc: false, kind: 'timestamp' }, stageTransitions.id, cursor);
    return ex
      .select()
      .from(stageTransitions)
      .where(and(eq(stageTransitions.opportunityId, opportunityId), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  // The list's rows over all its pages (the service has checked the opportunity is visible).
  async countTransitions(ex: Executor, opportunityId: string): Promise<number> {
    return countRows(ex, stageTransitions, eq(stageTransitions.opportunityId, opportunityId));
  },

  async transitionsOf(ex: Executor, p: Principal, opportunityIds: readonly string[]): Promise<TransitionRow[]> {
    if (opportunityIds.length === 0) return [];
    return ex
      .select(getTableColumns(stageTransitions))
      .from(stageTransitions)
      .innerJoin(opportunities, eq(opportunities.id, stageTransitions.opportunityId))
      .where(and(inArray(stageTransitions.opportunityId, [...opportunityIds]), canSee(p)))
      .orderBy(asc(stageTransitions.at), asc(stageTransitions.id));
  },

  async openCountOf(ex: Executor, userId: string): Promise<number> {
    const [r] = await queryRows<{ n: number | string }>(ex, sql`SELECT count(*) AS n FROM opportunities WHERE owner_user_id = ${userId} AND status = 'OPEN'`);
    return Number(r?.n ?? 0);
  },

  /** A transfer: open opportunities the user owns; won and lost ones keep who closed them. */
  async transferOpen(ex: Executor, m: Move): Promise<number> {
    const [r] = await queryRows<{ n: number | string }>(
      ex,
      sql`WITH locked AS (
          SELECT id, owner_unit_id FROM opportunities WHERE owner_user_id = ${m.fromUserId} AND status = 'OPEN' ORDER BY id FOR UPDATE
        ), moved AS (
          UPDATE opportunities o SET owner_user_id = ${m.toUserId}::uuid, owner_unit_id = ${m.toUnitId}::uuid, version = o.version + 1, updated_at = now()
          FROM locked l WHERE o.id = l.id
          RETURNING o.id, o.customer_id, l.owner_unit_id AS from_unit_id, o.owner_user_id AS to_user_id, o.owner_unit_id AS to_unit_id, o.version
        ), ${transferWrites('opportunity', m)}
        SELECT count(*) AS n FROM moved`,
    );
    return Number(r?.n ?? 0);
  },

  /** A merge: the duplicate's opportunities, and their stage transitions, move to the survivor. */
  async repointToCustomer(ex: Executor, p: Principal, fromId: string, toId: string) {
    return {
      opportunities: await repointCustomerRows(ex, p, { table: 'opportunities', entityType: 'opportunity', owner: sql`t.owner_user_id, t.owner_unit_id`, fromId, toId }),
      stageTransitions: await repointCustomerRows(ex, p, { table: 'stage_transitions', entityType: null, fromId, toId }),
    };
  },

  // ---- pipelines ----

  async unitVisible(ex: Executor, p: Principal, unitId: string): Promise<boolean> {
    const [u] = await ex.select({ id: orgUnits.id }).from(orgUnits).where(and(eq(orgUnits.id, unitId), access.unit.visible(p)));
    return u !== undefined;
  },

  // Making one pipeline the default unsets the other in the same transaction.
  async unsetDefaultPipeline(ex: Executor, except: string): Promise<void> {
    await ex
      .update(pipelines)
      .set({ isDefault: false, version: sql`${pipelines.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(pipelines.isDefault, true), sql`${pipelines.id} <> ${except}`));
  },

  async insertPipeline(ex: Executor, v: typeof pipelines.$inferInsert): Promise<PipelineRow> {
    const [row] = await ex.insert(pipelines).values(v).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async insertStages(ex: Executor, v: (typeof pipelineStages.$inferInsert)[]): Promise<StageRow[]> {
    return ex.insert(pipelineStages).values(v).returning();
  },

  /** Compare-and-set on version: null when another write got there first. */
  async updatePipeline(ex: Executor, id: string, version: number, set: Partial<PipelineRow>): Promise<PipelineRow | null> {
    const [row] = await ex
      .update(pipelines)
      .set({ ...set, version: sql`${pipelines.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(pipelines.id, id), eq(pipelines.version, version)))
      .returning();
    return row ?? null;
  },

  /** A pipeline's new stage list: removed stages go, kept ones are rewritten in place, new ones are added. */
  async replaceStages(
    ex: Executor,
    pipelineId: string,
    removedIds: string[],
    keptIds: string[],
    next: { id?: string | undefined; key: string; name: string; position: number; probability: number; terminal: boolean; outcome: string | null; gates: unknown }[],
  ): Promise<void> {
    if (removedIds.length) await ex.delete(pipelineStages).where(inArray(pipelineStages.id, removedIds));
    // Keys are unique per pipeline: park the kept ones first so two stages may swap keys.
    if (keptIds.length) {
      await ex
        .update(pipelineStages)
        .set({ key: sql`${pipelineStages.key} || '#' || ${pipelineStages.id}` })
        .where(inArray(pipelineStages.id, keptIds));
    }
    for (const s of next) {
      const values = { key: s.key, name: s.name, position: s.position, probability: s.probability, terminal: s.terminal, outcome: s.outcome, gates: s.gates };
      if (s.id) await ex.update(pipelineStages).set(values).where(eq(pipelineStages.id, s.id));
      else await ex.insert(pipelineStages).values({ pipelineId, ...values });
    }
  },
};
