import { sql } from 'drizzle-orm';
import { type Database, type Executor, queryRows } from '../../db/client.js';
import { actions, shares } from '../../db/schema/index.js';
import type { Principal } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';

// The user background work acts as: a SERVICE user with no roles, inactive (no token opens it),
// made once per database. Audit rows and events of escalations name it as the actor.
export const SYSTEM_EMAIL = 'system@keel.invalid';

const systemIds = new WeakMap<object, string>();

export async function systemPrincipal(database: Database): Promise<Principal> {
  let id = systemIds.get(database);
  if (!id) {
    await database.db.execute(sql`
      INSERT INTO users (email, name, unit_id, kind, active)
      SELECT ${SYSTEM_EMAIL}, 'Keel system', ou.id, 'SERVICE', false FROM org_units ou WHERE ou.parent_id IS NULL
      ON CONFLICT (lower(email)) DO NOTHING`);
    const [row] = await queryRows<{ id: string }>(database.db, sql`SELECT id FROM users WHERE lower(email) = ${SYSTEM_EMAIL}`);
    if (!row) throw new Error('the system user could not be created');
    id = row.id;
    systemIds.set(database, id);
  }
  const [u] = await queryRows<{ unit_id: string; path: string }>(
    database.db,
    sql`SELECT u.unit_id, ou.path FROM users u JOIN org_units ou ON ou.id = u.unit_id WHERE u.id = ${id}`,
  );
  return { userId: id, email: SYSTEM_EMAIL, name: 'Keel system', kind: 'SERVICE', unitId: u?.unit_id ?? '', unitPath: u?.path ?? '/', partnerPath: null, roles: [], delegatorIds: [], client: 'jobs' };
}

type Due = { id: string; customer_id: string; customer_name: string; owner_user_id: string | null; owner_unit_id: string; to_unit_id: string; to_user_id: string | null };
type Assignee = { id: string; unit_id: string };

/**
 * Who an overdue handoff escalates to: the nearest active manager (`manager` or `partner_manager`)
 * at or above the receiving unit — never outside a partner's own subtree when the unit is a
 * partner's — other than the receiver itself; else the longest-standing active admin.
 */
async function escalationAssignee(tx: Executor, h: Due): Promise<Assignee | null> {
  const [manager] = await queryRows<Assignee>(
    tx,
    sql`WITH target AS (
          SELECT ou.path,
            (SELECT pu.path FROM org_units pu
               WHERE pu.kind = 'PARTNER' AND pu.id = ANY(string_to_array(trim(both '/' from ou.path), '/')::uuid[])
               ORDER BY length(pu.path) ASC LIMIT 1) AS partner_path
          FROM org_units ou WHERE ou.id = ${h.to_unit_id})
        SELECT u.id, u.unit_id FROM users u JOIN org_units uu ON uu.id = u.unit_id CROSS JOIN target t
        WHERE u.active AND t.path LIKE uu.path || '%'
          AND (t.partner_path IS NULL OR uu.path LIKE t.partner_path || '%')
          AND u.id IS DISTINCT FROM ${h.to_user_id}::uuid
          AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                      WHERE ur.user_id = u.id AND r.name IN ('manager', 'partner_manager'))
        ORDER BY length(uu.path) DESC, u.created_at, u.id
        LIMIT 1`,
  );
  if (manager) return manager;
  const [admin] = await queryRows<Assignee>(
    tx,
    sql`SELECT u.id, u.unit_id FROM users u
        WHERE u.active AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = 'admin')
        ORDER BY u.created_at, u.id LIMIT 1`,
  );
  return admin ?? null;
}

/**
 * Escalates one handoff if it is still pending and overdue; true when this call did it. Safe to run
 * any number of times from any number of processes: the conditional UPDATE flips the status once,
 * and the action (unique per handoff) is written only by the transaction that flipped it.
 */
export async function escalateHandoff(database: Database, handoffId: string, system?: Principal): Promise<boolean> {
  const actor = system ?? (await systemPrincipal(database));
  return database.db.transaction(async (tx) => {
    // The customer first (shared key lock), as accept and reject lock it before the handoff.
    const [due] = await queryRows<Due>(
      tx,
      sql`SELECT h.id, h.customer_id, c.name AS customer_name, c.owner_user_id, c.owner_unit_id, h.to_unit_id, h.to_user_id
          FROM handoffs h JOIN customers c ON c.id = h.customer_id
          WHERE h.id = ${handoffId} AND h.status = 'PENDING' AND h.due_at <= now()
          FOR KEY SHARE OF c`,
    );
    if (!due) return false;
    const assignee = await escalationAssignee(tx, due);
    const [flipped] = await queryRows<{ id: string; escalated_at: Date | string; due_at: Date | string }>(
      tx,
      sql`UPDATE handoffs SET status = 'ESCALATED', escalated_at = now(), escalated_to_id = ${assignee?.id ?? null}::uuid,
            version = version + 1, updated_at = now()
          WHERE id = ${handoffId} AND status = 'PENDING' AND due_at <= now()
          RETURNING id, escalated_at, due_at`,
    );
    if (!flipped) return false;
    const owner = { ownerUserId: due.owner_user_id, ownerUnitId: due.owner_unit_id };
    await recordChange(tx, actor, {
      entityType: 'handoff',
      entityId: handoffId,
      action: 'escalated',
      before: { status: 'PENDING' },
      after: { status: 'ESCALATED', escalatedToId: assignee?.id ?? null, customerId: due.customer_id },
      owner,
    });
    // Without any manager or admin there is no one to give the action to; the status still records it.
    if (!assignee) return true;
    const [action] = await tx
      .insert(actions)
      .values({
        customerId: due.customer_id,
        title: `Handoff overdue: ${due.customer_name}`,
        dueAt: sql`now()`,
        value: 4,
        urgency: 5,
        kind: 'ESCALATION',
        handoffId,
        assigneeId: assignee.id,
        ownerUnitId: assignee.unit_id,
        createdBy: actor.userId,
      })
      .returning();
    if (!action) throw new Error('insert returned nothing');
    await recordChange(tx, actor, {
      entityType: 'action',
      entityId: action.id,
      action: 'created',
      before: null,
      after: action,
      owner: { ownerUserId: assignee.id, ownerUnitId: assignee.unit_id },
    });
    // The manager must be able to open the lead the action is about: an explicit read share, the
    // visibility rule's own grant, unless the manager's scope already covers the customer.
    const [already] = await queryRows<{ one: number }>(
      tx,
      sql`SELECT 1 AS one FROM shares s WHERE s.resource_type = 'customer' AND s.resource_id = ${due.customer_id}::uuid AND s.to_user_id = ${assignee.id}::uuid`,
    );
    const [share] = already ? [] : await tx.insert(shares).values({ resourceType: 'customer', resourceId: due.customer_id, toUserId: assignee.id, createdBy: actor.userId }).returning();
    if (share) {
      await recordChange(tx, actor, { entityType: 'share', entityId: share.id, action: 'created', before: null, after: share, owner });
    }
    return true;
  });
}

/** Escalates every overdue pending handoff (the safety net behind the per-handoff jobs). */
export async function escalateOverdue(database: Database, limit = 500): Promise<number> {
  const due = await queryRows<{ id: string }>(
    database.db,
    sql`SELECT id FROM handoffs WHERE status = 'PENDING' AND due_at <= now() ORDER BY due_at, id LIMIT ${limit}`,
  );
  if (due.length === 0) return 0;
  const system = await systemPrincipal(database);
  let n = 0;
  for (const h of due) if (await escalateHandoff(database, h.id, system)) n++;
  return n;
}
