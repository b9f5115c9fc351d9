import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { customers, lifecycleTransitions } from '../../db/schema/index.js';
import { onBehalfOf, type Principal } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { fieldError } from '../../lib/errors.js';
import { LIFECYCLE_STAGES } from '../customers/customers.schemas.js';

export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];
export type LifecycleCause = 'MANUAL' | 'HANDOFF' | 'OPPORTUNITY' | 'ORDER';
export type LifecycleTransitionRow = typeof lifecycleTransitions.$inferSelect;

export const stageRank = (s: string): number => LIFECYCLE_STAGES.indexOf(s as LifecycleStage);
export const isBackward = (from: string, to: string): boolean => stageRank(to) < stageRank(from);

/**
 * The one way a customer's lifecycle stage changes, for every cause (a user's request, an accepted
 * or rejected handoff, a first or won opportunity, a first order). Runs inside the caller's
 * transaction: the stage, the transition row, the audit row and the event land together.
 * The customer row must be locked (SELECT … FOR UPDATE) and already checked for visibility and rights.
 * Returns null when the customer already stands at `to` (nothing recorded).
 */
export async function applyLifecycleTransition(
  tx: Executor,
  p: Principal,
  customer: { id: string; lifecycleStage: string; ownerUserId: string | null; ownerUnitId: string },
  to: LifecycleStage,
  opts: { reason?: string | null | undefined; cause: LifecycleCause },
): Promise<LifecycleTransitionRow | null> {
  const from = customer.lifecycleStage;
  if (from === to) return null;
  const reason = opts.reason?.trim() || null;
  if (isBackward(from, to) && !reason) throw fieldError('VALIDATION_FAILED', 'reason', `moving back from ${from} to ${to} needs a reason`);
  const behalf = onBehalfOf(p, customer.ownerUserId);
  await tx
    .update(customers)
    .set({ lifecycleStage: to, version: sql`${customers.version} + 1`, updatedAt: sql`now()` })
    .where(eq(customers.id, customer.id));
  const [row] = await tx
    .insert(lifecycleTransitions)
    .values({ customerId: customer.id, fromStage: from, toStage: to, reason, cause: opts.cause, actorId: p.userId, onBehalfOfId: behalf })
    .returning();
  if (!row) throw new Error('lifecycle transition insert returned nothing');
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
