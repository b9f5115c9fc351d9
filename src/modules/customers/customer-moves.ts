import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { onBehalfOf, type Principal } from '../../lib/access.js';
import { type Change, recordChange } from '../../lib/audit.js';
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

/** One forward step of one customer in a batch of moves (a bulk load's orders). */
export type LifecycleStep = { customer: CustomerRef; to: LifecycleStage; reason: string | null };

/**
 * Many forward moves by one cause in one statement: every customer's stage, version and updated_at, and one
 * lifecycle transition row per step, in the order given (a customer may take two steps, CUSTOMER then USER: each
 * step's `from` is the stage the previous one left). Backward steps and steps to the stage a customer already
 * stands at are not taken. The caller locked the customers (SELECT … FOR UPDATE) and checked them; the audit rows
 * and events of the steps are answered, for the caller to record with its own changes (lib/audit.ts
 * recordChanges, one statement).
 */
export async function applyLifecycleSteps(tx: Executor, p: Principal, steps: readonly LifecycleStep[], cause: LifecycleCause): Promise<Change[]> {
  const stage = new Map<string, string>();
  const rows: { n: number; c: string; f: string; t: string; r: string | null; b: string | null; step: LifecycleStep }[] = [];
  for (const step of steps) {
    const from = stage.get(step.customer.id) ?? step.customer.lifecycleStage;
    if (from === step.to || isBackward(from, step.to)) continue;
    stage.set(step.customer.id, step.to);
    rows.push({ n: rows.length, c: step.customer.id, f: from, t: step.to, r: step.reason?.trim() || null, b: onBehalfOf(p, step.customer.ownerUserId), step });
  }
  if (rows.length === 0) return [];
  const json = JSON.stringify(rows.map(({ step: _, ...r }) => r));
  const ids = [...stage.keys()];
  const made = await queryRows<{ n: number; id: string }>(
    tx,
    sql`WITH m AS (SELECT * FROM jsonb_to_recordset(${json}::jsonb) AS m(n integer, c uuid, f text, t text, r text, b uuid)),
      last AS (SELECT DISTINCT ON (c) c, t, count(*) OVER (PARTITION BY c) AS k FROM m ORDER BY c, n DESC),
      moved AS (
        UPDATE customers SET lifecycle_stage = last.t, version = customers.version + last.k::int, updated_at = now()
        FROM last WHERE customers.id = last.c AND customers.id = ANY(${sql.param(ids)}::uuid[])
      ),
      ins AS (
        INSERT INTO lifecycle_transitions (customer_id, from_stage, to_stage, reason, cause, actor_id, on_behalf_of_id)
        SELECT m.c, m.f, m.t, m.r, ${cause}, ${p.userId}::uuid, m.b FROM m ORDER BY m.n
        RETURNING id, customer_id, to_stage
      )
      SELECT m.n, ins.id FROM ins JOIN m ON m.c = ins.customer_id AND m.t = ins.to_stage`,
  );
  const transition = new Map(made.map((r) => [Number(r.n), r.id]));
  return rows.map((r) => ({
    entityType: 'customer',
    entityId: r.c,
    action: 'lifecycle_transitioned',
    before: { lifecycleStage: r.f },
    after: { lifecycleStage: r.t, reason: r.r, cause, transitionId: transition.get(r.n) ?? null },
    onBehalfOfId: r.b,
    owner: { ownerUserId: r.step.customer.ownerUserId, ownerUnitId: r.step.customer.ownerUnitId },
  }));
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
