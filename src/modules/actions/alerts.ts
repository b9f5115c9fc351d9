import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { recordRowChanges } from '../../lib/audit.js';

export type AlertKind = 'VALUE_ALERT' | 'CHURN_ALERT';

/**
 * Key actions raised by background findings (a customer fell from class A, its churn risk rose), put
 * on the agenda of the customer's owner, set-based. `source` selects (customer_id, assignee_id, kind,
 * title, urgency); rows without an assignee are skipped, and a customer that already has an open
 * action of the same kind gets no second one: that action takes the new title (a churn risk risen from
 * WATCH to HIGH says HIGH) and the higher urgency instead, as an update (version + 1, `action.updated`).
 * Each action made has its audit row and `action.created` event.
 */
export async function createAlertActions(tx: Executor, actor: Principal, source: SQL): Promise<number> {
  const w = recordRowChanges(actor, {
    rows: 'made',
    entityType: 'action',
    action: 'created',
    entityId: sql`id`,
    ownerUserId: sql`assignee_id`,
    ownerUnitId: sql`owner_unit_id`,
    before: sql`NULL::jsonb`,
    after: sql`jsonb_build_object('id', id, 'customerId', customer_id, 'title', title, 'kind', kind, 'assigneeId', assignee_id, 'ownerUnitId', owner_unit_id,
      'value', value, 'urgency', urgency, 'status', status)`,
  });
  const u = recordRowChanges(actor, {
    rows: 'raised',
    entityType: 'action',
    action: 'updated',
    entityId: sql`id`,
    ownerUserId: sql`assignee_id`,
    ownerUnitId: sql`owner_unit_id`,
    before: sql`jsonb_build_object('title', old_title, 'urgency', old_urgency)`,
    after: sql`jsonb_build_object('title', title, 'urgency', urgency)`,
  });
  // Runs first: an action made below is never raised in the same call.
  await tx.execute(sql`WITH src AS (${source}), due AS (
      SELECT a0.id, a0.title AS old_title, a0.urgency AS old_urgency, s.title, GREATEST(a0.urgency, s.urgency) AS urgency
      FROM actions a0 JOIN (SELECT DISTINCT ON (customer_id, kind) * FROM src ORDER BY customer_id, kind, urgency DESC) s ON s.customer_id = a0.customer_id AND s.kind = a0.kind
      WHERE a0.status = 'OPEN' AND (a0.title IS DISTINCT FROM s.title OR a0.urgency < s.urgency)
    ), raised AS (
      UPDATE actions a SET title = due.title, urgency = due.urgency, version = a.version + 1, updated_at = now()
      FROM due WHERE a.id = due.id
      RETURNING a.id, a.assignee_id, a.owner_unit_id, a.title, a.urgency, due.old_title, due.old_urgency
    ), audit AS (${u.audit}), outbox AS (${u.events})
    SELECT 1`);
  const [r] = await queryRows<{ n: string | number }>(
    tx,
    sql`WITH src AS (${source}), made AS (
        INSERT INTO actions (customer_id, title, due_at, value, urgency, status, kind, assignee_id, owner_unit_id, created_by)
        SELECT s.customer_id, s.title, now(), 5, s.urgency, 'OPEN', s.kind, u.id, u.unit_id, ${actor.userId}::uuid
        FROM src s JOIN users u ON u.id = s.assignee_id
        WHERE u.active AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.customer_id = s.customer_id AND a.kind = s.kind AND a.status = 'OPEN')
        RETURNING id, customer_id, title, kind, assignee_id, owner_unit_id, value, urgency, status
      ), audit AS (${w.audit}), outbox AS (${w.events})
      SELECT count(*) AS n FROM made`,
  );
  return Number(r?.n ?? 0);
}

/**
 * Closes the open alerts of `kind` on the customers `customers` selects (customer_id): the finding
 * that raised them is gone (a churn risk fallen back to NONE). Each becomes DONE (completedAt now,
 * version + 1) with its audit row and `action.completed` event, as when the owner completes it.
 */
export async function closeAlertActions(tx: Executor, actor: Principal, kind: AlertKind, customers: SQL, reason: string): Promise<number> {
  const w = recordRowChanges(actor, {
    rows: 'done',
    entityType: 'action',
    action: 'completed',
    entityId: sql`id`,
    ownerUserId: sql`assignee_id`,
    ownerUnitId: sql`owner_unit_id`,
    before: sql`jsonb_build_object('status', 'OPEN')`,
    after: sql`jsonb_build_object('status', status, 'completedAt', to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'reason', ${reason}::text)`,
  });
  const [r] = await queryRows<{ n: string | number }>(
    tx,
    sql`WITH done AS (
        UPDATE actions a SET status = 'DONE', completed_at = now(), version = a.version + 1, updated_at = now()
        WHERE a.kind = ${kind} AND a.status = 'OPEN' AND a.customer_id IN (${customers})
        RETURNING a.id, a.assignee_id, a.owner_unit_id, a.status, a.completed_at
      ), audit AS (${w.audit}), outbox AS (${w.events})
      SELECT count(*) AS n FROM done`,
  );
  return Number(r?.n ?? 0);
}
