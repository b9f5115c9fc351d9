// Helpers of the customer and contact tests (not a test file itself); shared factories and readers
// live in test/helpers.
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import type { TestApp } from '../../helpers/app.js';
import { count } from '../../helpers/records.js';

/** Customers stored under exactly this name (names in tests carry a tag, so this is "mine"). */
export async function customersNamed(app: TestApp, name: string): Promise<{ id: string; version: number; status: string }[]> {
  return queryRows(app.db, sql`SELECT id, version, status FROM customers WHERE name = ${name}`);
}

/** Audit rows whose snapshot carries this name: a write that should not have happened leaves one. */
export const auditMentioning = (app: TestApp, name: string): Promise<number> =>
  count(app, sql`SELECT count(*) AS n FROM audit_log WHERE after->>'name' = ${name} OR before->>'name' = ${name}`);

export const CUSTOMER_FIELDS = `id kind name registrationId phones emails website industry region
  address { line1 line2 city postalCode region country } roles lifecycleStage status
  source { channel campaign referrerCustomerId detail } creditStatus creditLimit creditCurrency externalIds ownerUserId ownerUnitId mergedIntoId
  version createdAt updatedAt`;

export const CONTACT_FIELDS = 'id customerId name title decisionRole phones emails externalIds version createdAt updatedAt';

/** Ids in keyset order (createdAt, then id): the order lists promise even when two rows share a millisecond. */
export const byCreation = <T extends { id: string; createdAt: string }>(rows: T[]): string[] =>
  [...rows].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1)).map((r) => r.id);
