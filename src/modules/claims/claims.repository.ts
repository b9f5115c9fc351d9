import { and, eq, gt, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { claims, opportunities, orgUnits, users } from '../../db/schema/index.js';
import { access, type Principal } from '../../lib/access.js';
import { countRows, type TimeOrder, timeKeyset, updatedAfterCondition } from '../../lib/pagination.js';

export type ClaimRow = typeof claims.$inferSelect;
export type ClaimFilter = {
  status?: string | undefined;
  customerId?: string | undefined;
  claimantUserId?: string | undefined;
  claimantUnitId?: string | undefined;
  updatedAfter?: string | undefined;
};
// An approved claim in force, with where its claimant's unit sits in the tree (for "whom to ask").
export type ProtectingClaim = { id: string; customerId: string; claimantUnitId: string; claimantUnitPath: string };

const protecting = and(eq(claims.status, 'APPROVED'), gt(claims.protectedUntil, sql`now()`));

// The list's rows: the page and its count share them.
function conditions(p: Principal, f: ClaimFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [access.claim.visible(p)];
  if (f.status) conds.push(eq(claims.status, f.status));
  if (f.customerId) conds.push(eq(claims.customerId, f.customerId));
  if (f.claimantUserId) conds.push(eq(claims.claimantUserId, f.claimantUserId));
  if (f.claimantUnitId) conds.push(eq(claims.claimantUnitId, f.claimantUnitId));
  // Every write to a claim (decision, supersession, expiry, a merge's repointing) moves updatedAt.
  conds.push(updatedAfterCondition(claims.updatedAt, f.updatedAfter));
  return conds;
}

export const claimsRepository = {
  async list(ex: Executor, p: Principal, f: ClaimFilter, order: TimeOrder, limit: number): Promise<ClaimRow[]> {
    const ks = timeKeyset(order, claims, claims.id);
    return ex
      .select()
      .from(claims)
      .where(and(...conditions(p, f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  count: (ex: Executor, p: Principal, f: ClaimFilter): Promise<number> => countRows(ex, claims, and(...conditions(p, f))),

  async byCustomers(ex: Executor, p: Principal, customerIds: string[]): Promise<ClaimRow[]> {
    if (customerIds.length === 0) return [];
    return ex
      .select()
      .from(claims)
      .where(and(inArray(claims.customerId, customerIds), access.claim.visible(p)))
      .orderBy(sql`${claims.createdAt} DESC`, sql`${claims.id} DESC`);
  },

  /** A claim the caller sees, with whether it may decide it (approve permission over the claimant) and the claimant's unit path. */
  async findVisible(ex: Executor, p: Principal, id: string, lock = false) {
    const q = ex
      .select({ row: claims, mayDecide: sql<boolean>`(${access.claim.decides(p)})`, claimantUnitPath: orgUnits.path })
      .from(claims)
      .innerJoin(orgUnits, eq(orgUnits.id, claims.claimantUnitId))
      .where(and(eq(claims.id, id), access.claim.visible(p)));
    const [hit] = lock ? await q.for('update', { of: claims }) : await q;
    return hit ?? null;
  },

  async byId(ex: Executor, id: string): Promise<ClaimRow | null> {
    const [row] = await ex.select().from(claims).where(eq(claims.id, id));
    return row ?? null;
  },

  /** Approved claims in force on these customers. */
  async protecting(ex: Executor, customerIds: string[]): Promise<ProtectingClaim[]> {
    if (customerIds.length === 0) return [];
    return ex
      .select({ id: claims.id, customerId: claims.customerId, claimantUnitId: claims.claimantUnitId, claimantUnitPath: orgUnits.path })
      .from(claims)
      .innerJoin(orgUnits, eq(orgUnits.id, claims.claimantUnitId))
      .where(and(inArray(claims.customerId, customerIds), protecting));
  },

  /** The caller's (or its unit's) open claim on the customer (and deal): pending, or approved and in force. */
  async openClaimOf(ex: Executor, customerId: string, claimantUnitId: string, opportunityId: string | null): Promise<ClaimRow | null> {
    const [row] = await ex
      .select()
      .from(claims)
      .where(
        and(
          eq(claims.customerId, customerId),
          eq(claims.claimantUnitId, claimantUnitId),
          opportunityId ? eq(claims.opportunityId, opportunityId) : sql`${claims.opportunityId} IS NULL`,
          sql`(${claims.status} = 'PENDING' OR (${claims.status} = 'APPROVED' AND ${claims.protectedUntil} > now()))`,
        ),
      )
      .limit(1);
    return row ?? null;
  },

  /** Whether the opportunity exists on the customer and the caller sees it. */
  async opportunityVisibleOn(ex: Executor, p: Principal, opportunityId: string, customerId: string): Promise<boolean> {
    const rows = await ex
      .select({ id: opportunities.id })
      .from(opportunities)
      .where(and(eq(opportunities.id, opportunityId), eq(opportunities.customerId, customerId), access.opportunity.visible(p)));
    return rows.length > 0;
  },

  async userUnit(ex: Executor, userId: string): Promise<{ unitId: string; unitPath: string } | null> {
    const [row] = await ex.select({ unitId: users.unitId, unitPath: orgUnits.path }).from(users).innerJoin(orgUnits, eq(orgUnits.id, users.unitId)).where(eq(users.id, userId));
    return row ?? null;
  },

  async unitName(ex: Executor, id: string): Promise<string> {
    const [row] = await ex.select({ name: orgUnits.name }).from(orgUnits).where(eq(orgUnits.id, id));
    return row?.name ?? '';
  },

  /** Claims on one customer are decided one at a time (a transaction-scoped lock on its id). */
  async lockCustomer(ex: Executor, customerId: string): Promise<void> {
    await ex.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`claim:${customerId}`}, 0))`);
  },

  async insert(ex: Executor, v: typeof claims.$inferInsert): Promise<ClaimRow> {
    const [row] = await ex.insert(claims).values(v).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async decide(ex: Executor, id: string, v: Partial<typeof claims.$inferInsert>): Promise<ClaimRow | null> {
    const [row] = await ex
      .update(claims)
      .set({ ...v, version: sql`${claims.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(claims.id, id), eq(claims.status, 'PENDING')))
      .returning();
    return row ?? null;
  },

  /** The other pending claims on a customer, locked, with where their claimant's unit sits. */
  async otherPending(ex: Executor, customerId: string, exceptId: string): Promise<{ row: ClaimRow; claimantUnitPath: string }[]> {
    return ex
      .select({ row: claims, claimantUnitPath: orgUnits.path })
      .from(claims)
      .innerJoin(orgUnits, eq(orgUnits.id, claims.claimantUnitId))
      .where(and(eq(claims.customerId, customerId), eq(claims.status, 'PENDING'), sql`${claims.id} <> ${exceptId}`))
      .orderBy(claims.createdAt, claims.id)
      .for('update', { of: claims });
  },

  /** Approved claims whose protection has ended (all, the one given, or a customer's), marked EXPIRED; locked rows are left for the next run. */
  async expireDue(ex: Executor, only: { id?: string; customerId?: string } = {}): Promise<ClaimRow[]> {
    const { id, customerId } = only;
    return ex
      .update(claims)
      .set({ status: 'EXPIRED', expiredAt: sql`now()`, version: sql`${claims.version} + 1`, updatedAt: sql`now()` })
      .where(sql`${claims.id} IN (SELECT c.id FROM claims c WHERE c.status = 'APPROVED' AND c.protected_until <= now() ${id ? sql`AND c.id = ${id}` : sql``} ${customerId ? sql`AND c.customer_id = ${customerId}` : sql``} FOR UPDATE SKIP LOCKED)`)
      .returning();
  },
};
