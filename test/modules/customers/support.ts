// Shared helpers for the customer and contact behaviour tests (not a test file itself).
import { randomInt, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import { loadPrincipal } from '../../../src/modules/org/principal.repository.js';
import type { TestApp, User } from '../../helpers/app.js';

/** A short token that makes names, phones and emails unique across files sharing one database. */
export const tag = (): string => randomUUID().replaceAll('-', '').slice(0, 10);

/** Eight random digits: part of a phone number no other test uses. */
export const digits = (n = 8): string => Array.from({ length: n }, () => String(randomInt(10))).join('');

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

export type EventRow = { id: string; type: string; entity_type: string; entity_id: string; actor_id: string | null; owner_unit_id: string | null; payload: any };

export async function auditFor(app: TestApp, entityId: string): Promise<AuditRow[]> {
  return queryRows<AuditRow>(app.db, sql`SELECT id, actor_id, on_behalf_of_id, entity_type, entity_id, action, before, after FROM audit_log WHERE entity_id = ${entityId}::uuid ORDER BY id`);
}

export async function eventsFor(app: TestApp, entityId: string): Promise<EventRow[]> {
  return queryRows<EventRow>(app.db, sql`SELECT id, type, entity_type, entity_id, actor_id, owner_unit_id, payload FROM events WHERE entity_id = ${entityId}::uuid ORDER BY id`);
}

/** Customers stored under exactly this name (names in tests carry a tag, so this is "mine"). */
export async function customersNamed(app: TestApp, name: string): Promise<{ id: string; version: number; status: string }[]> {
  return queryRows(app.db, sql`SELECT id, version, status FROM customers WHERE name = ${name}`);
}

/** Audit rows whose snapshot carries this name: a write that should not have happened leaves one. */
export async function auditMentioning(app: TestApp, name: string): Promise<number> {
  const [r] = await queryRows<{ n: number | string }>(app.db, sql`SELECT count(*) AS n FROM audit_log WHERE after->>'name' = ${name} OR before->>'name' = ${name}`);
  return Number(r?.n ?? 0);
}

export async function customerRow(app: TestApp, id: string): Promise<Record<string, any> | undefined> {
  const [r] = await queryRows<Record<string, any>>(app.db, sql`SELECT * FROM customers WHERE id = ${id}::uuid`);
  return r;
}

export async function contactRow(app: TestApp, id: string): Promise<Record<string, any> | undefined> {
  const [r] = await queryRows<Record<string, any>>(app.db, sql`SELECT * FROM contacts WHERE id = ${id}::uuid`);
  return r;
}

/** A contact person added through the service, as `who`. */
export async function contactOf(app: TestApp, who: User, customerId: string, input: { name: string; decisionRole?: string; phones?: string[]; emails?: string[]; title?: string }) {
  const p = await loadPrincipal(app.db, who.id);
  if (!p) throw new Error('no principal');
  return app.app.services.customers.createContact(p, customerId, input as Parameters<typeof app.app.services.customers.createContact>[2]);
}

export const isProblem = (headers: Record<string, unknown>): boolean => String(headers['content-type'] ?? '').startsWith('application/problem+json');

/** The paths named by a problem's `errors[]` (REST) or by a GraphQL error's `extensions.errors`. */
export const errorPaths = (errors: { path: string }[] | undefined): string[] => (errors ?? []).map((e) => e.path);

export const CUSTOMER_FIELDS = `id kind name registrationId phones emails website industry region
  address { line1 line2 city postalCode region country } roles lifecycleStage status
  source { channel campaign referrerCustomerId detail } creditStatus externalIds ownerUserId ownerUnitId mergedIntoId
  version createdAt updatedAt`;

export const CONTACT_FIELDS = 'id customerId name title decisionRole phones emails version createdAt updatedAt';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ids in keyset order (createdAt, then id): the order lists promise even when two rows share a millisecond. */
export const byCreation = <T extends { id: string; createdAt: string }>(rows: T[]): string[] =>
  [...rows].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1)).map((r) => r.id);
