import type { Executor } from '../../db/client.js';
import { type Principal, scopeFor } from '../../lib/access.js';
import { fieldError } from '../../lib/errors.js';
import { customersRepository as repo } from './customers.repository.js';

// Who may own a record the caller creates or edits — customers, opportunities, key actions alike.
// The owner defaults to the caller; an OWN scope reaches no one else's records (handing a record to
// a colleague is a transfer, a manager's act), so only the caller itself and its delegators
// qualify; a unit pool (no owner user) needs a scope above OWN. A user or unit the caller cannot see
// answers like one that does not exist: no probing of ids.

export type ResolvedOwner = { ownerUserId: string | null; ownerUnitId: string };
type FieldNames = { user: string; unit: string };
const OWNER_FIELDS: FieldNames = { user: 'ownerUserId', unit: 'ownerUnitId' };

export async function resolveOwner(
  tx: Executor,
  p: Principal,
  permission: string,
  ownerUserId: string | null | undefined,
  ownerUnitId: string | undefined,
  opts: { poolUnitId?: string; fields?: FieldNames } = {},
): Promise<ResolvedOwner> {
  const f = opts.fields ?? OWNER_FIELDS;
  if (ownerUserId === undefined && ownerUnitId === undefined) return { ownerUserId: p.userId, ownerUnitId: p.unitId };
  const own = [p.userId, ...p.delegatorIds];
  const reachesOthers = scopeFor(p, permission)?.scope !== 'OWN';
  if (ownerUserId) {
    if (ownerUserId === p.userId && ownerUnitId === undefined) return { ownerUserId: p.userId, ownerUnitId: p.unitId };
    const u = await repo.ownerCandidate(tx, p, permission, ownerUserId, null);
    if (!u || !u.active || (!u.visible && !own.includes(u.id))) throw fieldError('VALIDATION_FAILED', f.user, 'no such active user');
    if (!own.includes(u.id) && !(reachesOthers && u.inReach)) throw fieldError('FORBIDDEN', f.user, 'outside your reach');
    if (ownerUnitId !== undefined && ownerUnitId !== u.unitId) throw fieldError('VALIDATION_FAILED', f.unit, "must be the owner user's unit");
    return { ownerUserId: u.id, ownerUnitId: u.unitId };
  }
  const u = await repo.ownerCandidate(tx, p, permission, null, ownerUnitId ?? opts.poolUnitId ?? p.unitId);
  if (!u || !u.visible) throw fieldError('VALIDATION_FAILED', f.unit, 'no such unit');
  if (!u.inReach || scopeFor(p, permission) === null || !reachesOthers) throw fieldError('FORBIDDEN', f.unit, 'outside your reach');
  return { ownerUserId: null, ownerUnitId: u.id };
}
