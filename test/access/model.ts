/**
 * A naive, pure model of the visibility rule of domain.md §1, written from the domain text alone
 * (it deliberately does not import src/lib/access.ts): the access tests compare the live service
 * against it. Everything here is plain data and loops — slow and obvious on purpose.
 */

export type Scope = 'OWN' | 'UNIT' | 'SUBTREE' | 'ALL';
export type UnitKind = 'HEADQUARTERS' | 'REGION' | 'BRANCH' | 'DEPARTMENT' | 'PARTNER';

export type MUnit = { id: string; parentId: string | null; kind: UnitKind };
export type MRole = { name: string; scope: Scope; permissions: readonly string[] };
export type MUser = { id: string; unitId: string; roles: readonly MRole[] };
// A customer as far as access is concerned: who owns it (a user, or a unit's pool when ownerUserId is null).
export type MRecord = { id: string; ownerUserId: string | null; ownerUnitId: string };
export type MShare = { recordId: string; toUserId?: string | undefined; toUnitId?: string | undefined };
// Only active delegations belong in a world: expired or revoked ones simply are not there.
export type MDelegation = { fromUserId: string; toUserId: string };
// A handoff still pending: its receiver (the user, or the unit's members when no user is named) reads the customer.
export type MHandoff = { recordId: string; toUserId: string | null; toUnitId: string };

export type World = {
  units: ReadonlyMap<string, MUnit>;
  shares: readonly MShare[];
  delegations: readonly MDelegation[];
  pendingHandoffs?: readonly MHandoff[];
};

export type Status = 200 | 201 | 204 | 400 | 403 | 404 | 409;

const RANK: Record<Scope, number> = { OWN: 0, UNIT: 1, SUBTREE: 2, ALL: 3 };

const perms = (resource: string, actions: string) => actions.split(' ').map((a) => `${resource}:${a}`);

/**
 * The built-in roles: scopes as fixed by domain.md §1; permissions (restricted to customers,
 * contacts, users:read, claims and allocation rules, the ones these tests exercise) as shipped by default.
 */
// Deal registration and allocation rules, as shipped: a head of unit decides claims and edits rules;
// whoever works leads registers claims and reads the rules; the executive reads both.
const HEAD_CLAIMS = [...perms('claims', 'read create approve'), ...perms('allocation-rules', 'read create update delete')];
const REGISTRANT = [...perms('claims', 'read create'), 'allocation-rules:read'];

export const BUILT_IN: Record<string, MRole> = {
  admin: { name: 'admin', scope: 'ALL', permissions: [...perms('customers', 'read create update delete freeze merge'), ...perms('contacts', 'read create update delete'), 'users:read', ...HEAD_CLAIMS] },
  executive: { name: 'executive', scope: 'ALL', permissions: [...perms('customers', 'read'), ...perms('contacts', 'read'), 'users:read', 'claims:read', 'allocation-rules:read'] },
  manager: { name: 'manager', scope: 'SUBTREE', permissions: [...perms('customers', 'read create update delete freeze merge'), ...perms('contacts', 'read create update delete'), 'users:read', ...HEAD_CLAIMS] },
  marketing: { name: 'marketing', scope: 'SUBTREE', permissions: [...perms('customers', 'read create update'), ...perms('contacts', 'read create update'), 'users:read', ...REGISTRANT] },
  sales: { name: 'sales', scope: 'OWN', permissions: [...perms('customers', 'read create update'), ...perms('contacts', 'read create update'), 'users:read', ...REGISTRANT] },
  service: { name: 'service', scope: 'UNIT', permissions: [...perms('customers', 'read update'), ...perms('contacts', 'read create update'), 'users:read'] },
  partner_manager: {
    name: 'partner_manager',
    scope: 'SUBTREE',
    permissions: [...perms('customers', 'read create update delete freeze merge'), ...perms('contacts', 'read create update delete'), 'users:read', ...HEAD_CLAIMS],
  },
  partner_sales: { name: 'partner_sales', scope: 'OWN', permissions: [...perms('customers', 'read create update'), ...perms('contacts', 'read create update'), 'users:read', ...REGISTRANT] },
  integration: { name: 'integration', scope: 'ALL', permissions: [...perms('customers', 'read create update'), ...perms('contacts', 'read create update'), 'users:read'] },
};

export const BUILT_IN_NAMES = Object.keys(BUILT_IN);

// `resource:action`, where either half of a granted permission may be `*`.
export function grants(granted: readonly string[], wanted: string): boolean {
  const [wr, wa] = wanted.split(':');
  return granted.some((g) => {
    const [gr, ga] = g.split(':');
    return (gr === '*' || gr === wr) && (ga === '*' || ga === wa);
  });
}

