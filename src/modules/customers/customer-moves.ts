import type { Executor } from '../../db/client.js';
import { onBehalfOf, type Principal } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { fieldError } from '../../lib/errors.js';
import { isBackward, type LifecycleStage } from './lifecycle-stages.js';
import { type CustomerRow, type LifecycleTransitionRow, type Owner, type OwnershipCause, ownershipRepository as repo } from './ownership.repository.js';

// The two moves other modules make on a customer (a handoff, an opportunity, a first order): its
// lifecycle stage and its owner. Each runs inside the caller's transaction on a customer row the
// caller locked (SELECT … FOR UPDATE) and checked for visibility and rights; the change, its
// history row, the audit row and the event land together.

export type LifecycleCause = 'MANUAL' | 'HANDOFF' | 'OPPORTUNITY' | 'ORDER';
type CustomerRef = { id: string; lifecycleStage: string; ownerUserId: string | null; ownerUnitId: string };

/**
 * The one way a customer's lifecycle stage changes, for every cause. Returns null when the customer
 * already stands at `to` (nothing recorded).
 */
export async function applyLifecycleTransition(
  tx: Executor,
  p: Principal,
  customer: CustomerRef,
  to: LifecycleStage,
  opts: { reason?: string | null | undefined; cause: LifecycleCause },
): Promise<LifecycleTransitionRow | null> {
  const from = customer.lifecycleStage;
  if (from === to) return null;
  const reason = opts.reason?.trim() || null;
  if (isBackward(from, to) && !reason) throw fieldError('VALIDATION_FAILED', 'reason', `moving back from ${from} to ${to} needs a reason`);
  const behalf = onBehalfOf(p, customer.ownerUserId);
  await repo.setLifecycleStage(tx, customer.id, to);
  const row = await repo.insertLifecycleTransition(tx, { customerId: customer.id, fromStage: from, toStage: to, reason, cause: opts.cause, actorId: p.userId, onBehalfOfId: behalf });
  await recordChange(tx, p, {
    entityType: 'customer',
    entityId: customer.id,
    action: 'lifecycle_transitioned',
    before: { lifecycleStage: from },
    after: { lifecycleStage: to, reason, cause: opts.cause, transitionId: row.id },
    onBehalfOfId: behalf,
    owner: { ownerUserId: customer.ownerUserId, ownerUnitId: customer.ownerUnitId },
  });
  return row;
}

/**
 * Gives a customer a new owner (a handoff's receiver, a pool), with its ownership history row and
 * event. `detail` lands in the event's `after` (e.g. the handoff id). Returns the customer as it is now.
 */
export async function changeCustomerOwner(
  tx: Executor,
  p: Principal,
  customer: CustomerRow,
  to: Owner,
  cause: OwnershipCause,
  detail: Record<string, unknown> = {},
): Promise<CustomerRow> {
  if (customer.ownerUserId === to.ownerUserId && customer.ownerUnitId === to.ownerUnitId) return customer;
  const row = await repo.setOwner(tx, customer.id, to);
  const behalf = onBehalfOf(p, customer.ownerUserId);
  await repo.insertChange(tx, p, { entityType: 'customer', entityId: customer.id, customerId: customer.id, from: customer, to, cause, onBehalfOfId: behalf });
  await recordChange(tx, p, {
    entityType: 'customer',
    entityId: customer.id,
    action: 'owner_changed',
    before: { ownerUserId: customer.ownerUserId, ownerUnitId: customer.ownerUnitId },
    after: { ownerUserId: row.ownerUserId, ownerUnitId: row.ownerUnitId, cause, ...detail },
    onBehalfOfId: behalf,
    owner: row,
  });
  return row;
}
