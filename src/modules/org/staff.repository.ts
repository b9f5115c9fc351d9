import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { shares } from '../../db/schema/index.js';
import type { Principal } from '../../lib/access.js';
import { HEAD_OF_UNIT_ROLES } from './management.js';

export type Staff = { id: string; unitId: string };
export type ShareRow = typeof shares.$inferSelect;

// The user background work acts as: a SERVICE user with no roles, inactive (no token opens it),
// made once per database. Audit rows and events of background work name it as the actor.
export const SYSTEM_EMAIL = 'system@keel.invalid';

const headRoles = sql`(${sql.join(
  HEAD_OF_UNIT_ROLES.map((r) => sql`${r}`),
  sql`, `,
)})`;

export const staffRepository = {
  async systemPrincipal(ex: Executor): Promise<Principal> {
    await ex.execute(sql`
      INSERT INTO users (email, name, unit_id, kind, active)
      SELECT ${SYSTEM_EMAIL}, 'Keel system', ou.id, 'SERVICE', false FROM org_units ou WHERE ou.parent_id IS NULL
      ON CONFLICT (lower(email)) DO NOTHING`);
    const [u] = await queryRows<{ id: string; unit_id: string; path: string }>(
      ex,
      sql`SELECT u.id, u.unit_id, ou.path FROM users u JOIN org_units ou ON ou.id = u.unit_id WHERE lower(u.email) = ${SYSTEM_EMAIL}`,
    );
    if (!u) throw new Error('the system user could not be created');
    return { userId: u.id, email: SYSTEM_EMAIL, name: 'Keel system', kind: 'SERVICE', unitId: u.unit_id, unitPath: u.path, partnerPath: null, roles: [], delegatorIds: [], client: 'jobs' };
  },

  /**
   * The nearest active head of a unit at or above `unitId` — never outside a partner's own subtree
   * when the unit is a partner's — other than `exceptUserId`; else the longest-standing active admin.
   */
  async nearestHead(ex: Executor, unitId: string, exceptUserId: string | null): Promise<Staff | null> {
    const [head] = await queryRows<{ id: string; unit_id: string }>(
      ex,
      sql`WITH target AS (
            SELECT ou.path,
              (SELECT pu.path FROM org_units pu
                 WHERE pu.kind = 'PARTNER' AND pu.id = ANY(string_to_array(trim(both '/' from ou.path), '/')::uuid[])
                 ORDER BY length(pu.path) ASC LIMIT 1) AS partner_path
            FROM org_units ou WHERE ou.id = ${unitId})
          SELECT u.id, u.unit_id FROM users u JOIN org_units uu ON uu.id = u.unit_id CROSS JOIN target t
          WHERE u.active AND t.path LIKE uu.path || '%'
            AND (t.partner_path IS NULL OR uu.path LIKE t.partner_path || '%')
            AND u.id IS DISTINCT FROM ${exceptUserId}::uuid
            AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                        WHERE ur.user_id = u.id AND r.name IN ${headRoles})
          ORDER BY length(uu.path) DESC, u.created_at, u.id
          LIMIT 1`,
    );
    if (head) return { id: head.id, unitId: head.unit_id };
    const [admin] = await queryRows<{ id: string; unit_id: string }>(
      ex,
      sql`SELECT u.id, u.unit_id FROM users u
          WHERE u.active AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = 'admin')
          ORDER BY u.created_at, u.id LIMIT 1`,
    );
    return admin ? { id: admin.id, unitId: admin.unit_id } : null;
  },

  /** The head of exactly this unit: its longest-serving active head, if any (locked against deactivation). */
  async headOf(ex: Executor, unitId: string): Promise<Staff | null> {
    const [row] = await queryRows<{ id: string; unit_id: string }>(
      ex,
      sql`SELECT u.id, u.unit_id FROM users u
        WHERE u.unit_id = ${unitId} AND u.active
          AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name IN ${headRoles})
        ORDER BY u.created_at, u.id LIMIT 1
        FOR SHARE OF u`,
    );
    return row ? { id: row.id, unitId: row.unit_id } : null;
  },

  /** A read share of a customer for one user, unless one exists; the new share, or null. */
  async grantCustomerReadShare(ex: Executor, customerId: string, toUserId: string, createdBy: string): Promise<ShareRow | null> {
    const [already] = await queryRows<{ one: number }>(
      ex,
      sql`SELECT 1 AS one FROM shares s WHERE s.resource_type = 'customer' AND s.resource_id = ${customerId}::uuid AND s.to_user_id = ${toUserId}::uuid`,
    );
    if (already) return null;
    const [share] = await ex.insert(shares).values({ resourceType: 'customer', resourceId: customerId, toUserId, createdBy }).returning();
    return share ?? null;
  },
};