/** The unit and all its ancestors, nearest first. */
export function lineage(w: World, unitId: string): MUnit[] {
  const out: MUnit[] = [];
  let u = w.units.get(unitId);
  while (u) {
    out.push(u);
    u = u.parentId ? w.units.get(u.parentId) : undefined;
  }
  return out;
}

export function isAtOrBelow(w: World, unitId: string, baseId: string): boolean {
  return lineage(w, unitId).some((u) => u.id === baseId);
}

/** The outermost partner unit the given unit sits in (or is), or null for the company's own units. */
export function partnerOf(w: World, unitId: string): string | null {
  const partners = lineage(w, unitId).filter((u) => u.kind === 'PARTNER');
  return partners.length ? (partners[partners.length - 1]?.id ?? null) : null;
}

export type Reach = { scope: Scope; baseUnitId: string };

/**
 * The caller's reach for one permission: the widest scope among the roles that grant it, anchored at
 * the caller's unit. A partner's user never reaches beyond its partner: ALL becomes that partner's subtree.
 */
export function reach(w: World, user: MUser, permission: string): Reach | null {
  let best: Scope | null = null;
  for (const r of user.roles) if (grants(r.permissions, permission) && (best === null || RANK[r.scope] > RANK[best])) best = r.scope;
  if (best === null) return null;
  const partner = partnerOf(w, user.unitId);
  if (best === 'ALL' && partner !== null) return { scope: 'SUBTREE', baseUnitId: partner };
  return { scope: best, baseUnitId: user.unitId };
}

/** The users whose records count as the caller's own: itself and whoever delegated work to it now. */
export function ownUsers(w: World, user: MUser): Set<string> {
  return new Set([user.id, ...w.delegations.filter((d) => d.toUserId === user.id).map((d) => d.fromUserId)]);
}

// Scopes are nested: OWN ⊂ UNIT ⊂ SUBTREE ⊂ ALL, and one's own (delegated) records are always in.
function covers(w: World, user: MUser, r: Reach, rec: MRecord): boolean {
  if (rec.ownerUserId !== null && ownUsers(w, user).has(rec.ownerUserId)) return true;
  switch (r.scope) {
    case 'OWN':
      return false;
    case 'UNIT':
      return rec.ownerUnitId === user.unitId;
    case 'SUBTREE':
      return isAtOrBelow(w, rec.ownerUnitId, r.baseUnitId);
    case 'ALL':
      return true;
  }
}

export function sharedWith(w: World, user: MUser, rec: MRecord): boolean {
  return w.shares.some((s) => s.recordId === rec.id && (s.toUserId === user.id || s.toUnitId === user.unitId));
}

export function handedOffTo(w: World, user: MUser, rec: MRecord): boolean {
  return (w.pendingHandoffs ?? []).some((h) => h.recordId === rec.id && (h.toUserId === user.id || (h.toUserId === null && h.toUnitId === user.unitId)));
}

/**
 * Reading: the scope of the read permission covers the owner, or the record is shared with the
 * caller, or a pending handoff names the caller (or its unit) as receiver.
 */
export function canRead(w: World, user: MUser, rec: MRecord, permission = 'customers:read'): boolean {
  const r = reach(w, user, permission);
  return r !== null && (covers(w, user, r, rec) || sharedWith(w, user, rec) || handedOffTo(w, user, rec));
}

/** Acting: the scope of the action's permission covers the owner. A share grants reading only. */
export function canAct(w: World, user: MUser, rec: MRecord, permission: string): boolean {
  const r = reach(w, user, permission);
  return r !== null && covers(w, user, r, rec);
}

export function isVisible(w: World, user: MUser, rec: MRecord): boolean {
  return canRead(w, user, rec, 'customers:read');
}

/**
 * The answer to a request on one customer (or on something inside it: its contacts). Invisible → 404,
 * whatever the action; visible but the action not allowed → 403; otherwise `ok`.
 */
export function expectOnRecord(w: World, user: MUser, rec: MRecord, permission: string, ok: Status): Status {
  if (!isVisible(w, user, rec)) return 404;
  const allowed = permission.endsWith(':read') ? canRead(w, user, rec, permission) : canAct(w, user, rec, permission);
  return allowed ? ok : 403;
}

/**
 * A request naming several customers at once (a merge): if any of them is invisible the request is
 * about something that does not exist (404), whatever the others are; only then may it be refused (403).
 */
export function expectOnRecords(w: World, user: MUser, recs: readonly MRecord[], permission: string, ok: Status): Status {
  if (recs.some((r) => !isVisible(w, user, r))) return 404;
  return recs.every((r) => canAct(w, user, r, permission)) ? ok : 403;
}

/**
 * Users the caller can see: those its users:read reach covers (OWN and UNIT: its own unit), itself,
 * and whoever delegated work to it. A user it cannot see does not exist for it.
 */
