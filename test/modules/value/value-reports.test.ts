import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { loadPrincipal } from '../../../src/modules/org/principal.repository.js';
import { buildTestApp, company, type User } from '../../helpers/app.js';
import { interaction } from '../../helpers/factories.js';
import { eventsFor } from '../../helpers/records.js';

// Classes are percentiles of every customer in the database: this file owns its database (the embedded one,
// in memory), so the population it reasons about is exactly the one it made, whatever other files run beside it.
const app = await buildTestApp({ DATABASE_URL: '' });
t.teardown(() => app.close());

const day = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * day).toISOString();

async function order(customerId: string, amount: string, orderedAt: string, lines: [string, string][] = [], status = 'CONFIRMED'): Promise<string> {
  const [o] = await queryRows<{ id: string }>(
    app.db,
    sql`INSERT INTO orders (customer_id, status, ordered_at, amount, currency, owner_user_id, owner_unit_id)
      SELECT id, ${status}, ${orderedAt}::timestamptz, ${amount}::numeric, 'EUR', owner_user_id, owner_unit_id FROM customers WHERE id = ${customerId} RETURNING id`,
  );
  let pos = 0;
  for (const [line, amt] of lines) {
    await app.db.execute(sql`INSERT INTO order_lines (order_id, position, product, product_line, quantity, unit_price, amount)
      VALUES (${o!.id}, ${pos++}, ${`${line} item`}, ${line}, 1, ${amt}::numeric, ${amt}::numeric)`);
  }
  return o!.id;
}

const buyer = (who: User, input: Record<string, unknown> = {}) => app.customer(who, { lifecycleStage: 'CUSTOMER' as never, ...input });

