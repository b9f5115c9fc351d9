import { and, eq, type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { allocationRules, orgUnits, users } from '../../db/schema/index.js';
import { allocationReachPredicate, type Principal, unitReachPredicate } from '../../lib/access.js';
import { countRows, type TimeOrder, timeKeyset, updatedAfterCondition } from '../../lib/pagination.js';

export type RuleRow = typeof allocationRules.$inferSelect;

// The roles whose holders receive leads (domain.md §4).
const RECEIVING_ROLES = ['sales', 'partner_sales'];
// The roles whose holders answer for a unit's pool.
const RESPONSIBLE_ROLES = ['manager', 'partner_manager'];

type RuleFilter = { active?: boolean | undefined; updatedAfter?: string | undefined };

// The list's rows: the page and its count share them.
function listConditions(p: Principal, permission: string, f: RuleFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [unitReachPredicate(p, permission, allocationRules.targetUnitId)];
  if (f.active !== undefined) conds.push(eq(allocationRules.active, f.active));
  conds.push(updatedAfterCondition(allocationRules.updatedAt, f.updatedAfter));
  return conds;
}

export const allocationRepository = {
  count: (ex: Executor, p: Principal, permission: string, f: RuleFilter): Promise<number> => countRows(ex, allocationRules, and(...listConditions(p, permission, f))),

  /**
   * Rules whose target unit lies in the caller's reach for `permission`: in the order they are tried
   * (`after` the position of a page), or, for a sync, in a time order (its cursor inside).
   */
  async list(ex: Executor, p: Principal, permission: string, f: RuleFilter, order: TimeOrder | { after: { order: number; id: string } | null }, limit: number): Promise<RuleRow[]> {
    const conds = listConditions(p, permission, f);
    let orderBy = [sql`${allocationRules.order}`, sql`${allocationRules.id}`];
    if ('field' in order) {
      const ks = timeKeyset(order, allocationRules, allocationRules.id);
      conds.push(ks.where);
      orderBy = ks.orderBy;
    } else if (order.after) {
      conds.push(sql`(${allocationRules.order}, ${allocationRules.id}) > (${order.after.order}, ${order.after.id}::uuid)`);
    }
    return ex
      .select()
      .from(allocationRules)
      .where(and(...conds))
      .orderBy(...orderBy)
      .limit(limit + 1);
  },

  async findInReach(ex: Executor, p: Principal, permission: string, id: string, lock = false): Promise<RuleRow | null> {
    const q = ex
      .select()
      .from(allocationRules)
      .where(and(eq(allocationRules.id, id), unitReachPredicate(p, permission, allocationRules.targetUnitId)));
    const [row] = lock ? await q.for('update') : await q;
    return row ?? null;
  },

  /** A unit the caller may target (its reach for `permission`), with its path. */
  async unitInReach(ex: Executor, p: Principal, permission: string, unitId: string) {
    const [row] = await ex.select({ id: orgUnits.id, path: orgUnits.path }).from(orgUnits).where(and(eq(orgUnits.id, unitId), unitReachPredicate(p, permission, orgUnits.id)));
    return row ?? null;
  },

  async userInReach(ex: Executor, p: Principal, permission: string, userId: string) {
    const [row] = await ex
      .select({ id: users.id, unitId: users.unitId, active: users.active })
      .from(users)
      .where(and(eq(users.id, userId), unitReachPredicate(p, permission, users.unitId)));
    return row ?? null;
  },

  /** Active rules a lead created or allocated by `p` may fall under: their target lies in its allocation reach. */
  async activeRulesFor(ex: Executor, p: Principal): Promise<RuleRow[]> {
    return ex
      .select()
      .from(allocationRules)
      .where(and(eq(allocationRules.active, true), allocationReachPredicate(p, allocationRules.targetUnitId)))
      .orderBy(allocationRules.order, allocationRules.id);
  },

  /** The rule's cursor row, locked: concurrent allocations under one rule take turns. */
  async lockRule(ex: Executor, id: string): Promise<RuleRow | null> {
    const [row] = await ex.select().from(allocationRules).where(eq(allocationRules.id, id)).for('update');
    return row ?? null;
  },

  /**
   * The active salespeople of the unit and the units below it, each with its load: its open leads
   * (SUSPECT or PROSPECT customers it owns, active) and its open opportunities.
   */
  async candidates(ex: Executor, unitId: string): Promise<{ id: string; unitId: string; load: number }[]> {
    const rows = await queryRows<{ id: string; unit_id: string; load: number | string }>(
      ex,
      sql`SELECT u.id, u.unit_id,
            (SELECT count(*) FROM customers c WHERE c.owner_user_id = u.id AND c.status = 'ACTIVE' AND c.lifecycle_stage IN ('SUSPECT', 'PROSPECT'))
          + (SELECT count(*) FROM opportunities o WHERE o.owner_user_id = u.id AND o.status = 'OPEN') AS load
          FROM users u JOIN org_units ou ON ou.id = u.unit_id
          WHERE u.active AND ou.path LIKE (SELECT t.path FROM org_units t WHERE t.id = ${unitId}) || '%'
            AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = ANY(${sql.param(RECEIVING_ROLES)}::text[]))
          ORDER BY u.id`,
    );
    return rows.map((r) => ({ id: r.id, unitId: r.unit_id, load: Number(r.load) }));
  },

  /**
   * Who answers for a unit's pool: the active managers (manager, partner_manager) of the unit itself,
   * or, when it has none, of the nearest unit above it that has one.
   */
  async poolManagers(ex: Executor, unitId: string): Promise<{ id: string; unitId: string }[]> {
    const rows = await queryRows<{ id: string; unit_id: string; depth: number | string }>(
      ex,
      sql`SELECT u.id, u.unit_id, length(ou.path) AS depth
          FROM users u JOIN org_units ou ON ou.id = u.unit_id
          WHERE u.active AND (SELECT t.path FROM org_units t WHERE t.id = ${unitId}) LIKE ou.path || '%'
            AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = ANY(${sql.param(RESPONSIBLE_ROLES)}::text[]))
          ORDER BY length(ou.path) DESC, u.id`,
    );
    const nearest = rows[0]?.depth;
    return rows.filter((r) => r.depth === nearest).map((r) => ({ id: r.id, unitId: r.unit_id }));
  },

  async setCursor(ex: Executor, id: string, lastUserId: string): Promise<void> {
    await ex.update(allocationRules).set({ lastUserId }).where(eq(allocationRules.id, id));
  },

  async insert(ex: Executor, v: typeof allocationRules.$inferInsert): Promise<RuleRow> {
    const [row] = await ex.insert(allocationRules).values(v).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async update(ex: Executor, id: string, version: number, set: Partial<typeof allocationRules.$inferInsert>): Promise<RuleRow | null> {
    const [row] = await ex
      .update(allocationRules)
      .set({ ...set, version: sql`${allocationRules.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(allocationRules.id, id), eq(allocationRules.version, version)))
      .returning();
    return row ?? null;
  },

  async delete(ex: Executor, id: string): Promise<void> {
    await ex.delete(allocationRules).where(eq(allocationRules.id, id));
  },
};
