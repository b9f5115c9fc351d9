import type pg from 'pg';

// The peer's row-level security: the app's visibility rule (domain.md §1, src/lib/access.ts) written
// as PostgreSQL policies, installed in the bench database only (never in the app's migrations). The
// app connects as the database owner, which RLS does not apply to; the peer's login role switches
// per request to the visitor role (`SET LOCAL role`) with the persona in `jwt.claims.sub`.

export const PEER_LOGIN_ROLE = 'keel_peer_login';
export const PEER_LOGIN_PASSWORD = 'keel-peer-bench';
export const PEER_VISITOR_ROLE = 'keel_peer_visitor';

// The arms of the rule for `perm` on a customer row `c` (its id and owner columns). Each function is
// called once per statement: wrapped in a scalar subquery it is an InitPlan, not a per-row call.
function customerArms(perm: string, c: string): string {
  const q = `'${perm}'`;
  return `((SELECT keel_peer.sees_all(${q}))
    OR ${c}.owner_unit_id = ANY((SELECT keel_peer.record_units(${q}))::uuid[])
    OR ${c}.owner_user_id = ANY((SELECT keel_peer.record_owners(${q}))::uuid[])
    OR ${c}.id = ANY((SELECT keel_peer.granted_customers(${q}))::uuid[]))`;
}

const FUNCTIONS = `
CREATE SCHEMA IF NOT EXISTS keel_peer;

-- The caller, from the request's settings (empty: nobody).
CREATE OR REPLACE FUNCTION keel_peer.me() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('jwt.claims.sub', true), '')::uuid $$;

-- The caller's widest scope for a permission (rank 0 OWN, 1 UNIT, 2 SUBTREE, 3 ALL; null: not
-- granted or not an active user), its base path (a partner's ALL is clamped to its partner's
-- subtree), and the users who delegated their work to it, active now. As src/lib/access.ts scopeFor.
-- One statement's policies ask for it several times (one InitPlan per arm): the first answer is kept
-- for the rest of the transaction in a transaction-local setting, keyed by the caller.
DO $$ BEGIN
  CREATE TYPE keel_peer.scope_t AS (sub uuid, rank int, base_path text, user_id uuid, unit_id uuid, delegators uuid[]);
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE OR REPLACE FUNCTION keel_peer.scope(perm text, OUT rank int, OUT base_path text, OUT user_id uuid, OUT unit_id uuid, OUT delegators uuid[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  sub uuid := keel_peer.me();
  memo_key text := 'keel_peer.scope_' || md5(perm);
  memo text := current_setting(memo_key, true);
  m keel_peer.scope_t;
  unit_path text;
  partner_path text;
BEGIN
  IF memo IS NOT NULL AND memo <> '' THEN
    m := memo::keel_peer.scope_t;
    IF m.sub IS NOT DISTINCT FROM sub THEN
      rank := m.rank; base_path := m.base_path; user_id := m.user_id; unit_id := m.unit_id; delegators := m.delegators;
      RETURN;
    END IF;
  END IF;
  SELECT u.id, u.unit_id, ou.path INTO user_id, unit_id, unit_path
    FROM users u JOIN org_units ou ON ou.id = u.unit_id WHERE u.id = sub AND u.active;
  IF user_id IS NOT NULL THEN
    SELECT max(CASE r.scope WHEN 'OWN' THEN 0 WHEN 'UNIT' THEN 1 WHEN 'SUBTREE' THEN 2 WHEN 'ALL' THEN 3 END) INTO rank
      FROM user_roles ur JOIN roles r ON r.id = ur.role_id
     WHERE ur.user_id = sub AND EXISTS (SELECT 1 FROM unnest(r.permissions) g
             WHERE split_part(g, ':', 1) IN ('*', split_part(perm, ':', 1)) AND split_part(g, ':', 2) IN ('*', split_part(perm, ':', 2)));
  END IF;
  IF rank IS NOT NULL THEN
    SELECT p.path INTO partner_path FROM org_units p
     WHERE p.kind = 'PARTNER' AND p.id = ANY(string_to_array(trim(both '/' from unit_path), '/')::uuid[]) ORDER BY length(p.path) LIMIT 1;
    base_path := unit_path;
    IF rank = 3 AND partner_path IS NOT NULL THEN
      rank := 2;
      base_path := partner_path;
    END IF;
    delegators := ARRAY(SELECT d.from_user_id FROM delegations d JOIN users fu ON fu.id = d.from_user_id
                         WHERE d.to_user_id = sub AND d.revoked_at IS NULL AND d.starts_at <= now() AND d.ends_at > now());
  END IF;
  PERFORM set_config(memo_key, ROW(sub, rank, base_path, user_id, unit_id, delegators)::keel_peer.scope_t::text, true);
END $$;

CREATE OR REPLACE FUNCTION keel_peer.sees_all(perm text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT coalesce(s.rank = 3, false) FROM keel_peer.scope(perm) s $$;

-- Units whose records the scope covers by owner unit: UNIT its own, SUBTREE those below its base.
CREATE OR REPLACE FUNCTION keel_peer.record_units(perm text) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT CASE s.rank WHEN 1 THEN ARRAY[s.unit_id] WHEN 2 THEN ARRAY(SELECT su.id FROM org_units su WHERE su.path LIKE s.base_path || '%')
   ELSE '{}'::uuid[] END FROM keel_peer.scope(perm) s $$;

-- Owners whose records are visible under any scope: the caller and its active delegators.
CREATE OR REPLACE FUNCTION keel_peer.record_owners(perm text) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT CASE WHEN s.rank IS NULL THEN '{}'::uuid[] ELSE s.user_id || s.delegators END FROM keel_peer.scope(perm) s $$;

-- Customers granted for reading: unexpired shares to the caller or its unit, pending handoffs to
-- the caller (or its unit, no user named), approved claims of the caller still under protection.
CREATE OR REPLACE FUNCTION keel_peer.granted_customers(perm text) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT CASE WHEN s.rank IS NULL OR perm NOT LIKE '%:read' THEN '{}'::uuid[] ELSE ARRAY(
     SELECT sh.resource_id FROM shares sh WHERE sh.resource_type = 'customer'
        AND (sh.to_user_id = s.user_id OR sh.to_unit_id = s.unit_id) AND (sh.expires_at IS NULL OR sh.expires_at > now())
     UNION SELECT ho.customer_id FROM handoffs ho WHERE ho.status = 'PENDING'
        AND (ho.to_user_id = s.user_id OR (ho.to_user_id IS NULL AND ho.to_unit_id = s.unit_id))
     UNION SELECT cl.customer_id FROM claims cl WHERE cl.claimant_user_id = s.user_id AND cl.status = 'APPROVED' AND cl.protected_until > now())
   END FROM keel_peer.scope(perm) s $$;

-- Units whose users the caller may see (users:read): OWN and UNIT its own unit, SUBTREE below its base.
CREATE OR REPLACE FUNCTION keel_peer.reach_units(perm text) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT CASE WHEN s.rank IN (0, 1) THEN ARRAY[s.unit_id] WHEN s.rank = 2 THEN ARRAY(SELECT su.id FROM org_units su WHERE su.path LIKE s.base_path || '%')
   ELSE '{}'::uuid[] END FROM keel_peer.scope(perm) s $$;
`;