/** The full recomputation; another file's run may hold the lock for a moment. */
async function fullRun() {
  for (let i = 0; i < 60; i++) {
    const r = await app.rest(await app.admin(), 'POST', '/v1/value-model/recompute');
    if (r.status === 200) return r.body;
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error('the full recomputation never got the lock');
}

type Naive = { id: string; value_class: string | null; revenue: string | null; cost: string | null; owner_unit_id: string; churn_risk: string | null };
/** The customers of units under `unitPath`, read straight from the tables: what the reports must agree with. */
const naiveCustomers = (unitPath: string) =>
  queryRows<Naive>(
    app.db,
    sql`SELECT c.id, cv.value_class, cv.revenue::text, cv.cost::text, c.owner_unit_id, CASE WHEN cv.value_class IS NOT NULL THEN cv.churn_level END AS churn_risk FROM customers c JOIN org_units ou ON ou.id = c.owner_unit_id
      LEFT JOIN customer_values cv ON cv.customer_id = c.id WHERE ou.path LIKE ${`${unitPath}%`} AND c.status = 'ACTIVE'`,
  );
const cents = (xs: (string | null)[]) => xs.reduce((s, x) => s + Math.round(Number(x ?? 0) * 100), 0);
const money = (c: number) => (c / 100).toFixed(2);

const c = await company(app);
const s = c.users.sales;
// A small book: big, medium and small buyers, partner A's and partner B's customers, a prospect.
const big = await buyer(s, { creditStatus: 'GOOD' });
await order(big.id, '400000.00', ago(10), [['pumps', '400000.00']]);
const mid = await buyer(s);
await order(mid.id, '30000.00', ago(40), [['pumps', '20000.00'], ['valves', '10000.00']]);
const small = await buyer(s);
await order(small.id, '500.00', ago(40), [['spares', '500.00']]);
await app.rest(s, 'POST', `/v1/customers/${small.id}/costs`, { kind: 'SERVICE', amount: '25000.00', currency: 'EUR' });
const silent = await buyer(s);
await app.db.execute(sql`UPDATE customers SET created_at = now() - interval '3 years' WHERE id = ${silent.id}`);
await order(silent.id, '80000.00', ago(500), [['pumps', '80000.00']]);
await order(silent.id, '20000.00', ago(600), [['valves', '20000.00']]);
await interaction(app, s, silent.id, { channel: 'PHONE', direction: 'OUTBOUND', occurredAt: ago(400) });
const pa = await buyer(c.users.partnerASales);
await order(pa.id, '9000.00', ago(5), [['pumps', '9000.00']]);
const pb = await buyer(c.users.partnerBSales);
await order(pb.id, '9000.00', ago(5), [['pumps', '9000.00']]);
await app.customer(s, { lifecycleStage: 'PROSPECT' as never });
const run = await fullRun();

t.test('full recomputation: every active buyer ranked, A the top share, C the bottom share, history and events', async (t) => {
  t.ok(run.ranked >= 6, `${run.ranked} ranked`);
  const [dist] = await queryRows<{ a: string; b: string; c: string; n: string }>(
    app.db,
    sql`SELECT count(*) FILTER (WHERE value_class = 'A') AS a, count(*) FILTER (WHERE value_class = 'B') AS b, count(*) FILTER (WHERE value_class = 'C') AS c,
      count(*) FILTER (WHERE value_class IS NOT NULL) AS n FROM customer_values`,
  );
  const n = Number(dist!.n);
  t.ok(Number(dist!.a) <= Math.ceil((n * 5) / 100), 'A never above its share (5%, rounded up)');
  t.ok(Number(dist!.c) >= Math.ceil((n * 20) / 100), 'at least 20% in C');
  const v = await app.rest(s, 'GET', `/v1/customers/${big.id}/value`);
  t.ok(v.body.history.length >= 1);
  t.ok(['A', 'B', 'C'].includes(v.body.valueClass));
  t.equal(v.body.history[v.body.history.length - 1].previousClass, null, 'the first scoring is history');
  const prospect = await queryRows<{ n: string }>(app.db, sql`SELECT count(*) AS n FROM customers c JOIN customer_values cv ON cv.customer_id = c.id WHERE c.lifecycle_stage = 'PROSPECT' AND cv.value_class IS NOT NULL`);
  t.equal(Number(prospect[0]!.n), 0, 'prospects are not ranked');
});

t.test('value-pyramid: exact per class within visibility, per partner, through both doors', async (t) => {
  const check = async (who: User, unitPath: string) => {
    const r = await app.rest(who, 'GET', '/v1/reports/value-pyramid');
    t.equal(r.status, 200, r.raw);
    const naive = (await naiveCustomers(unitPath)).filter((x) => x.value_class);
    t.equal(r.body.totals.customers, naive.length);
    for (const k of ['A', 'B', 'C']) {
      const of = naive.filter((x) => x.value_class === k);
      const row = r.body.totals.classes.find((x: { valueClass: string }) => x.valueClass === k);
      t.match(row, { customers: of.length, revenue: money(cents(of.map((x) => x.revenue))), cost: money(cents(of.map((x) => x.cost))) }, `class ${k}`);
    }
    return r.body;
  };
  const region = await check(c.users.regionManager, c.region.path);
  t.ok(region.totals.customers >= 6);
  const partnerA = await check(c.users.partnerAManager, c.partnerA.path);
  t.equal(partnerA.totals.customers, 1, "the partner manager's pyramid counts only the partner's customers");
  t.equal((await check(c.users.partnerBManager, c.partnerB.path)).totals.customers, 1);

  const grouped = await app.rest(c.users.regionManager, 'GET', '/v1/reports/value-pyramid?groupBy=partner');
  const byGroup = Object.fromEntries(grouped.body.groups.map((g: { unitId: string | null; customers: number }) => [g.unitId ?? 'own', g.customers]));
  t.equal(byGroup[c.partnerA.id], 1);
  t.equal(byGroup[c.partnerB.id], 1);
  t.equal(byGroup.own, region.totals.customers - 2);
  const byUnit = await app.rest(c.users.regionManager, 'GET', '/v1/reports/value-pyramid?groupBy=unit');
  t.equal(byUnit.body.groups.find((g: { unitId: string }) => g.unitId === c.branch.id).customers, region.totals.customers - 2);

  const g = await app.gql(c.users.regionManager, '{ valuePyramidReport(groupBy: partner) { modelVersion groupBy totals { customers classes { valueClass customers share revenue cost } } groups { unitId customers } moves { rows { fromClass toClass customers } } } }');
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.valuePyramidReport.totals, grouped.body.totals);

  for (const q of ['groupBy=region', 'from=2025-13-01', 'from=2025-03-02&to=2025-02-28', 'bogus=1', 'from=0000-01-01']) {
    t.equal((await app.rest(c.users.regionManager, 'GET', `/v1/reports/value-pyramid?${q}`)).status, 400, q);
  }
  t.equal((await app.rest(c.users.partnerASales, 'GET', '/v1/reports/value-pyramid')).status, 403, 'no reports:read');
});

