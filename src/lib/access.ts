import { Column, getTableName, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { type Scope, SCOPE_RANK, permits } from './permissions.js';
import { actions, claims, customers, events, handoffs, opportunities, orgUnits, users, webhooks } from '../db/schema/index.js';
import { AppError } from './errors.js';

// The one access choke point: a principal becomes a SQL predicate here and nowhere else.

export type PrincipalRole = { id: string; name: string; scope: Scope; permissions: string[]; hiddenFields: string[] };

export type Principal = {
  userId: string;
  email: string;
  name: string;
  kind: 'HUMAN' | 'SERVICE';
  unitId: string;
  unitPath: string;
  // Path of the outermost PARTNER unit above (or at) the user's unit; null for the company's own staff.
  partnerPath: string | null;
  roles: PrincipalRole[];
  // Users who delegated their work to this principal, active now.
  delegatorIds: string[];
  requestId?: string | undefined;
  client?: string | undefined;
};

export type OwnerColumns = { id: AnyPgColumn | SQL; ownerUserId: AnyPgColumn | SQL; ownerUnitId: AnyPgColumn | SQL };

// The widest scope among the roles that grant the permission; null when none does.
// A partner's users never reach beyond their partner subtree: ALL is clamped to SUBTREE of the partner.
export function scopeFor(p: Principal, permission: string): { scope: Scope; basePath: string } | null {
  let best: Scope | null = null;
  for (const r of p.roles) {
    if (!permits(r.permissions, permission)) continue;
    if (best === null || SCOPE_RANK[r.scope] > SCOPE_RANK[best]) best = r.scope;
  }
  if (best === null) return null;
  if (p.partnerPath !== null && best === 'ALL') return { scope: 'SUBTREE', basePath: p.partnerPath };
  return { scope: best, basePath: p.unitPath };
}

export function can(p: Principal, permission: string): boolean {
  return scopeFor(p, permission) !== null;
}

/** A manager's authority: the scope for `permission` reaches beyond the caller's own records and unit. */
export function hasManagerScope(p: Principal, permission: string): boolean {
  const s = scopeFor(p, permission)?.scope;
  return s === 'SUBTREE' || s === 'ALL';
}

/**
 * Whether the principal's scope for `permission` covers a user (its unit within the scope's reach),
 * the way the same scope covers a record that user owns: oneself always; OWN nobody else; UNIT the
 * same unit; SUBTREE the units below the scope's base; ALL everyone (a partner's ALL is its subtree).
 */
export function scopeCoversUser(p: Principal, permission: string, u: { userId: string; unitId: string; unitPath: string }): boolean {
  if (u.userId === p.userId) return true;
  const s = scopeFor(p, permission);
  if (s === null) return false;
  switch (s.scope) {
    case 'OWN':
      return false;
    case 'UNIT':
      return u.unitId === p.unitId;
    case 'SUBTREE':
      return u.unitPath.startsWith(s.basePath);
    case 'ALL':
      return true;
  }
}

export function requirePermission(p: Principal, permission: string): void {
  if (!can(p, permission)) throw new AppError('FORBIDDEN', `missing permission ${permission}`);
}

/**
 * A column always qualified by its table. drizzle renders columns inside a select list unqualified,
 * and an unqualified "id" inside a subquery would bind to the subquery's own table.
 */
export function qualified(col: AnyPgColumn | SQL): SQL {
  if (col instanceof Column) return sql`${sql.identifier(getTableName(col.table))}.${sql.identifier(col.name)}`;
  return col as SQL;
}

// How a value of the principal enters the predicate: inline as a bound parameter (the default), or
// as a named placeholder of a prepared statement that each request fills with its own values.
type Param = (name: string, value: unknown) => SQL;
const inlineParam: Param = (_name, value) => sql`${value}`;
const placeholderParam: Param = (name) => sql`${sql.placeholder(name)}`;

const subtreePattern = (basePath: string): string => `${basePath}%`;

// The principal's values by placeholder name (the names the arms of buildAccessArms
// give their placeholders).
function accessValues(p: Principal, basePath: string): Record<string, unknown> {
  const values: Record<string, unknown> = { userId: p.userId, unitId: p.unitId, basePath: subtreePattern(basePath) };
  [p.userId, ...p.delegatorIds].forEach((id, i) => {
    values[`own${i}`] = id;
  });
  return values;
}

function ownIds(ids: string[], offset: number, param: Param): SQL {
  return sql`ARRAY[${sql.join(
    ids.map((id, i) => param(`own${i + offset}`, id)),
    sql`, `,
  )}]::uuid[]`;
}

// The reasons a record may be visible or writable (api.md, access explain): each is one arm of the
// predicate, and the predicate is nothing but their disjunction.
export const ACCESS_RULES = ['ROLE_SCOPE', 'DELEGATION', 'SHARE', 'HANDOFF', 'CLAIM'] as const;
export type AccessRule = (typeof ACCESS_RULES)[number];
export type AccessArm = { rule: AccessRule; predicate: SQL };

// The role's scope over the record's owner: the user's own records, its unit's, its subtree's, all.
function scopeArm(p: Principal, scope: Scope, basePath: string, c: OwnerColumns, param: Param): SQL {
  const cols = { ownerUserId: qualified(c.ownerUserId), ownerUnitId: qualified(c.ownerUnitId) };
  const own = sql`${cols.ownerUserId} = ANY(${ownIds([p.userId], 0, param)})`;
  switch (scope) {
    case 'OWN':
      return own;
    case 'UNIT':
      return sql`(${cols.ownerUnitId} = ${param('unitId', p.unitId)} OR ${own})`;
    case 'SUBTREE':
      // = ANY(ARRAY(subquery)) is evaluated once and can use the owner index (in a BitmapOr);
      // IN (subquery) inside an OR can only be a per-row filter.
      return sql`(${cols.ownerUnitId} = ANY(ARRAY(SELECT su.id FROM org_units su WHERE su.path LIKE ${param('basePath', subtreePattern(basePath))})) OR ${own})`;
    case 'ALL':
      return sql`TRUE`;
  }
}

/**
 * The arms of the visibility rule for `permission`. `complete` also lists the arms a wider one
 * already covers (ALL scope, reading grants for a write permission is never asked): the predicate
 * leaves them out because they change nothing, the explanation keeps them because they are reasons.
 */
function buildAccessArms(p: Principal, permission: string, resourceType: string, cols: OwnerColumns, param: Param, complete = false): AccessArm[] {
  const s = scopeFor(p, permission);
  if (s === null) return [];
  const arms: AccessArm[] = [{ rule: 'ROLE_SCOPE', predicate: scopeArm(p, s.scope, s.basePath, cols, param) }];
  if (s.scope === 'ALL' && !complete) return arms;
  // A delegator's records, while the delegation is active (delegatorIds holds only active ones).
  if (p.delegatorIds.length > 0) arms.push({ rule: 'DELEGATION', predicate: sql`${qualified(cols.ownerUserId)} = ANY(${ownIds(p.delegatorIds, 1, param)})` });
  // Shares, handoffs and claims grant reading only.
  if (!permission.endsWith(':read')) return arms;
  // The granted ids are computed once (an InitPlan) and matched through the primary key, so the OR
  // with the owner arm stays indexable; a correlated EXISTS here made OWN-scope lists walk the table.
  const id = qualified(cols.id);
  const userId = param('userId', p.userId);
  const unitId = param('unitId', p.unitId);
  // An expired share stops granting by itself: no job has to delete it first.
  arms.push({
    rule: 'SHARE',
    predicate: sql`${id} = ANY(ARRAY(SELECT sh.resource_id FROM shares sh WHERE sh.resource_type = ${resourceType}
    AND (sh.to_user_id = ${userId} OR sh.to_unit_id = ${unitId}) AND (sh.expires_at IS NULL OR sh.expires_at > now())))`,
  });
  if (resourceType !== 'customer') return arms;
  // A customer handed off to the caller (or to its unit, with no user named) is readable while the
  // handoff is pending, so the receiver can judge it before accepting; never writable through this.
  arms.push({
    rule: 'HANDOFF',
    predicate: sql`${id} = ANY(ARRAY(SELECT ho.customer_id FROM handoffs ho WHERE ho.status = 'PENDING'
    AND (ho.to_user_id = ${userId} OR (ho.to_user_id IS NULL AND ho.to_unit_id = ${unitId}))))`,
  });
  // The claimant of an approved claim keeps reading the customer it registered while the protection
  // lasts, even when the customer is owned elsewhere (allocated, transferred); past it, nothing.
  arms.push({
    rule: 'CLAIM',
    predicate: sql`${id} = ANY(ARRAY(SELECT cl.customer_id FROM claims cl WHERE cl.claimant_user_id = ${userId}
    AND cl.status = 'APPROVED' AND cl.protected_until > now()))`,
  });
  return arms;
}

function buildAccessPredicate(p: Principal, permission: string, resourceType: string, cols: OwnerColumns, param: Param): SQL {
  const arms = buildAccessArms(p, permission, resourceType, cols, param);
  if (arms.length === 0) return sql`FALSE`;
  if (arms.length === 1) return arms[0]!.predicate;
  return sql`(${sql.join(
    arms.map((a) => a.predicate),
    sql` OR `,
  )})`;
}

/**
 * Every arm of the rule, each as its own SQL condition, for explaining an answer (GET
 * /v1/access/explain): the same arms `accessPredicate` joins with OR, so an explanation cannot drift
 * from what the queries filter. Arms a wider arm makes redundant in the predicate are listed too.
 */
export function accessArms(p: Principal, permission: string, resourceType: string, cols: OwnerColumns): AccessArm[] {
  return buildAccessArms(p, permission, resourceType, cols, inlineParam, true);
}

/**
 * The visibility rule of domain.md §1 as SQL: the principal's scope for `permission` covers the
 * record's owner, or the record is shared with the principal's user or unit and the share has not
 * expired (shares grant reading only), or — for a customer — a pending handoff names the principal's user or unit as its receiver
 * (reading only, too). Without the permission at all, nothing is visible.
 */
export function accessPredicate(p: Principal, permission: string, resourceType: string, cols: OwnerColumns): SQL {
  return buildAccessPredicate(p, permission, resourceType, cols, inlineParam);
}

/**
 * The same rule for a prepared statement: `predicate()` holds placeholders where the principal's
 * values go (built only when a statement of this shape is first prepared), `values` fills them, and
 * `shape` names the SQL text, which depends only on the scope, the permission, the resource and the
 * number of active delegations, never on whose they are. A value the shape has no placeholder for
 * is ignored.
 */
export function preparedAccessPredicate(
  p: Principal,
  permission: string,
  resourceType: string,
  cols: OwnerColumns,
): { shape: string; predicate: () => SQL; values: Record<string, unknown> } {
  const s = scopeFor(p, permission);
  return {
    shape: `${permission}|${resourceType}|${s?.scope ?? 'NONE'}|${p.delegatorIds.length}`,
    predicate: () => buildAccessPredicate(p, permission, resourceType, cols, placeholderParam),
    values: accessValues(p, s?.basePath ?? p.unitPath),
  };
}

// Units the principal may address (as owner of a record, as a user's home): its scope's units.
export function unitReachPredicate(p: Principal, permission: string, col: AnyPgColumn | SQL): SQL {
  const unitIdCol = qualified(col);
  const s = scopeFor(p, permission);
  if (s === null) return sql`FALSE`;
  switch (s.scope) {
    case 'OWN':
    case 'UNIT':
      return sql`${unitIdCol} = ${p.unitId}`;
    case 'SUBTREE':
      return sql`${unitIdCol} IN (SELECT su.id FROM org_units su WHERE su.path LIKE ${`${s.basePath}%`})`;
    case 'ALL':
      return sql`TRUE`;
  }
}

/**
 * Units a lead may be handed to (handoff receivers and their users). Allocation crosses the org
 * tree by design: the company's own staff hand leads to any branch or partner; a partner's users
 * stay inside their partner. Outside this reach an id answers like an unknown one.
 */
export function allocationReachPredicate(p: Principal, unitCol: AnyPgColumn | SQL): SQL {
  if (p.partnerPath === null) return sql`TRUE`;
  return sql`${qualified(unitCol)} IN (SELECT su.id FROM org_units su WHERE su.path LIKE ${`${p.partnerPath}%`})`;
}

// A field is hidden when every role of the principal hides it (roles add rights, never remove them).
export function hiddenFields(p: Principal): Set<string> {
  if (p.roles.length === 0) return new Set();
  const [first, ...rest] = p.roles;
  const hidden = new Set(first?.hiddenFields ?? []);
  for (const r of rest) for (const f of [...hidden]) if (!r.hiddenFields.includes(f)) hidden.delete(f);
  return hidden;
}

// Who a write is on behalf of: the delegator who owns the record, when the actor works for them.
export function onBehalfOf(p: Principal, ownerUserId: string | null): string | null {
  return ownerUserId && ownerUserId !== p.userId && p.delegatorIds.includes(ownerUserId) ? ownerUserId : null;
}

// ---------------------------------------------------------------------------------------------
// Visibility per resource: the one definition of who sees what, used by every read, list, report
// and GraphQL loader. Each entry is the visibility rule above applied to that resource's owner
// columns; `allows(p, permission)` is the same rule for another permission (writes, deletes).

const customerOwner = { id: customers.id, ownerUserId: customers.ownerUserId, ownerUnitId: customers.ownerUnitId };
const opportunityOwner = { id: opportunities.id, ownerUserId: opportunities.ownerUserId, ownerUnitId: opportunities.ownerUnitId };
// The assignee and its unit are an action's owner.
const actionOwner = { id: actions.id, ownerUserId: actions.assigneeId, ownerUnitId: actions.ownerUnitId };

export const access = {
  customer: {
    /** Needs `customers` in the FROM list. */
    visible: (p: Principal): SQL => accessPredicate(p, 'customers:read', 'customer', customerOwner),
    allows: (p: Principal, permission: string): SQL => accessPredicate(p, permission, 'customer', customerOwner),
  },
  /**
   * Contacts and interactions have no owner of their own: they are visible exactly when their
   * customer is, under their own read permission (resource type 'customer', so shares and the
   * other customer-level grants apply). Need `customers` joined.
   */
  contact: {
    visible: (p: Principal): SQL => accessPredicate(p, 'customers:read', 'customer', customerOwner),
  },
  interaction: {
    visible: (p: Principal): SQL => accessPredicate(p, 'interactions:read', 'customer', customerOwner),
  },
  /**
   * Orders are visible exactly when their customer is, under orders:read (resource type 'customer', so
   * shares and the other customer-level grants apply, for reading only); a write is judged on the
   * customer's owner. Need `customers` joined.
   */
  order: {
    visible: (p: Principal): SQL => accessPredicate(p, 'orders:read', 'customer', customerOwner),
    allows: (p: Principal, permission: string): SQL => accessPredicate(p, permission, 'customer', customerOwner),
  },
  opportunity: {
    /** Needs `opportunities` in the FROM list. */
    visible: (p: Principal): SQL => accessPredicate(p, 'opportunities:read', 'opportunity', opportunityOwner),
    allows: (p: Principal, permission: string): SQL => accessPredicate(p, permission, 'opportunity', opportunityOwner),
  },
  action: {
    /**
     * What `permission` allows on an action: its parent record (the opportunity for an
     * opportunity's action, else the customer) falls under the caller's scope for that permission,
     * or its assignee does. Needs `customers` joined and `opportunities` left-joined.
     */
    allows: (p: Principal, permission: string): SQL => {
      const oppId = qualified(actions.opportunityId);
      return sql`((${oppId} IS NULL AND ${accessPredicate(p, permission, 'customer', customerOwner)})
        OR (${oppId} IS NOT NULL AND ${accessPredicate(p, permission, 'opportunity', opportunityOwner)})
        OR ${accessPredicate(p, permission, 'action', actionOwner)})`;
    },
    visible: (p: Principal): SQL => access.action.allows(p, 'actions:read'),
  },
  handoff: {
    /**
     * A handoff is visible to its sender, its receiver, the heads above the receiving unit, and
     * whoever sees its customer (a handoff is part of the customer's history).
     */
    visible: (p: Principal): SQL => {
      const customerSeen = sql`EXISTS (SELECT 1 FROM customers WHERE ${customers.id} = ${handoffs.customerId} AND ${access.customer.visible(p)})`;
      return sql`(${handoffs.fromUserId} = ${p.userId} OR ${handoffReceived(p)} OR ${customerSeen})`;
    },
  },
  claim: {
    /**
     * A claim is the claimant's record: visible to the claimant and to whoever's scope covers it
     * (its head approves it). Never to the customer's other viewers: a claim must not reveal its
     * claimant. Needs `claims` in the FROM list.
     */
    allows: (p: Principal, permission: string): SQL =>
      accessPredicate(p, permission, 'claim', { id: claims.id, ownerUserId: claims.claimantUserId, ownerUnitId: claims.claimantUnitId }),
    visible: (p: Principal): SQL => access.claim.allows(p, 'claims:read'),
    /**
     * Who decides a claim: claims:approve whose own scope covers the claimant. A delegation does
     * not count: the delegate would decide on the claimant's behalf, and nobody decides its own claim.
     */
    decides: (p: Principal): SQL => access.claim.allows({ ...p, delegatorIds: [] }, 'claims:approve'),
  },
  unit: {
    // Units a principal may see: its reach for org-units:read, plus the chain of units above its own.
    visible: (p: Principal): SQL => sql`(${unitReachPredicate(p, 'org-units:read', orgUnits.id)} OR ${p.unitPath} LIKE ${qualified(orgUnits.path)} || '%')`,
  },
  event: {
    /**
     * An event is read as of when it happened: the reader needs `events:read`, and its scope for
     * reading the record the event is about (interactions and opportunities under their own read
     * permission, everything else under the customer's) must cover the owner the record had then,
     * as the event recorded it. Later shares or moves do not reopen past events. Needs `events`.
     */
    visible: (p: Principal): SQL => {
      const owner = { id: events.id, ownerUserId: events.ownerUserId, ownerUnitId: events.ownerUnitId };
      const covered = (permission: string): SQL => {
        const s = scopeFor(p, permission);
        return s === null ? sql`FALSE` : scopeArm(p, s.scope, s.basePath, owner, inlineParam);
      };
      // Events of no owner (none in the catalogue today) are seen by the company's ALL scope only.
      const entity = qualified(events.entityType);
      return sql`((${qualified(events.ownerUserId)} IS NOT NULL OR ${qualified(events.ownerUnitId)} IS NOT NULL) AND ${covered('events:read')} AND CASE ${entity}
        WHEN 'interaction' THEN ${covered('interactions:read')}
        WHEN 'opportunity' THEN ${covered('opportunities:read')}
        ELSE ${covered('customers:read')} END)`;
    },
  },
  webhook: {
    /** A subscription is owned by its creator and the creator's unit, like a record. Needs `webhooks`. */
    allows: (p: Principal, permission: string): SQL =>
      accessPredicate(p, permission, 'webhook', { id: webhooks.id, ownerUserId: webhooks.createdBy, ownerUnitId: webhooks.ownerUnitId }),
  },
  user: {
    // Users a principal may see: those in its reach for users:read, and itself.
    visible: (p: Principal): SQL => sql`(${unitReachPredicate(p, 'users:read', users.unitId)} OR ${qualified(users.id)} = ${p.userId})`,
  },
} as const;

// Addressed to the caller: to its user, or to its unit with no user named.
const handoffAddressedTo = (p: Principal): SQL =>
  sql`(${handoffs.toUserId} = ${p.userId} OR (${handoffs.toUserId} IS NULL AND ${handoffs.toUnitId} = ${p.unitId}))`;

/** Handoffs the caller receives: addressed to it, or — for a head of a unit — to the units below. */
export function handoffReceived(p: Principal): SQL {
  const s = scopeFor(p, 'customers:read');
  if (s?.scope !== 'SUBTREE') return handoffAddressedTo(p);
  // What the head sent itself belongs to its sent box, not to its inbox.
  return sql`(${handoffAddressedTo(p)} OR (${handoffs.toUnitId} IN (SELECT su.id FROM org_units su WHERE su.path LIKE ${`${s.basePath}%`}) AND ${handoffs.fromUserId} <> ${p.userId}))`;
}

export const isHandoffReceiver = (p: Principal, h: { toUserId: string | null; toUnitId: string }): boolean =>
  h.toUserId === p.userId || (h.toUserId === null && h.toUnitId === p.unitId);
