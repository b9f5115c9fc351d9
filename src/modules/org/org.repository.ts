import { and, asc, eq, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { selectRows } from '../../db/rows.js';
import { delegations, orgUnits, roles, userRoles, users } from '../../db/schema/index.js';
import { access, type Principal, qualified, unitReachPredicate } from '../../lib/access.js';
import { countRows, keyset, type TimeSortField, timeOrderBy, updatedAfterCondition } from '../../lib/pagination.js';

export type OrgUnitRow = typeof orgUnits.$inferSelect;
export type RoleRow = typeof roles.$inferSelect;
export type UserRow = typeof users.$inferSelect & { roles: string[] };

const unitVisible = access.unit.visible;
const userVisible = access.user.visible;

type UserFilter = { unitId?: string | undefined; active?: boolean | undefined; q?: string | undefined; updatedAfter?: string | undefined };
type UnitFilter = { updatedAfter?: string | undefined };
type ListOrder = { field: 'createdAt' | 'updatedAt'; desc: boolean };

// The users list's where-builder, for its pages and its count.
function userListConditions(p: Principal, f: UserFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [userVisible(p)];
  if (f.unitId) conds.push(eq(users.unitId, f.unitId));
  if (f.active !== undefined) conds.push(eq(users.active, f.active));
  if (f.q) {
    const like = `%${f.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    conds.push(or(ilike(users.name, like), ilike(users.email, like)));
  }
  conds.push(updatedAfterCondition(users.updatedAt, f.updatedAfter));
  return conds;
}

const userColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  unitId: users.unitId,
  kind: users.kind,
  active: users.active,
  version: users.version,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  roles: sql<string[]>`ARRAY(SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ${qualified(users.id)} ORDER BY r.name)`,
};

export const orgRepository = {
  /** The visible units, in tree order, or by `order` and then id (a sync). */
  async units(ex: Executor, p: Principal, f: UnitFilter = {}, order?: ListOrder): Promise<OrgUnitRow[]> {
    const q = ex.select().from(orgUnits).where(and(unitVisible(p), updatedAfterCondition(orgUnits.updatedAt, f.updatedAfter)));
    if (!order) return q.orderBy(asc(orgUnits.path));
    const column = order.field === 'updatedAt' ? orgUnits.updatedAt : orgUnits.createdAt;
    return order.desc ? q.orderBy(sql`${column} DESC`, sql`${orgUnits.id} DESC`) : q.orderBy(asc(column), asc(orgUnits.id));
  },

  async unitsByIds(ex: Executor, p: Principal, ids: string[]): Promise<OrgUnitRow[]> {
    if (ids.length === 0) return [];
    return ex
      .select()
      .from(orgUnits)
      .where(and(inArray(orgUnits.id, ids), unitVisible(p)));
  },

  async unitById(ex: Executor, id: string, lock = false): Promise<OrgUnitRow | null> {
    const q = ex.select().from(orgUnits).where(eq(orgUnits.id, id));
    const [row] = lock ? await q.for('update') : await q;
    return row ?? null;
  },

  async unitInReach(ex: Executor, p: Principal, permission: string, id: string): Promise<boolean> {
    const [row] = await ex
      .select({ ok: sql<boolean>`(${unitReachPredicate(p, permission, orgUnits.id)})` })
      .from(orgUnits)
      .where(eq(orgUnits.id, id));
    return row?.ok === true;
  },

  async insertUnit(ex: Executor, v: typeof orgUnits.$inferInsert): Promise<OrgUnitRow> {
    const [row] = await ex.insert(orgUnits).values(v).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async updateUnit(ex: Executor, id: string, version: number, set: Partial<OrgUnitRow>): Promise<OrgUnitRow | null> {
    const [row] = await ex
      .update(orgUnits)
      .set({ ...set, version: sql`${orgUnits.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(orgUnits.id, id), eq(orgUnits.version, version)))
      .returning();
    return row ?? null;
  },

  // Moving a unit moves its subtree: every path below is rewritten in one statement.
  // The ::int matters: an untyped parameter makes `substring(path from $n)` the regex form, which yields NULL.
  async rewritePaths(ex: Executor, oldPrefix: string, newPrefix: string): Promise<void> {
    await ex.execute(
      sql`UPDATE org_units SET path = ${newPrefix}::text || substring(path from ${oldPrefix.length + 1}::int) WHERE path LIKE ${`${oldPrefix}%`}`,
    );
  },

  /** Is a unit (given by path) inside a PARTNER unit, counting itself? */
  async isInPartner(ex: Executor, path: string): Promise<boolean> {
    const ids = path.split('/').filter(Boolean);
    const [row] = await ex
      .select({ n: sql<number>`count(*)::int` })
      .from(orgUnits)
      .where(and(inArray(orgUnits.id, ids), eq(orgUnits.kind, 'PARTNER')));
    return (row?.n ?? 0) > 0;
  },

  /** Users in the subtree at `path` holding a role of scope ALL. */
  async allScopeHoldersUnder(ex: Executor, path: string): Promise<number> {
    const [row] = await queryRows<{ n: number }>(ex, sql`SELECT count(DISTINCT u.id)::int AS n FROM users u
      JOIN org_units ou ON ou.id = u.unit_id JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
      WHERE r.scope = 'ALL' AND ou.path LIKE ${`${path}%`}`);
    return Number(row?.n ?? 0);
  },

  /** Partner users holding the given role (they may not get an ALL scope). */
  async partnerHoldersOfRole(ex: Executor, roleId: string): Promise<number> {
    const [row] = await queryRows<{ n: number }>(ex, sql`SELECT count(DISTINCT u.id)::int AS n FROM users u
      JOIN user_roles ur ON ur.user_id = u.id JOIN org_units ou ON ou.id = u.unit_id
      WHERE ur.role_id = ${roleId} AND EXISTS (SELECT 1 FROM org_units p WHERE p.kind = 'PARTNER'
        AND p.id = ANY(string_to_array(trim(both '/' from ou.path), '/')::uuid[]))`);
    return Number(row?.n ?? 0);
  },

  /** Roles changed after `f.updatedAfter` if given; by name, or in a sync's time order. */
  async roles(ex: Executor, f: { updatedAfter?: string | undefined } = {}, order?: { field: TimeSortField; desc: boolean }): Promise<RoleRow[]> {
    const q = ex.select().from(roles).where(updatedAfterCondition(roles.updatedAt, f.updatedAfter));
    return order ? q.orderBy(...timeOrderBy(order, roles, roles.id)) : q.orderBy(asc(roles.name));
  },

  async roleById(ex: Executor, id: string, lock = false): Promise<RoleRow | null> {
    const q = ex.select().from(roles).where(eq(roles.id, id));
    const [row] = lock ? await q.for('update') : await q;
    return row ?? null;
  },

  async rolesByName(ex: Executor, names: string[]): Promise<RoleRow[]> {
    if (names.length === 0) return [];
    return ex.select().from(roles).where(inArray(roles.name, names));
  },

  async roleByName(ex: Executor, name: string): Promise<RoleRow | null> {
    const [row] = await ex.select().from(roles).where(eq(roles.name, name));
    return row ?? null;
  },

  async insertRole(ex: Executor, v: typeof roles.$inferInsert): Promise<RoleRow> {
    const [row] = await ex.insert(roles).values(v).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async updateRole(ex: Executor, id: string, version: number, set: Partial<RoleRow>): Promise<RoleRow | null> {
    const [row] = await ex
      .update(roles)
      .set({ ...set, version: sql`${roles.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(roles.id, id), eq(roles.version, version)))
      .returning();
    return row ?? null;
  },

  async listUsers(ex: Executor, p: Principal, f: UserFilter, order: ListOrder, cursor: string | undefined, limit: number): Promise<UserRow[]> {
    const ks = keyset({ column: order.field === 'updatedAt' ? users.updatedAt : users.createdAt, desc: order.desc, kind: 'timestamp' }, users.id, cursor);
    return ex
      .select(userColumns)
      .from(users)
      .where(and(...userListConditions(p, f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  // The list's rows over all its pages: the same visibility and filters.
  async countUsers(ex: Executor, p: Principal, f: UserFilter): Promise<number> {
    return countRows(ex, users, and(...userListConditions(p, f)));
  },

  async usersByIds(ex: Executor, p: Principal, ids: string[]): Promise<UserRow[]> {
    if (ids.length === 0) return [];
    return selectRows(ex.select(userColumns).from(users).where(and(inArray(users.id, ids), userVisible(p))));
  },

  async userById(ex: Executor, id: string, lock = false): Promise<UserRow | null> {
    const q = ex.select(userColumns).from(users).where(eq(users.id, id));
    const [row] = lock ? await q.for('update', { of: users }) : await q;
    return row ?? null;
  },

  async userVisibleById(ex: Executor, p: Principal, id: string): Promise<UserRow | null> {
    const [row] = await ex
      .select(userColumns)
      .from(users)
      .where(and(eq(users.id, id), userVisible(p)));
    return row ?? null;
  },

  async emailTaken(ex: Executor, email: string, exceptId?: string): Promise<boolean> {
    const [row] = await ex
      .select({ id: users.id })
      .from(users)
      .where(and(sql`lower(${users.email}) = lower(${email})`, exceptId ? sql`${users.id} <> ${exceptId}` : undefined));
    return !!row;
  },

  async insertUser(ex: Executor, v: typeof users.$inferInsert): Promise<string> {
    const [row] = await ex.insert(users).values(v).returning({ id: users.id });
    if (!row) throw new Error('insert returned nothing');
    return row.id;
  },

  async updateUser(ex: Executor, id: string, version: number, set: Partial<typeof users.$inferInsert>): Promise<boolean> {
    const rows = await ex
      .update(users)
      .set({ ...set, version: sql`${users.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(users.id, id), eq(users.version, version)))
      .returning({ id: users.id });
    return rows.length === 1;
  },

  async setUserRoles(ex: Executor, userId: string, roleIds: string[]): Promise<void> {
    await ex.delete(userRoles).where(eq(userRoles.userId, userId));
    if (roleIds.length) await ex.insert(userRoles).values(roleIds.map((roleId) => ({ userId, roleId })));
  },

  async activeDelegationsOf(ex: Executor, userId: string) {
    return ex
      .select({
        id: delegations.id,
        fromUserId: delegations.fromUserId,
        toUserId: delegations.toUserId,
        startsAt: delegations.startsAt,
        endsAt: delegations.endsAt,
        revokedAt: delegations.revokedAt,
        createdBy: delegations.createdBy,
        createdAt: delegations.createdAt,
        updatedAt: delegations.updatedAt,
        active: sql<boolean>`true`,
      })
      .from(delegations)
      .where(
        and(
          or(eq(delegations.toUserId, userId), eq(delegations.fromUserId, userId)),
          sql`${delegations.revokedAt} IS NULL AND ${delegations.startsAt} <= now() AND ${delegations.endsAt} > now()`,
        ),
      )
      .orderBy(asc(delegations.startsAt));
  },
};