t.test('an ERP order moves a customer into A with history, an event and no manual step; a fall from A puts an action on the agenda', async (t) => {
  const riser = await buyer(s, { creditStatus: 'GOOD' });
  const before = await app.rest(s, 'GET', `/v1/customers/${riser.id}/value`);
  t.not(before.body.valueClass, 'A');
  await app.rest(c.users.branchManager, 'PUT', `/v1/customers/${riser.id}/reference-effect`, { level: 5, reason: 'flagship' });
  t.not((await app.rest(s, 'GET', `/v1/customers/${riser.id}/value`)).body.valueClass, 'A');
  const orderId = await order(riser.id, '90000000.00', ago(1), [['pumps', '90000000.00']]);
  // What the orders module does after writing an order: recompute in its transaction.
  const { recomputeCustomers } = await import('../../../src/modules/value/index.js');
  const p = await loadPrincipal(app.db, (await app.admin()).id);
  await app.db.transaction((tx) => recomputeCustomers(tx, p!, [riser.id], 'ORDER'));
  const after = await app.rest(s, 'GET', `/v1/customers/${riser.id}/value`);
  t.equal(after.body.valueClass, 'A', JSON.stringify(after.body.history));
  t.equal(after.body.history[0].cause, 'ORDER');
  t.equal(after.body.history[0].valueClass, 'A');
  const ev = await eventsFor(app, riser.id, 'customer.value_changed');
  t.match(ev[ev.length - 1]?.payload, { after: { valueClass: 'A', cause: 'ORDER' } });
  const tl = await app.rest(s, 'GET', `/v1/customers/${riser.id}/timeline?types=VALUE_CLASS_CHANGED`);
  t.match(tl.body.data[0], { type: 'VALUE_CLASS_CHANGED', actorId: null, data: { to: 'A', cause: 'ORDER' } }, 'the class change is on the timeline');
  const pc = await buyer(c.users.partnerASales);
  await app.db.transaction((tx) => recomputeCustomers(tx, 'system', [pc.id], 'RECOMPUTE'));
  const ptl = await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${pc.id}/timeline?types=VALUE_CLASS_CHANGED`);
  t.same(ptl.body.data, [], 'not for a caller whose roles hide the class');
  const moves = await app.rest(c.users.regionManager, 'GET', '/v1/reports/value-pyramid');
  t.ok(moves.body.moves.rows.some((m: { toClass: string }) => m.toClass === 'A'), 'the move is in the period');

  await app.db.execute(sql`UPDATE orders SET status = 'CANCELLED', cancelled_at = now() WHERE id = ${orderId}`);
  await app.db.transaction((tx) => recomputeCustomers(tx, 'system', [riser.id], 'ORDER'));
  const fell = await app.rest(s, 'GET', `/v1/customers/${riser.id}/value`);
  t.not(fell.body.valueClass, 'A');
  const agenda = await app.rest(s, 'GET', '/v1/agenda');
  t.ok(agenda.body.data.some((a: { customerId: string; kind: string }) => a.customerId === riser.id && a.kind === 'VALUE_ALERT'), 'a fall from A lands on the owner\'s agenda');
});

t.test('churn-risk, win-back and cross-sell: exact against the tables, within visibility, both doors', async (t) => {
  const rm = c.users.regionManager;
  const churn = await app.rest(rm, 'GET', '/v1/reports/churn-risk');
  t.equal(churn.status, 200, churn.raw);
  const naive = (await naiveCustomers(c.region.path)).filter((x) => x.churn_risk === 'HIGH' || x.churn_risk === 'WATCH');
  t.same(churn.body.rows.map((r: { customerId: string }) => r.customerId).sort(), naive.map((x) => x.id).sort());
  t.same(churn.body.totals, { HIGH: naive.filter((x) => x.churn_risk === 'HIGH').length, WATCH: naive.filter((x) => x.churn_risk === 'WATCH').length });
  t.ok(churn.body.rows.some((r: { customerId: string }) => r.customerId === silent.id), 'the silent customer is at risk');
  t.equal((await app.rest(c.users.partnerAManager, 'GET', '/v1/reports/churn-risk')).status, 403, 'hidden from partner roles by default');

  const wb = await app.rest(rm, 'GET', '/v1/reports/win-back');
  t.equal(wb.status, 200, wb.raw);
  t.same(wb.body.rows.map((r: { customerId: string }) => r.customerId), [silent.id], 'bought 13–24 months ago, nothing since');
  t.match(wb.body.rows[0], { previousRevenue: '100000.00', lostDeals: 0 });
  t.equal((await app.rest(rm, 'GET', '/v1/reports/win-back?minRevenue=100000.01')).body.rows.length, 0);
  t.equal((await app.rest(rm, 'GET', '/v1/reports/win-back?months=12&silentMonths=12')).status, 400);

  const xs = await app.rest(rm, 'GET', '/v1/reports/cross-sell');
  t.equal(xs.status, 200, xs.raw);
  const [{ lines }] = (await queryRows<{ lines: string[] }>(
    app.db,
    sql`SELECT coalesce(array_agg(DISTINCT ol.product_line ORDER BY ol.product_line), '{}') AS lines FROM order_lines ol JOIN orders o ON o.id = ol.order_id
      WHERE o.status <> 'CANCELLED' AND o.ordered_at > now() - interval '24 months' AND ol.product_line IS NOT NULL`,
  )) as [{ lines: string[] }];
  const row = (id: string) => xs.body.rows.find((r: { customerId: string }) => r.customerId === id);
  t.match(row(mid.id), { linesBought: ['pumps', 'valves'], linesNotBought: lines.filter((l) => l !== 'pumps' && l !== 'valves'), revenue: '30000.00' });
  t.match(row(small.id), { linesBought: ['spares'], linesNotBought: lines.filter((l) => l !== 'spares') });
  t.notOk(row(pa.id) === undefined, "partner A's customer is in the region's list");
  const onlyA = await app.rest(c.users.partnerAManager, 'GET', '/v1/reports/cross-sell');
  t.same(onlyA.body.rows.map((r: { customerId: string }) => r.customerId), [pa.id]);
  t.notOk('valueClass' in onlyA.body.rows[0], 'value fields hidden from the partner');
  t.equal((await app.rest(rm, 'GET', '/v1/reports/cross-sell?maxLines=1')).body.rows.some((r: { customerId: string }) => r.customerId === mid.id), false);

  const g = await app.gql(rm, '{ churnRiskReport { totals { HIGH WATCH } rows { customerId } } winBackReport { rows { customerId previousRevenue } } crossSellReport { rows { customerId linesBought linesNotBought } } }');
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.churnRiskReport.totals, churn.body.totals);
  t.same(g.data.winBackReport.rows, [{ customerId: silent.id, previousRevenue: '100000.00' }]);
  t.equal(g.data.crossSellReport.rows.length, xs.body.rows.length);
  const bad = await app.gql(rm, '{ crossSellReport(maxLines: 0) { months } }');
  t.equal(bad.codes[0], 'BAD_USER_INPUT');
  t.equal((await app.rest(rm, 'GET', '/v1/reports/churn-risk?level=LOW')).status, 400);
  t.equal((await app.rest(rm, 'GET', '/v1/reports/churn-risk?limit=201')).status, 400);
});

t.test('full run and churn alerts: a first scoring sets the flag without an alert; a rise since the last scoring alerts; the alert closes itself when the signals clear', async (t) => {
  const quiet = await buyer(s);
  // Never scored (creating a customer does not score it) and, by its creation date, not contacted for two years.
  await app.db.execute(sql`UPDATE customers SET created_at = now() - interval '2 years' WHERE id = ${quiet.id}`);
  const openAlerts = () =>
    queryRows<{ id: string; title: string; status: string }>(app.db, sql`SELECT id, title, status FROM actions WHERE customer_id = ${quiet.id} AND kind = 'CHURN_ALERT' ORDER BY created_at`);
  await fullRun();
  t.equal((await app.rest(s, 'GET', `/v1/customers/${quiet.id}`)).body.churnRisk, 'WATCH', 'flagged by its first scoring');
  t.ok((await app.rest(s, 'GET', '/v1/customers?churnRisk=WATCH&limit=200')).body.data.some((x: { id: string }) => x.id === quiet.id), 'and on the filtered list');
  t.same(await openAlerts(), [], 'a full run raises no alert for a customer it scores for the first time');
  t.equal((await eventsFor(app, quiet.id, 'customer.churn_risk_changed')).length, 0, 'nor an event: its first level is the baseline');

  // Credit blocked behind the value module's back: the next full run finds the rise from WATCH to HIGH.
  await app.db.execute(sql`UPDATE customers SET credit_status = 'BLOCKED' WHERE id = ${quiet.id}`);
  await fullRun();
  const [alert] = await openAlerts();
  t.match(alert, { title: /^Churn risk HIGH: /, status: 'OPEN' }, 'a rise since the last scoring is alerted');
  t.match((await eventsFor(app, quiet.id, 'customer.churn_risk_changed')).map((e) => e.payload), [{ before: { churnRisk: 'WATCH' }, after: { churnRisk: 'HIGH' } }]);

  // Credit good again and a contact (its creation date moved up stands for one): no signal is left.
  await app.db.execute(sql`UPDATE customers SET credit_status = 'GOOD', created_at = now() - interval '1 day' WHERE id = ${quiet.id}`);
  await fullRun();
  t.equal((await app.rest(s, 'GET', `/v1/customers/${quiet.id}`)).body.churnRisk, 'NONE');
  const [closed] = await openAlerts();
  t.equal(closed?.status, 'DONE', 'the alert closed itself');
  const done = await eventsFor(app, alert!.id, 'action.completed');
  t.equal(done.length, 1, 'with an action.completed event');
  t.match(done[0]?.payload, { before: { status: 'OPEN' }, after: { status: 'DONE', reason: 'the churn signals cleared' } });
  t.equal((await app.rest(s, 'GET', '/v1/agenda?limit=200')).body.data.some((a: { id: string }) => a.id === alert!.id), false, 'and left the agenda');
});
