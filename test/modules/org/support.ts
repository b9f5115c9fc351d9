// Shared helpers for the organisation and access tests (not a test file itself).
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import type { TestApp, Unit, User } from '../../helpers/app.js';

/** A short token that makes names and emails unique across files sharing one database. */
export const tag = (): string => randomUUID().replaceAll('-', '').slice(0, 10);

type Res = { status: number; headers: Record<string, unknown>; body: any; raw: string };

/** A problem+json answer with this status, optionally naming exactly these fields in `errors[]`. */
export function problemOf(res: Res, status: number, paths?: string[]): string | null {
  if (res.status !== status) return `status ${res.status}, expected ${status}: ${res.raw}`;
  if (!String(res.headers['content-type'] ?? '').startsWith('application/problem+json')) return `not problem+json: ${String(res.headers['content-type'])}`;
  const b = res.body;
  if (typeof b?.type !== 'string' || typeof b?.title !== 'string' || b?.status !== status || typeof b?.detail !== 'string') return `not a problem: ${res.raw}`;
  if (paths) {
    const got = ((b.errors ?? []) as { path: string }[]).map((e) => e.path);
    if (JSON.stringify(got) !== JSON.stringify(paths)) return `errors name ${JSON.stringify(got)}, expected ${JSON.stringify(paths)}`;
  }
  return null;
}

/** The field paths a GraphQL error names in `extensions.errors`. */
export const gqlPaths = (g: { errors?: { extensions?: Record<string, any> }[] }): string[] =>
  (g.errors ?? []).flatMap((e) => ((e.extensions?.errors ?? []) as { path: string }[]).map((x) => x.path));

export async function count(app: TestApp, q: ReturnType<typeof sql>): Promise<number> {
  const [r] = await queryRows<{ n: number | string }>(app.db, q);
  return Number(r?.n ?? 0);
}

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

/** A custom role made by the admin through the API; its name is unique to this test. */
export async function customRole(app: TestApp, scope: string, permissions: string[], hiddenFields: string[] = []): Promise<{ id: string; name: string; version: number }> {
  const admin = await app.admin();
  const res = await app.rest(admin, 'POST', '/v1/roles', { name: `r_${tag()}`, scope, permissions, hiddenFields });
  if (res.status !== 201) throw new Error(`role create failed: ${res.raw}`);
  return res.body;
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
export const ROLE_FIELDS = 'id name scope permissions hiddenFields builtIn version';
