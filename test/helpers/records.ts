// Readers of what the service stored: audit rows, outbox events, ownership history and plain rows.
// Tests read the tables to check what a write left behind (or that a refused write left nothing);
// they never write through them (records are made by ./factories.ts, through the API).
import { type SQL, sql } from 'drizzle-orm';
import { queryRows } from '../../src/db/client.js';
import type { TestApp } from './app.js';

export type AuditRow = {
  id: string;
  actor_id: string;
  on_behalf_of_id: string | null;
  entity_type: string;
  entity_id: string;
  action: string;
  before: any;
  after: any;
};

export type EventRow = {
  id: string;
  type: string;
  entity_type: string;
  entity_id: string;
  actor_id: string | null;
  on_behalf_of_id: string | null;
  owner_user_id: string | null;
  owner_unit_id: string | null;
  payload: any;
};

export type OwnershipRow = {
  id: string;
  entity_type: string;
  entity_id: string;
  customer_id: string;
  from_user_id: string | null;
  from_unit_id: string | null;
  to_user_id: string | null;
  to_unit_id: string | null;
  cause: string;
  transfer_id: string | null;
  actor_id: string;
  on_behalf_of_id: string | null;
};

/** The audit rows of one entity, oldest first. */
export async function auditFor(app: TestApp, entityId: string): Promise<AuditRow[]> {
  return queryRows<AuditRow>(app.db, sql`SELECT id, actor_id, on_behalf_of_id, entity_type, entity_id, action, before, after FROM audit_log WHERE entity_id = ${entityId}::uuid ORDER BY id`);
}

/** The outbox events of one entity, oldest first; only those of `type` when given. */
export async function eventsFor(app: TestApp, entityId: string, type?: string): Promise<EventRow[]> {
  return queryRows<EventRow>(
    app.db,
    sql`SELECT id, type, entity_type, entity_id, actor_id, on_behalf_of_id, owner_user_id, owner_unit_id, payload FROM events
        WHERE entity_id = ${entityId}::uuid ${type ? sql`AND type = ${type}` : sql``} ORDER BY id`,
  );
}

/** The ownership history of one entity (customer, opportunity or action), oldest first. */
export async function ownershipOf(app: TestApp, entityId: string): Promise<OwnershipRow[]> {
  return queryRows<OwnershipRow>(app.db, sql`SELECT * FROM ownership_changes WHERE entity_id = ${entityId}::uuid ORDER BY at, id`);
}

/** The stored row of `table` with this id, or undefined. */
export async function findRow(app: TestApp, table: string, id: string): Promise<Record<string, any> | undefined> {
  const [r] = await queryRows<Record<string, any>>(app.db, sql`SELECT * FROM ${sql.identifier(table)} WHERE id = ${id}::uuid`);
  return r;
}

/** The stored row of `table` with this id; a missing one fails the test. */
export async function row(app: TestApp, table: string, id: string): Promise<Record<string, any>> {
  const r = await findRow(app, table, id);
  if (!r) throw new Error(`no ${table} row ${id}`);
  return r;
}

/** The number a `SELECT count(*) AS n …` answers. */
export async function count(app: TestApp, q: SQL): Promise<number> {
  const [r] = await queryRows<{ n: number | string }>(app.db, q);
  return Number(r?.n ?? 0);
}

/** Rows of `table` matching `where` (every row when omitted). */
export const countRows = (app: TestApp, table: string, where: SQL = sql`TRUE`): Promise<number> =>
  count(app, sql`SELECT count(*) AS n FROM ${sql.identifier(table)} WHERE ${where}`);
