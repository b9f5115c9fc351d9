import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import type { Principal, PrincipalRole } from '../../lib/access.js';

type Row = {
  id: string;
  email: string;
  name: string;
  kind: 'HUMAN' | 'SERVICE';
  active: boolean;
  unit_id: string;
  unit_path: string;
  partner_path: string | null;
  roles: PrincipalRole[] | string;
  delegator_ids: string[] | string | null;
};

function pgArray(v: string[] | string | null): string[] {
  if (v === null) return [];
  if (Array.isArray(v)) return v;
  return v === '{}' ? [] : v.slice(1, -1).split(',');
}

// One statement: the user, the unit's path, the outermost partner above it, roles and delegators.
export async function loadPrincipal(db: Executor, userId: string): Promise<(Principal & { active: boolean }) | null> {
  const [row] = await queryRows<Row>(db, sql`
    SELECT u.id, u.email, u.name, u.kind, u.active, u.unit_id, ou.path AS unit_path,
      (SELECT p.path FROM org_units p
         WHERE p.kind = 'PARTNER' AND p.id = ANY(string_to_array(trim(both '/' from ou.path), '/')::uuid[])
         ORDER BY length(p.path) ASC LIMIT 1) AS partner_path,
      COALESCE((SELECT json_agg(json_build_object('id', r.id, 'name', r.name, 'scope', r.scope,
                  'permissions', r.permissions, 'hiddenFields', r.hidden_fields) ORDER BY r.name)
                FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id), '[]'::json) AS roles,
      ARRAY(SELECT d.from_user_id FROM delegations d JOIN users fu ON fu.id = d.from_user_id
             WHERE d.to_user_id = u.id AND d.revoked_at IS NULL AND d.starts_at <= now() AND d.ends_at > now()) AS delegator_ids
    FROM users u JOIN org_units ou ON ou.id = u.unit_id
    WHERE u.id = ${userId}`);
  if (!row) return null;
  const roles = typeof row.roles === 'string' ? (JSON.parse(row.roles) as PrincipalRole[]) : row.roles;
  return {
    userId: row.id,
    email: row.email,
    name: row.name,
    kind: row.kind,
    active: row.active,
    unitId: row.unit_id,
    unitPath: row.unit_path,
    partnerPath: row.partner_path,
    roles,
    delegatorIds: pgArray(row.delegator_ids),
  };
}

/** The id of the user with this email (case-insensitive), for tokens of a provider that names users by email. */
export async function userIdByEmail(db: Executor, email: string): Promise<string | null> {
  const [row] = await queryRows<{ id: string }>(db, sql`SELECT id FROM users WHERE lower(email) = lower(${email}) LIMIT 1`);
  return row?.id ?? null;
}
