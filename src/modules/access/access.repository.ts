import { and, eq, gt, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { claims, customers, delegations, handoffs, opportunities, orgUnits, shares } from '../../db/schema/index.js';
import { access, type AccessRule, accessArms, type Principal } from '../../lib/access.js';

export type ExplainedResource = 'customer' | 'opportunity';

const customerOwner = { id: customers.id, ownerUserId: customers.ownerUserId, ownerUnitId: customers.ownerUnitId };
const opportunityOwner = { id: opportunities.id, ownerUserId: opportunities.ownerUserId, ownerUnitId: opportunities.ownerUnitId };

export type ArmVerdicts = { rule: AccessRule; holds: boolean }[];
export type Evaluation = { ownerUserId: string | null; ownerUnitId: string; customerId: string; status: string; read: ArmVerdicts; write: ArmVerdicts };

// One boolean column per arm: `${prefix}${i}`.
function armColumns(arms: { predicate: SQL }[], prefix: string): Record<string, SQL<boolean>> {
  return Object.fromEntries(arms.map((a, i) => [`${prefix}${i}`, sql<boolean>`(${a.predicate})`]));
}

const truthy = (v: unknown) => v === true || v === 't';

export const accessRepository = {
  /** Whether `p` may read the record: the caller's own visibility, the rule every read uses. */
  async visibleTo(ex: Executor, p: Principal, resource: ExplainedResource, id: string): Promise<boolean> {
    const rows =
      resource === 'customer'
        ? await ex.select({ id: customers.id }).from(customers).where(and(eq(customers.id, id), access.customer.visible(p)))
        : await ex.select({ id: opportunities.id }).from(opportunities).where(and(eq(opportunities.id, id), access.opportunity.visible(p)));
    return rows.length > 0;
  },

  /**
   * Each arm of the visibility rule for reading and for updating, evaluated for `target` on one
   * record in one statement: the arms are the predicate's own (lib/access), so the verdicts are what
   * every query would decide. Null when the record does not exist.
   */
  async evaluate(ex: Executor, target: Principal, resource: ExplainedResource, id: string): Promise<Evaluation | null> {
    const cols = resource === 'customer' ? customerOwner : opportunityOwner;
    const plural = resource === 'customer' ? 'customers' : 'opportunities';
    const read = accessArms(target, `${plural}:read`, resource, cols);
    const write = accessArms(target, `${plural}:update`, resource, cols);
    const arms = { ...armColumns(read, 'r'), ...armColumns(write, 'w') };
    const rows: Record<string, unknown>[] =
      resource === 'customer'
        ? await ex
            .select({ ownerUserId: customers.ownerUserId, ownerUnitId: customers.ownerUnitId, customerId: customers.id, status: customers.status, ...arms })
            .from(customers)
            .where(eq(customers.id, id))
        : await ex
            .select({ ownerUserId: opportunities.ownerUserId, ownerUnitId: opportunities.ownerUnitId, customerId: opportunities.customerId, status: opportunities.status, ...arms })
            .from(opportunities)
            .where(eq(opportunities.id, id));
    const row = rows[0];
    if (!row) return null;
    return {
      ownerUserId: (row.ownerUserId as string | null) ?? null,
      ownerUnitId: row.ownerUnitId as string,
      customerId: row.customerId as string,
      status: row.status as string,
      read: read.map((a, i) => ({ rule: a.rule, holds: truthy(row[`r${i}`]) })),
      write: write.map((a, i) => ({ rule: a.rule, holds: truthy(row[`w${i}`]) })),
    };
  },

  async unitsByIds(ex: Executor, ids: string[]) {
    if (ids.length === 0) return [];
    return ex.select({ id: orgUnits.id, name: orgUnits.name, kind: orgUnits.kind, path: orgUnits.path }).from(orgUnits).where(inArray(orgUnits.id, ids));
  },

  async activeDelegations(ex: Executor, fromUserId: string, toUserId: string) {
    return ex
      .select()
      .from(delegations)
      .where(and(eq(delegations.fromUserId, fromUserId), eq(delegations.toUserId, toUserId), isNull(delegations.revokedAt), lte(delegations.startsAt, sql`now()`), gt(delegations.endsAt, sql`now()`)));
  },

  async grantingShares(ex: Executor, target: Principal, resourceType: string, id: string) {
    return ex
      .select()
      .from(shares)
      .where(
        and(
          eq(shares.resourceType, resourceType),
          eq(shares.resourceId, id),
          or(eq(shares.toUserId, target.userId), eq(shares.toUnitId, target.unitId)),
          or(isNull(shares.expiresAt), gt(shares.expiresAt, sql`now()`)),
        ),
      );
  },

  async pendingHandoffs(ex: Executor, target: Principal, customerId: string) {
    return ex
      .select()
      .from(handoffs)
      .where(
        and(
          eq(handoffs.customerId, customerId),
          eq(handoffs.status, 'PENDING'),
          or(eq(handoffs.toUserId, target.userId), and(isNull(handoffs.toUserId), eq(handoffs.toUnitId, target.unitId))),
        ),
      );
  },

  async protectingClaims(ex: Executor, target: Principal, customerId: string) {
    return ex
      .select()
      .from(claims)
      .where(and(eq(claims.customerId, customerId), eq(claims.claimantUserId, target.userId), eq(claims.status, 'APPROVED'), gt(claims.protectedUntil, sql`now()`)));
  },
};
