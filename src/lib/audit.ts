import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { auditLog, events } from '../db/schema/index.js';
import type { Principal } from './access.js';

// The one writer of audit rows and outbox events. Every change leaves one audit row and one event of
// type `<entityType>.<action>` whose payload is `{ before, after }`, addressed to the record's owner
// (the events feed and webhooks filter on it), in the transaction that makes the change. Both carry the
// `x-request-id` of the request that made it.

export type Change = {
  entityType: string;
  entityId: string;
  action: string;
  before: unknown;
  after: unknown;
  onBehalfOfId?: string | null;
  owner?: { ownerUserId: string | null; ownerUnitId: string | null };
};

export async function recordChange(tx: Executor, p: Principal, c: Change): Promise<void> {
  await recordChanges(tx, p, [c]);
}

/**
 * Many changes by one principal in one statement: the changes go as one jsonb parameter (a VALUES list of a
 * bulk batch would be thousands of parameters), each before/after once, read by the audit rows and the events.
 */
export async function recordChanges(tx: Executor, p: Principal, cs: readonly Change[]): Promise<void> {
  if (cs.length === 0) return;
  const rows = cs.map((c) => ({
    t: c.entityType,
    i: c.entityId,
    a: c.action,
    b: c.before ?? null,
    f: c.after ?? null,
    o: c.onBehalfOfId ?? null,
    u: c.owner?.ownerUserId ?? null,
    n: c.owner?.ownerUnitId ?? null,
  }));
  const actor = sql`${p.userId}::uuid`;
  const requestId = p.requestId ?? null;
  await tx.execute(sql`
    WITH c AS (SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS c(t text, i uuid, a text, b jsonb, f jsonb, o uuid, u uuid, n uuid)),
    audit AS (
      INSERT INTO ${auditLog} (actor_id, on_behalf_of_id, client, request_id, entity_type, entity_id, action, before, after)
      SELECT ${actor}, c.o, ${p.client ?? null}::text, ${requestId}::text, c.t, c.i, c.a, c.b, c.f FROM c
    )
    INSERT INTO ${events} (type, entity_type, entity_id, owner_user_id, owner_unit_id, actor_id, on_behalf_of_id, request_id, payload)
    SELECT c.t || '.' || c.a, c.t, c.i, c.u, c.n, ${actor}, c.o, ${requestId}::text, jsonb_build_object('before', c.b, 'after', c.f) FROM c`);
}

/**
 * An audit row without an event: a read worth attributing (an answer that named protected records),
 * which must not reach the events feed of the records' owners.
 */
export async function recordAudit(tx: Executor, p: Principal, c: Omit<Change, 'owner'>): Promise<void> {
  await tx.insert(auditLog).values(auditRow(p, c));
}

function auditRow(p: Principal, c: Omit<Change, 'owner'>) {
  return {
    actorId: p.userId,
    onBehalfOfId: c.onBehalfOfId ?? null,
    client: p.client ?? null,
    requestId: p.requestId ?? null,
    entityType: c.entityType,
    entityId: c.entityId,
    action: c.action,
    before: c.before ?? null,
    after: c.after ?? null,
  };
}

/**
 * The same two writes for every row of a common table expression, for set-based statements that
 * change many rows at once (a transfer, a merge). `rows` names the CTE; the other parts are SQL
 * expressions over its columns. Put both into the statement's WITH list:
 * `WITH moved AS (…), audit AS (${w.audit}), outbox AS (${w.events}) SELECT …`.
 */
export type RowChanges = {
  rows: string;
  entityType: string;
  action: string;
  entityId: SQL;
  ownerUserId: SQL;
  ownerUnitId: SQL;
  before: SQL;
  after: SQL;
  onBehalfOfId?: string | null;
};

export function recordRowChanges(p: Principal, c: RowChanges): { audit: SQL; events: SQL } {
  const from = sql.identifier(c.rows);
  const behalf = sql`${c.onBehalfOfId ?? null}::uuid`;
  return {
    audit: sql`INSERT INTO audit_log (actor_id, on_behalf_of_id, client, request_id, entity_type, entity_id, action, before, after)
      SELECT ${p.userId}::uuid, ${behalf}, ${p.client ?? null}, ${p.requestId ?? null}, ${c.entityType}, ${c.entityId}, ${c.action}, ${c.before}, ${c.after}
      FROM ${from}`,
    events: sql`INSERT INTO events (type, entity_type, entity_id, owner_user_id, owner_unit_id, actor_id, on_behalf_of_id, request_id, payload)
      SELECT ${`${c.entityType}.${c.action}`}, ${c.entityType}, ${c.entityId}, ${c.ownerUserId}, ${c.ownerUnitId}, ${p.userId}::uuid, ${behalf}, ${p.requestId ?? null},
        jsonb_build_object('before', ${c.before}, 'after', ${c.after})
      FROM ${from}`,
  };
}
