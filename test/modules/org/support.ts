// Helpers of the organisation and access tests (not a test file itself); shared factories and
// readers live in test/helpers.
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import type { TestApp, Unit, User } from '../../helpers/app.js';
import { customRole } from '../../helpers/factories.js';
import { count } from '../../helpers/records.js';

export const unitsNamed = (app: TestApp, name: string) => count(app, sql`SELECT count(*) AS n FROM org_units WHERE name = ${name}`);
export const usersWithEmail = (app: TestApp, email: string) => count(app, sql`SELECT count(*) AS n FROM users WHERE lower(email) = lower(${email})`);
export const rolesNamed = (app: TestApp, name: string) => count(app, sql`SELECT count(*) AS n FROM roles WHERE name = ${name}`);
export const sharesOf = (app: TestApp, resourceId: string) => count(app, sql`SELECT count(*) AS n FROM shares WHERE resource_id = ${resourceId}::uuid`);

export async function unitRow(app: TestApp, id: string): Promise<{ id: string; name: string; parent_id: string | null; path: string; version: number } | undefined> {
  const [r] = await queryRows<{ id: string; name: string; parent_id: string | null; path: string; version: number }>(
    app.db,
    sql`SELECT id, name, parent_id, path, version FROM org_units WHERE id = ${id}::uuid`,
  );
  return r;
}

/**
 * A partner's own administrator: a custom SUBTREE role that may manage units and users, held by
 * a user of `unit`. It shows what a partner may do to its own tree and not to another partner's.
 */
export async function partnerAdmin(app: TestApp, unit: Unit): Promise<User> {
  const role = await customRole(app, 'SUBTREE', ['org-units:*', 'users:*', 'customers:*', 'shares:*']);
  return app.user(unit, [role.name]);
}

export const UNIT_FIELDS = 'id name kind partnerType parentId version createdAt updatedAt';
export const USER_FIELDS = 'id email name unitId roles kind active version createdAt updatedAt';
export const ROLE_FIELDS = 'id name scope permissions hiddenFields builtIn version createdAt updatedAt';
export const DELEGATION_FIELDS = 'id fromUserId toUserId startsAt endsAt revokedAt createdBy createdAt active';
export const TRANSFER_FIELDS = 'id fromUserId toUserId toUnitId counts { customers opportunities actions } actorId at';
