import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { shares } from '../../db/schema/index.js';
import { access, type Principal } from '../../lib/access.js';
import { countRows, keyset, updatedAfterCondition } from '../../lib/pagination.js';

export type ShareRow = typeof shares.$inferSelect;
export type ShareFilterRow = {
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  toUserId?: string | undefined;
  toUnitId?: string | undefined;
  updatedAfter?: string | undefined;
};

/**
 * Shares a principal may read: those it created, those granted to its user or unit, and those on a
 * customer it may update (whoever may revoke a share may see it). Expired shares stay listed: they
 * no longer grant anything, but they are part of the record's history.
 */
export function shareVisible(p: Principal): SQL {
  const onEditable = sql`EXISTS (SELECT 1 FROM customers WHERE customers.id = ${shares.resourceId} AND ${shares.resourceType} = 'customer'
    AND ${access.customer.allows(p, 'customers:update')})`;
  return sql`(${shares.createdBy} = ${p.userId} OR ${shares.toUserId} = ${p.userId} OR ${shares.toUnitId} = ${p.unitId} OR ${onEditable})`;
}

// The list's where-builder, for its pages and its count.
function listConditions(p: Principal, f: ShareFilterRow): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [shareVisible(p)];
  if (f.resourceType) conds.push(eq(shares.resourceType, f.resourceType));
  if (f.resourceId) conds.push(eq(shares.resourceId, f.resourceId));
  if (f.toUserId) conds.push(eq(shares.toUserId, f.toUserId));
  if (f.toUnitId) conds.push(eq(shares.toUnitId, f.toUnitId));
  // A share is never changed once made: its last change is its creation.
  conds.push(updatedAfterCondition(shares.createdAt, f.updatedAfter));
  return conds;
}

export const sharesRepository = {
  /** A page, newest first unless `desc` is false (createdAt and updatedAt are the same instant for a share). */
  async list(ex: Executor, p: Principal, f: ShareFilterRow, desc: boolean, cursor: string | undefined, limit: number): Promise<ShareRow[]> {
    const ks = keyset({ column: shares.createdAt, desc, kind: 'timestamp' }, shares.id, cursor);
    return ex
      .select()
      .from(shares)
      .where(and(...listConditions(p, f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  // The list's rows over all its pages: the same visibility and filters.
  async count(ex: Executor, p: Principal, f: ShareFilterRow): Promise<number> {
    return countRows(ex, shares, and(...listConditions(p, f)));
  },

  async onResources(ex: Executor, p: Principal, resourceType: string, ids: string[]): Promise<ShareRow[]> {
    if (ids.length === 0) return [];
    return ex
      .select()
      .from(shares)
      .where(and(eq(shares.resourceType, resourceType), inArray(shares.resourceId, ids), shareVisible(p)))
      .orderBy(desc(shares.createdAt), desc(shares.id));
  },

  async findVisible(ex: Executor, p: Principal, id: string): Promise<ShareRow | null> {
    const [row] = await ex
      .select()
      .from(shares)
      .where(and(eq(shares.id, id), shareVisible(p)));
    return row ?? null;
  },

  async insert(ex: Executor, v: typeof shares.$inferInsert): Promise<ShareRow> {
    const [row] = await ex.insert(shares).values(v).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async byId(ex: Executor, id: string): Promise<ShareRow | null> {
    const [row] = await ex.select().from(shares).where(eq(shares.id, id));
    return row ?? null;
  },

  async delete(ex: Executor, id: string): Promise<void> {
    await ex.delete(shares).where(eq(shares.id, id));
  },
};
