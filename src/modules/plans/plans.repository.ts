import { and, eq, type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { orgUnits, plans } from '../../db/schema/index.js';
import { type Principal, unitReachPredicate } from '../../lib/access.js';
import { countRows, type TimeOrder, timeKeyset, updatedAfterCondition } from '../../lib/pagination.js';

export type PlanRow = typeof plans.$inferSelect;
export type ChainUnit = { id: string; name: string; parentId: string | null };

// A plan belongs to its unit: it is visible to whoever's reach for plans:read covers that unit.
const visible = (p: Principal): SQL => unitReachPredicate(p, 'plans:read', plans.unitId);

type PlanFilter = { unitId?: string | undefined; updatedAfter?: string | undefined };
const conditions = (p: Principal, f: PlanFilter): (SQL | undefined)[] => [
  visible(p),
  f.unitId ? eq(plans.unitId, f.unitId) : undefined,
  updatedAfterCondition(plans.updatedAt, f.updatedAfter),
];

export const plansRepository = {
  /**
   * The unit and the units above it, nearest first, as far as the caller's reach for `permission`
   * goes: the scopes a rate may fall back to. Empty when the unit itself is out of reach (or unknown).
   */
  async unitChain(ex: Executor, p: Principal, unitId: string, permission: string): Promise<ChainUnit[]> {
    const rows = await queryRows<{ id: string; name: string; parent_id: string | null }>(
      ex,
      sql`SELECT org_units.id, org_units.name, org_units.parent_id FROM org_units
        WHERE (SELECT x.path FROM org_units x WHERE x.id = ${unitId}::uuid) LIKE org_units.path || '%'
          AND ${unitReachPredicate(p, permission, orgUnits.id)}
        ORDER BY length(org_units.path) DESC`,
    );
    const chain = rows.map((r) => ({ id: r.id, name: r.name, parentId: r.parent_id }));
    // The reach is a subtree: once a unit above is out of it, so is everything above that.
    return chain[0]?.id === unitId ? chain : [];
  },

  async insert(ex: Executor, values: typeof plans.$inferInsert): Promise<PlanRow> {
    const [row] = await ex.insert(plans).values(values).returning();
    if (!row) throw new Error('plan insert returned nothing');
    return row;
  },

  async findVisible(ex: Executor, p: Principal, id: string, lock = false): Promise<PlanRow | null> {
    const q = ex
      .select()
      .from(plans)
      .where(and(eq(plans.id, id), visible(p)));
    const [row] = lock ? await q.for('update', { of: plans }) : await q;
    return row ?? null;
  },

  /** The new values of a plan, at the version read (null when it moved meanwhile); the version goes up by one. */
  async update(ex: Executor, id: string, version: number, values: Partial<typeof plans.$inferInsert>): Promise<PlanRow | null> {
    const [row] = await ex
      .update(plans)
      .set({ ...values, version: version + 1, updatedAt: new Date() })
      .where(and(eq(plans.id, id), eq(plans.version, version)))
      .returning();
    return row ?? null;
  },

  async delete(ex: Executor, id: string): Promise<void> {
    await ex.delete(plans).where(eq(plans.id, id));
  },

  async list(ex: Executor, p: Principal, f: PlanFilter, order: TimeOrder, limit: number): Promise<PlanRow[]> {
    const ks = timeKeyset(order, plans, plans.id);
    const conds = [...conditions(p, f), ks.where];
    return ex
      .select()
      .from(plans)
      .where(and(...conds))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  /** The rows of every page of the list: the same conditions without the cursor. */
  count(ex: Executor, p: Principal, f: PlanFilter): Promise<number> {
    return countRows(ex, plans, and(...conditions(p, f)));
  },
};
