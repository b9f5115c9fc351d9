import { and, eq, or, type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { delegations } from '../../db/schema/index.js';
import { access, type Principal, qualified, scopeFor, unitReachPredicate } from '../../lib/access.js';
import { countRows, type TimeOrder, timeKeyset, updatedAfterCondition } from '../../lib/pagination.js';

export type DelegationRow = typeof delegations.$inferSelect & { active: boolean };

const isActive = sql<boolean>`(${delegations.revokedAt} IS NULL AND ${delegations.startsAt} <= now() AND ${delegations.endsAt} > now())`;
const columns = {
  id: delegations.id,
  fromUserId: delegations.fromUserId,
  toUserId: delegations.toUserId,
  startsAt: delegations.startsAt,
  endsAt: delegations.endsAt,
  revokedAt: delegations.revokedAt,
  createdBy: delegations.createdBy,
  createdAt: delegations.createdAt,
  updatedAt: delegations.updatedAt,
  active: isActive,
};

const unitOf = (userCol: SQL) => sql`(SELECT du.unit_id FROM users du WHERE du.id = ${userCol})`;

/**
 * Delegations a principal may read: its own (given or received), and with `permission` at a scope
 * wider than OWN, those whose two users both lie within that scope.
 */
export function delegationScope(p: Principal, permission: string): SQL {
  const mine = sql`(${qualified(delegations.fromUserId)} = ${p.userId} OR ${qualified(delegations.toUserId)} = ${p.userId})`;
  const s = scopeFor(p, permission);
  if (!s || s.scope === 'OWN') return mine;
  const both = sql`(${unitReachPredicate(p, permission, unitOf(qualified(delegations.fromUserId)))} AND ${unitReachPredicate(p, permission, unitOf(qualified(delegations.toUserId)))})`;
  return sql`(${mine} OR ${both})`;
}

// The outermost PARTNER unit at or above a unit path; null for the company's own staff.
const partnerPathOf = (unitPath: SQL) => sql`(SELECT pp.path FROM org_units pp
  WHERE pp.kind = 'PARTNER' AND pp.id = ANY(string_to_array(trim(both '/' from ${unitPath}), '/')::uuid[])
  ORDER BY length(pp.path) ASC LIMIT 1)`;

export type UserFacts = { id: string; unitId: string; unitPath: string; active: boolean; partnerPath: string | null; visible: boolean; inReach: boolean };

type DelegationListFilter = { fromUserId?: string | undefined; toUserId?: string | undefined; active?: boolean | undefined; updatedAfter?: string | undefined };

// The list's where-builder, for its pages and its count.
function listConditions(p: Principal, f: DelegationListFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [delegationScope(p, 'delegations:read')];
  if (f.fromUserId) conds.push(eq(delegations.fromUserId, f.fromUserId));
  if (f.toUserId) conds.push(eq(delegations.toUserId, f.toUserId));
  if (f.active !== undefined) conds.push(f.active ? isActive : sql`NOT ${isActive}`);
  conds.push(updatedAfterCondition(delegations.updatedAt, f.updatedAfter));
  return conds;
}

export const delegationsRepository = {
  async list(ex: Executor, p: Principal, f: DelegationListFilter, order: TimeOrder, limit: number): Promise<DelegationRow[]> {
    const ks = timeKeyset(order, delegations, delegations.id);
    return ex
      .select(columns)
      .from(delegations)
      .where(and(...listConditions(p, f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  // The list's rows over all its pages: the same visibility and filters.
  async count(ex: Executor, p: Principal, f: DelegationListFilter): Promise<number> {
    return countRows(ex, delegations, and(...listConditions(p, f)));
  },

  async findVisible(ex: Executor, p: Principal, id: string): Promise<DelegationRow | null> {
    const [row] = await ex
      .select(columns)
      .from(delegations)
      .where(and(eq(delegations.id, id), delegationScope(p, 'delegations:read')));
    return row ?? null;
  },

  /** The delegation if readable, with whether the principal may also revoke it (as a third party). */
  async findForRevoke(ex: Executor, p: Principal, id: string) {
    const [hit] = await ex
      .select({ row: columns, manages: sql<boolean>`(${delegationScope(p, 'delegations:delete')})` })
      .from(delegations)
      .where(and(eq(delegations.id, id), delegationScope(p, 'delegations:read')))
      .for('update', { of: delegations });
    return hit ?? null;
  },

  // `startsAt` may be the database's own clock (SQL), so that "now" means the access check's now.
  async insert(ex: Executor, v: Omit<typeof delegations.$inferInsert, 'startsAt'> & { startsAt: Date | SQL }): Promise<DelegationRow> {
    const [row] = await ex.insert(delegations).values(v).returning({ id: delegations.id });
    if (!row) throw new Error('insert returned nothing');
    const [full] = await ex.select(columns).from(delegations).where(eq(delegations.id, row.id));
    if (!full) throw new Error('insert returned nothing');
    return full;
  },

  async revoke(ex: Executor, id: string): Promise<DelegationRow | null> {
    await ex.update(delegations).set({ revokedAt: sql`now()`, updatedAt: sql`now()` }).where(and(eq(delegations.id, id), sql`${delegations.revokedAt} IS NULL`));
    const [row] = await ex.select(columns).from(delegations).where(eq(delegations.id, id));
    return row ?? null;
  },

  /** Delegations of a user (given or received) that are running or still to come. */
  async endAllOf(ex: Executor, userId: string): Promise<DelegationRow[]> {
    const ended = await ex
      .update(delegations)
      .set({ revokedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(or(eq(delegations.fromUserId, userId), eq(delegations.toUserId, userId)), sql`${delegations.revokedAt} IS NULL AND ${delegations.endsAt} > now()`))
      .returning(columns);
    return ended.map((r) => ({ ...r, active: false }));
  },

  /**
   * What a write needs to know about a user named in it, in one statement: whether the principal
   * may see it at all (an unseen user does not exist for it), whether `permission` reaches its unit,
   * and the outermost partner above it.
   */
  async userFacts(ex: Executor, p: Principal, permission: string, id: string, lock: 'update' | 'share' | null = null): Promise<UserFacts | null> {
    const [row] = await queryRows<{ id: string; unit_id: string; unit_path: string; active: boolean; partner_path: string | null; visible: boolean; in_reach: boolean }>(
      ex,
      sql`SELECT users.id, users.unit_id, ou.path AS unit_path, users.active, ${partnerPathOf(sql`ou.path`)} AS partner_path,
        (${access.user.visible(p)}) AS visible, (${unitReachPredicate(p, permission, sql`users.unit_id`)}) AS in_reach
        FROM users JOIN org_units ou ON ou.id = users.unit_id WHERE users.id = ${id}
        ${lock === 'update' ? sql`FOR UPDATE OF users` : lock === 'share' ? sql`FOR SHARE OF users` : sql``}`,
    );
    if (!row) return null;
    return { id: row.id, unitId: row.unit_id, unitPath: row.unit_path, active: row.active, partnerPath: row.partner_path, visible: row.visible, inReach: row.in_reach };
  },
};
