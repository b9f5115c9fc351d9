import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { DEMO_MARKER, keyLogins, seedDemo } from '../../src/cli/seed-demo.js';
import { queryRows } from '../../src/db/client.js';
import { BUILT_IN_ROLES } from '../../src/modules/org/built-in-roles.js';
import { loadPrincipal } from '../../src/modules/org/principal.repository.js';
import { testConfig } from '../helpers/app.js';

// `npm run seed:demo` through the services on a fresh database: a whole small company, every role,
// every partner type, customers with contacts; a second run changes nothing. Always on its own
// in-memory database: a demo company must not land in a database other tests share.

async function freshApp() {
  const app = await buildApp(testConfig({ DATABASE_URL: '' }), { logger: false });
  t.teardown(() => app.close());
  return app;
}

const CUSTOMERS = 60;

t.test('seeds a small company once', async (t) => {
  const app = await freshApp();
  const first = await seedDemo(app, { customers: CUSTOMERS });
  t.ok(first.created);
  t.equal(first.customers, CUSTOMERS);
  t.ok(first.contacts >= CUSTOMERS && first.contacts <= 3 * CUSTOMERS, `${first.contacts} contacts`);

  const db = app.database.db;
  const units = await queryRows<{ name: string; kind: string; partner_type: string | null; parent: string | null }>(
    db,
    sql`SELECT u.name, u.kind, u.partner_type, p.name AS parent FROM org_units u LEFT JOIN org_units p ON p.id = u.parent_id`,
  );
  const count = (kind: string) => units.filter((u) => u.kind === kind).length;
  t.equal(count('HEADQUARTERS'), 1);
  t.equal(count('REGION'), 3);
  t.ok(count('BRANCH') >= 6, `${count('BRANCH')} branches`);
  t.ok(units.some((u) => u.kind === 'DEPARTMENT' && u.name === 'Marketing'));
  t.same(
    units.filter((u) => u.kind === 'PARTNER').map((u) => u.partner_type).sort(),
    ['AGENT', 'DISTRIBUTOR', 'RESELLER', 'SERVICE_PROVIDER'],
  );
  const partners = new Set(units.filter((u) => u.kind === 'PARTNER').map((u) => u.name));
  t.ok(units.some((u) => u.parent && partners.has(u.parent)), 'a partner has a sub-unit');

  const roles = await queryRows<{ role: string; n: number }>(
    db,
    sql`SELECT r.name AS role, count(*)::int AS n FROM user_roles ur JOIN roles r ON r.id = ur.role_id GROUP BY r.name`,
  );
  for (const r of BUILT_IN_ROLES) t.ok(roles.some((x) => x.role === r.name && x.n > 0), `someone is ${r.name}`);

  // The printed key logins exist, with the printed role and unit.
  for (const l of keyLogins('admin@example.com')) {
    const [u] = await queryRows<{ unit: string; roles: string[] }>(
      db,
      sql`SELECT ou.name AS unit, ARRAY(SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id) AS roles
          FROM users u JOIN org_units ou ON ou.id = u.unit_id WHERE lower(u.email) = ${l.email}`,
    );
    t.equal(u?.unit, l.unit, `${l.email} works in ${l.unit}`);
    t.ok(u?.roles.includes(l.role), `${l.email} is ${l.role}`);
  }

  const owners = await queryRows<{ kind: string; n: number }>(
    db,
    sql`SELECT CASE WHEN c.owner_user_id IS NULL THEN 'pool' WHEN r.name = 'partner_sales' THEN 'partner' ELSE 'staff' END AS kind, count(*)::int AS n
        FROM customers c LEFT JOIN user_roles ur ON ur.user_id = c.owner_user_id LEFT JOIN roles r ON r.id = ur.role_id GROUP BY 1`,
  );
  for (const k of ['staff', 'partner', 'pool']) t.ok(owners.some((o) => o.kind === k && o.n > 0), `${k} customers exist`);
  const [shape] = await queryRows<{ stages: number; sources: number; without_contacts: number; decision_makers: number; audited: number }>(
    db,
    sql`SELECT (SELECT count(DISTINCT lifecycle_stage)::int FROM customers) AS stages,
               (SELECT count(DISTINCT source_channel)::int FROM customers) AS sources,
               (SELECT count(*)::int FROM customers c WHERE NOT EXISTS (SELECT 1 FROM contacts k WHERE k.customer_id = c.id)) AS without_contacts,
               (SELECT count(*)::int FROM contacts WHERE decision_role = 'DECISION_MAKER') AS decision_makers,
               (SELECT count(*)::int FROM audit_log WHERE entity_type = 'customer' AND action = 'created') AS audited`,
  );
  t.equal(shape?.stages, 5, 'every lifecycle stage');
  t.ok((shape?.sources ?? 0) >= 5, `${shape?.sources} source channels`);
  t.equal(shape?.without_contacts, 0, 'every customer has a contact person');
  t.ok((shape?.decision_makers ?? 0) > 0);
  t.equal(shape?.audited, CUSTOMERS, 'created through the service: each creation audited');

  // Joint deals: a branch customer shared with a partner, which can read it but not change it.
  t.ok(first.shares > 0, `${first.shares} shares`);
  const [share] = await queryRows<{ customer: string; manager: string }>(
    db,
    sql`SELECT s.resource_id AS customer, u.id AS manager FROM shares s
        JOIN users u ON u.unit_id = s.to_unit_id JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id AND r.name = 'partner_manager' LIMIT 1`,
  );
  const partnerManager = await loadPrincipal(db, share?.manager ?? '');
  if (!share || !partnerManager) throw new Error('no shared customer');
  t.equal((await app.services.customers.get(partnerManager, share.customer)).id, share.customer, 'the partner reads the shared customer');
  await t.rejects(app.services.customers.update(partnerManager, share.customer, { industry: 'Other' }), { code: 'FORBIDDEN' }, 'but may not change it');

  const again = await seedDemo(app, { customers: CUSTOMERS });
  t.notOk(again.created, 'the second run sees the marker');
  const [after] = await queryRows<{ n: number; markers: number }>(
    db,
    sql`SELECT (SELECT count(*)::int FROM customers) AS n, (SELECT count(*)::int FROM org_units WHERE name = ${DEMO_MARKER}) AS markers`,
  );
  t.equal(after?.n, CUSTOMERS, 'nothing duplicated');
  t.equal(after?.markers, 1);
});