export function seesUser(w: World, user: MUser, other: { id: string; unitId: string }): boolean {
  if (ownUsers(w, user).has(other.id)) return true;
  const r = reach(w, user, 'users:read');
  if (r === null) return false;
  switch (r.scope) {
    case 'OWN':
    case 'UNIT':
      return other.unitId === user.unitId;
    case 'SUBTREE':
      return isAtOrBelow(w, other.unitId, r.baseUnitId);
    case 'ALL':
      return true;
  }
}

/**
 * Creating a customer for an owner (default: the caller itself): without the permission at all, 403
 * before anything else; an owner the caller cannot see is
 * an unknown user (400, as for an id that does not exist); otherwise the new record must be one the
 * caller's create scope covers — nobody writes a record outside its own scope.
 */
export function expectCreate(w: World, user: MUser, owner: { id: string; unitId: string } = user): Status {
  if (reach(w, user, 'customers:create') === null) return 403;
  if (!seesUser(w, user, owner)) return 400;
  return canAct(w, user, { id: 'new', ownerUserId: owner.id, ownerUnitId: owner.unitId }, 'customers:create') ? 201 : 403;
}

/**
 * Giving one's own customer to another owner: the caller must be allowed to update the record as it
 * is and as it would be — a scope cannot push a record out of itself (that is a transfer).
 */
export function expectReassign(w: World, user: MUser, to: { id: string; unitId: string }): Status {
  if (reach(w, user, 'customers:update') === null) return 403;
  if (!seesUser(w, user, to)) return 400;
  const before = { id: 'mine', ownerUserId: user.id, ownerUnitId: user.unitId };
  const after = { id: 'mine', ownerUserId: to.id, ownerUnitId: to.unitId };
  return canAct(w, user, before, 'customers:update') && canAct(w, user, after, 'customers:update') ? 200 : 403;
}

/** Whom a write by `user` on `rec` is made on behalf of: the delegator who owns it, if any. */
export function onBehalfOf(w: World, user: MUser, rec: MRecord): string | null {
  if (rec.ownerUserId === null || rec.ownerUserId === user.id) return null;
  return ownUsers(w, user).has(rec.ownerUserId) ? rec.ownerUserId : null;
}

export function visibleIds(w: World, user: MUser, recs: readonly MRecord[]): string[] {
  return recs
    .filter((r) => isVisible(w, user, r))
    .map((r) => r.id)
    .sort();
}

/**
 * A claim is the claimant's record (docs/claims-and-allocation.md): owned by the claimant and its
 * unit. Permission first (a role without it is refused whatever the claim: 403), then visibility
 * under claims:read (a share or handoff of the customer opens nothing: the claim is another record),
 * then, for a decision, the scope of claims:approve over the claimant, a delegation from it not
 * counting (that would be the claimant deciding through its delegate) — and never by the claimant.
 */
export function expectOnClaim(w: World, user: MUser, claim: MRecord, permission: string, ok: Status): Status {
  if (reach(w, user, permission) === null) return 403;
  if (!canRead(w, user, claim, 'claims:read')) return 404;
  if (permission === 'claims:read') return ok;
  // A decision is the decider's own: a delegation from the claimant lends no scope over its claim.
  if (!canAct({ ...w, delegations: [] }, user, claim, permission)) return 403;
  return claim.ownerUserId === user.id ? 403 : ok;
}

/**
 * Whether a unit lies in the caller's reach for a permission, as units are reached (allocation-rule
 * targets): OWN and UNIT reach the caller's own unit, SUBTREE its base's subtree, ALL everything
 * (a partner's user: its partner). No delegation or share enters: a unit has no owner.
 */
export function reachesUnit(w: World, user: MUser, permission: string, unitId: string): boolean {
  const r = reach(w, user, permission);
  if (r === null) return false;
  switch (r.scope) {
    case 'OWN':
    case 'UNIT':
      return unitId === user.unitId;
    case 'SUBTREE':
      return isAtOrBelow(w, unitId, r.baseUnitId);
    case 'ALL':
      return true;
  }
}

/**
 * An allocation rule is where its target unit is: without the permission 403; a rule whose target
 * the caller's read reach misses does not exist for it (404); seen but out of the action's reach 403.
 */
export function expectOnRule(w: World, user: MUser, targetUnitId: string, permission: string, ok: Status): Status {
  if (reach(w, user, permission) === null) return 403;
  if (!reachesUnit(w, user, 'allocation-rules:read', targetUnitId)) return 404;
  return reachesUnit(w, user, permission, targetUnitId) ? ok : 403;
}

/** Creating a rule: without the permission 403; a target out of the create reach is an unknown id (400). */
export function expectCreateRule(w: World, user: MUser, targetUnitId: string): Status {
  if (reach(w, user, 'allocation-rules:create') === null) return 403;
  return reachesUnit(w, user, 'allocation-rules:create', targetUnitId) ? 201 : 400;
}
