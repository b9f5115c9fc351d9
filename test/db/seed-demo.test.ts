import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { DEMO_MARKER, keyLogins, seedDemo } from '../../src/cli/seed-demo/index.js';
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
  t.ok(first.orders > 0, `${first.orders} orders`);
  const [orderShape] = await queryRows<{ n: number; off_stage: number; unpriced: number; confirmed: number }>(
    app.database.db,
    sql`SELECT count(*)::int AS n,
          count(*) FILTER (WHERE c.lifecycle_stage NOT IN ('CUSTOMER', 'USER'))::int AS off_stage,
          count(*) FILTER (WHERE o.amount <> (SELECT sum(l.amount) FROM order_lines l WHERE l.order_id = o.id))::int AS unpriced,
          count(*) FILTER (WHERE o.status = 'CONFIRMED' AND o.confirmed_at IS NOT NULL)::int AS confirmed
        FROM orders o JOIN customers c ON c.id = o.customer_id`,
  );
  t.match(orderShape, { n: first.orders, off_stage: 0, unpriced: 0 }, 'orders only on customers that bought, totals are their lines');
  t.ok((orderShape?.confirmed ?? 0) > 0, 'some orders went the whole order-to-cash chain');

  const db = app.database.db;
  // Customer value: costs recorded, reference customers rated, and every active buyer ranked.
  const [value] = await queryRows<{ costs: number; references: number; ranked: number; buyers: number }>(
    db,
    sql`SELECT (SELECT count(*)::int FROM customer_costs) AS costs, (SELECT count(DISTINCT customer_id)::int FROM reference_effects) AS "references",
      (SELECT count(*)::int FROM customer_values WHERE value_class IS NOT NULL) AS ranked,
      (SELECT count(*)::int FROM customers WHERE status = 'ACTIVE' AND lifecycle_stage IN ('CUSTOMER', 'USER')) AS buyers`,
  );
  t.ok(value!.costs > 0, `${value!.costs} costs`);
  t.equal(value!.references, 2, 'two reference customers');
  t.equal(value!.ranked, value!.buyers, 'every active buyer has a value class');
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

  // The sales process around the customers.
  t.ok(first.interactions > CUSTOMERS, `${first.interactions} interactions`);
  const [history] = await queryRows<{ with_history: number; recent: number; old: number }>(
    db,
    sql`SELECT (SELECT count(DISTINCT customer_id)::int FROM interactions) AS with_history,
               (SELECT count(*)::int FROM interactions WHERE occurred_at > now() - interval '30 days') AS recent,
               (SELECT count(*)::int FROM interactions WHERE occurred_at < now() - interval '60 days') AS old`,
  );
  t.ok((history?.with_history ?? 0) >= CUSTOMERS * 0.7, `${history?.with_history} customers have contact history`);
  t.ok((history?.recent ?? 0) > 0 && (history?.old ?? 0) > 0, 'spread over the last months');

  const stages = await queryRows<{ key: string; status: string; n: number; qualified: number; with_amount: number; lost_reason: number }>(
    db,
    sql`SELECT s.key, o.status, count(*)::int AS n,
               count(*) FILTER (WHERE (o.qualification->>'needDefined')::boolean AND ((o.qualification->>'decisionMakerKnown')::boolean OR o.qualification ? 'purchaseMotive'))::int AS qualified,
               count(*) FILTER (WHERE o.amount IS NOT NULL)::int AS with_amount,
               count(*) FILTER (WHERE o.lost_reason IS NOT NULL)::int AS lost_reason
        FROM opportunities o JOIN pipeline_stages s ON s.id = o.stage_id JOIN pipelines p ON p.id = o.pipeline_id AND p.is_default GROUP BY s.key, o.status`,
  );
  const at = (key: string) => stages.find((x) => x.key === key);
  for (const key of ['QUALIFICATION', 'ACCEPTANCE', 'NEGOTIATION', 'WON', 'LOST']) t.ok((at(key)?.n ?? 0) > 0, `opportunities at ${key}`);
  t.equal(at('WON')?.status, 'WON');
  t.equal(at('LOST')?.status, 'LOST');
  t.equal(at('QUALIFICATION')?.status, 'OPEN');
  for (const key of ['ACCEPTANCE', 'NEGOTIATION', 'WON']) t.equal(at(key)?.qualified, at(key)?.n, `every opportunity at ${key} meets the acceptance gate`);
  t.equal(at('WON')?.with_amount, at('WON')?.n, 'won deals have an amount');
  t.equal(at('LOST')?.lost_reason, at('LOST')?.n, 'lost deals have a reason');
  const [consistency] = await queryRows<{ won_not_customer: number; without_history: number; wrong_last: number; lifecycle_gaps: number; open_on_non_opportunity: number }>(
    db,
    sql`SELECT (SELECT count(*)::int FROM opportunities o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'WON' AND c.lifecycle_stage NOT IN ('CUSTOMER', 'USER')) AS won_not_customer,
               (SELECT count(*)::int FROM opportunities o WHERE NOT EXISTS (SELECT 1 FROM stage_transitions st WHERE st.opportunity_id = o.id)) AS without_history,
               (SELECT count(*)::int FROM opportunities o WHERE o.stage_id <> (SELECT st.to_stage_id FROM stage_transitions st WHERE st.opportunity_id = o.id ORDER BY st.at DESC LIMIT 1)) AS wrong_last,
               (SELECT count(*)::int FROM customers c WHERE c.lifecycle_stage <> 'SUSPECT'
                  AND c.lifecycle_stage IS DISTINCT FROM (SELECT lt.to_stage FROM lifecycle_transitions lt WHERE lt.customer_id = c.id ORDER BY lt.at DESC LIMIT 1)) AS lifecycle_gaps,
               (SELECT count(*)::int FROM opportunities o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'OPEN' AND c.lifecycle_stage <> 'OPPORTUNITY') AS open_on_non_opportunity`,
  );
  t.same(consistency, { won_not_customer: 0, without_history: 0, wrong_last: 0, lifecycle_gaps: 0, open_on_non_opportunity: 0 }, 'histories agree with the current stages');

  // The history too went through the services: each record has its audit row, the deals live in the
  // bootstrap's default pipeline (the seed makes none), and each deal past ACCEPTANCE met the gate's
  // key action, SOLUTION_ACCEPTED done.
  const [through] = await queryRows<{ unaudited: number; pipelines: number; without_key_action: number; backdated: number }>(
    db,
    sql`SELECT (SELECT count(*)::int FROM opportunities o WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity_type = 'opportunity' AND a.entity_id = o.id AND a.action = 'created'))
                 + (SELECT count(*)::int FROM interactions i WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity_type = 'interaction' AND a.entity_id = i.id AND a.action = 'recorded'))
                 + (SELECT count(*)::int FROM actions x WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity_type = 'action' AND a.entity_id = x.id AND a.action = 'created'))
                 + (SELECT count(*)::int FROM handoffs h WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity_type = 'handoff' AND a.entity_id = h.id AND a.action = 'created'))
                 + (SELECT count(*)::int FROM lifecycle_transitions lt WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity_type = 'customer' AND a.entity_id = lt.customer_id AND a.action = 'lifecycle_transitioned' AND a.after->>'transitionId' = lt.id::text)) AS unaudited,
               (SELECT count(*)::int FROM pipelines) AS pipelines,
               (SELECT count(*)::int FROM opportunities o JOIN pipeline_stages s ON s.id = o.stage_id
                  WHERE s.key IN ('NEGOTIATION', 'WON') AND NOT EXISTS (SELECT 1 FROM actions x WHERE x.opportunity_id = o.id AND x.key = 'SOLUTION_ACCEPTED' AND x.status = 'DONE')) AS without_key_action,
               (SELECT count(*)::int FROM stage_transitions WHERE at < now() - interval '7 days') AS backdated`,
  );
  t.match(through, { unaudited: 0, pipelines: 1, without_key_action: 0 }, 'created through the services, in the default pipeline, gates met');

  // Allocation rules and a partner's claims: one approved (protected), one waiting for its head.
  const [claimed] = await queryRows<{ rules: number; approved: number; pending: number }>(
    db,
    sql`SELECT (SELECT count(*)::int FROM allocation_rules) AS rules,
               (SELECT count(*)::int FROM claims WHERE status = 'APPROVED' AND protected_until > now()) AS approved,
               (SELECT count(*)::int FROM claims WHERE status = 'PENDING') AS pending`,
  );
  t.same(claimed, { rules: 2, approved: 1, pending: 1 }, 'two allocation rules, an approved and a pending claim');
  t.ok((through?.backdated ?? 0) > 0, 'the stage history reaches back months');

  // Salespeople find open key actions on their agendas, some overdue.
  const [agendas] = await queryRows<{ open: number; overdue: number; assignees: number }>(
    db,
    sql`SELECT count(*)::int AS open, count(*) FILTER (WHERE due_at < now())::int AS overdue, count(DISTINCT assignee_id)::int AS assignees FROM actions WHERE status = 'OPEN'`,
  );
  t.ok((agendas?.open ?? 0) > 0 && (agendas?.overdue ?? 0) > 0 && (agendas?.assignees ?? 0) > 1, `${agendas?.open} open actions (${agendas?.overdue} overdue) for ${agendas?.assignees} people`);
  const [busiest] = await queryRows<{ id: string }>(db, sql`SELECT assignee_id AS id FROM actions WHERE status = 'OPEN' GROUP BY assignee_id ORDER BY count(*) DESC, assignee_id LIMIT 1`);
  const seller = await loadPrincipal(db, busiest?.id ?? '');
  if (!seller) throw new Error('no assignee');
  const agenda = await app.services.actions.agenda(seller, { limit: 50 });
  t.ok(agenda.data.length > 0, 'the agenda service shows them');
  t.ok(agenda.data.every((a, i) => i === 0 || (agenda.data[i - 1]?.priority ?? 0) >= a.priority), 'by priority');

  const pending = await queryRows<{ from_role: string; to_role: string; due_in_hours: number }>(
    db,
    sql`SELECT (SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = h.from_user_id LIMIT 1) AS from_role,
               (SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = h.to_user_id LIMIT 1) AS to_role,
               extract(epoch FROM h.due_at - now())::float8 / 3600 AS due_in_hours
        FROM handoffs h WHERE h.status = 'PENDING'`,
  );
  t.equal(pending.length, 1, 'one pending handoff');
  t.match(pending[0], { from_role: 'marketing', to_role: 'sales' });
  t.ok((pending[0]?.due_in_hours ?? 0) > 0 && (pending[0]?.due_in_hours ?? 99) < 48, 'due soon');

  // What the first run left, consequences included (alerts from the value recomputation, allocated leads' actions).
  const [seeded] = await queryRows<{ opportunities: number; actions: number; interactions: number }>(db, sql`SELECT (SELECT count(*)::int FROM customers) AS n, (SELECT count(*)::int FROM org_units WHERE name = ${DEMO_MARKER}) AS markers,
               (SELECT count(*)::int FROM opportunities) AS opportunities, (SELECT count(*)::int FROM actions) AS actions,
               (SELECT count(*)::int FROM interactions) AS interactions, (SELECT count(*)::int FROM pipelines WHERE is_default) AS default_pipelines`);
  t.ok((seeded?.actions ?? 0) >= first.actions, `${seeded?.actions} actions in all, ${first.actions} made by the seed itself`);
  const again = await seedDemo(app, { customers: CUSTOMERS });
  t.notOk(again.created, 'the second run sees the marker');
  const [after] = await queryRows<{ n: number; markers: number; opportunities: number; actions: number; interactions: number; default_pipelines: number }>(
    db,
    sql`SELECT (SELECT count(*)::int FROM customers) AS n, (SELECT count(*)::int FROM org_units WHERE name = ${DEMO_MARKER}) AS markers,
               (SELECT count(*)::int FROM opportunities) AS opportunities, (SELECT count(*)::int FROM actions) AS actions,
               (SELECT count(*)::int FROM interactions) AS interactions, (SELECT count(*)::int FROM pipelines WHERE is_default) AS default_pipelines`,
  );
  t.equal(after?.n, CUSTOMERS, 'nothing duplicated');
  t.match(after, { opportunities: seeded?.opportunities, actions: seeded?.actions, interactions: seeded?.interactions, default_pipelines: 1 }, 'the sales process neither');
  t.equal(seeded?.opportunities, first.opportunities, 'every opportunity is one the seed made');
  t.equal(seeded?.interactions, first.interactions, 'every interaction too');
  t.equal(after?.markers, 1);
});