const POLICIES: [table: string, using: string][] = [
  ['customers', customerArms('customers:read', 'customers')],
  // A contact is visible exactly when its customer is (the customers policy applies inside).
  ['contacts', `EXISTS (SELECT 1 FROM customers c WHERE c.id = contacts.customer_id)`],
  // A customer's computed value: visible exactly when its customer is.
  ['customer_values', `EXISTS (SELECT 1 FROM customers c WHERE c.id = customer_values.customer_id)`],
  // An interaction: its customer is visible and the caller's interactions:read covers that customer.
  ['interactions', `EXISTS (SELECT 1 FROM customers c WHERE c.id = interactions.customer_id AND ${customerArms('interactions:read', 'c')})`],
  ['users', `(users.id = (SELECT keel_peer.me()) OR (SELECT keel_peer.sees_all('users:read')) OR users.unit_id = ANY((SELECT keel_peer.reach_units('users:read'))::uuid[]))`],
];

/** The peer's roles, functions, grants and policies, as the database's owner; repeatable. */
export async function installPeerPolicies(c: pg.ClientBase): Promise<void> {
  // Roles are the server's, shared by its databases: created once, tolerated when another run just did.
  for (const [role, login] of [
    [PEER_VISITOR_ROLE, 'NOLOGIN'],
    [PEER_LOGIN_ROLE, `LOGIN PASSWORD '${PEER_LOGIN_PASSWORD}'`],
  ] as const) {
    await c.query(`DO $$ BEGIN CREATE ROLE ${role} ${login} NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
  }
  await c.query(`GRANT ${PEER_VISITOR_ROLE} TO ${PEER_LOGIN_ROLE}`);
  await c.query(FUNCTIONS);
  const db = (await c.query(`SELECT current_database() AS d`)).rows[0] as { d: string };
  await c.query(`GRANT CONNECT ON DATABASE ${db.d} TO ${PEER_LOGIN_ROLE}`);
  await c.query(`GRANT USAGE ON SCHEMA public, keel_peer TO ${PEER_VISITOR_ROLE}`);
  await c.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA keel_peer TO ${PEER_VISITOR_ROLE}`);
  for (const [table, using] of POLICIES) {
    await c.query(`GRANT SELECT ON ${table} TO ${PEER_VISITOR_ROLE}`);
    await c.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    await c.query(`DROP POLICY IF EXISTS keel_peer_read ON ${table}`);
    await c.query(`CREATE POLICY keel_peer_read ON ${table} FOR SELECT TO ${PEER_VISITOR_ROLE} USING ${using.startsWith('(') ? using : `(${using})`}`);
  }
}
