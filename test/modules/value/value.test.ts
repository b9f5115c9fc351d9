import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { loadPrincipal } from '../../../src/modules/org/principal.repository.js';
import { DEFAULT_MODEL, scoreOf } from '../../../src/modules/value/scoring.js';
import { buildTestApp, company, type User } from '../../helpers/app.js';
import { interaction } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';
import { eventsFor } from '../../helpers/records.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const day = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * day).toISOString();

/** An order as the ERP would have written it (the orders module is not needed to read orders). */
async function order(customerId: string, amount: string, orderedAt: string, status = 'CONFIRMED') {
  const [c] = await queryRows<{ owner_user_id: string | null; owner_unit_id: string }>(app.db, sql`SELECT owner_user_id, owner_unit_id FROM customers WHERE id = ${customerId}`);
  await app.db.execute(sql`INSERT INTO orders (customer_id, status, ordered_at, amount, currency, owner_user_id, owner_unit_id)
    VALUES (${customerId}, ${status}, ${orderedAt}::timestamptz, ${amount}::numeric, 'EUR', ${c?.owner_user_id ?? null}, ${c?.owner_unit_id})`);
}

const buyer = (who: User, input: Record<string, unknown> = {}) => app.customer(who, { lifecycleStage: 'CUSTOMER' as never, ...input });

t.test('costs: recorded and listed through both doors, rescoring the customer; bad input and hidden records refused', async (t) => {
  const c = await company(app);
  const s = c.users.sales;
  const cu = await buyer(s);
  const made = await app.rest(s, 'POST', `/v1/customers/${cu.id}/costs`, { kind: 'service', amount: '1200.50', currency: 'EUR', incurredAt: ago(3), note: 'on-site repair' });
  t.equal(made.status, 201, made.raw);
  t.match(made.body, { customerId: cu.id, kind: 'SERVICE', amount: '1200.50', currency: 'EUR', note: 'on-site repair', actorId: s.id, onBehalfOfId: null });
  const g = await app.gql(s, 'mutation($id: ID!, $in: CostInput!) { recordCost(customerId: $id, input: $in) { id kind amount currency } }', { id: cu.id, in: { kind: 'MARKETING', amount: '300', currency: 'EUR' } });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.match(g.data.recordCost, { kind: 'MARKETING', amount: '300.00' });

  const tl = await app.gql(s, 'query($id: ID!) { customer(id: $id) { timeline(types: [COST_RECORDED]) { edges { node { type summary actorId data } } } } }', { id: cu.id });
  t.same(tl.errors, undefined, JSON.stringify(tl.errors));
  t.same(
    tl.data.customer.timeline.edges.map((e: { node: { summary: string } }) => e.node.summary).sort(),
    ['Cost recorded: marketing 300.00 EUR', 'Cost recorded: service 1200.50 EUR (on-site repair)'],
    'costs are on the timeline',
  );
  const list = await app.rest(s, 'GET', `/v1/customers/${cu.id}/costs?limit=1`);
  t.equal(list.status, 200);
  t.equal(list.body.data.length, 1);
  t.equal(list.body.data[0].kind, 'MARKETING', 'newest first');
  const next = await app.rest(s, 'GET', `/v1/customers/${cu.id}/costs?limit=1&cursor=${list.body.nextCursor}`);
  t.equal(next.body.data[0].id, made.body.id);
  const gl = await app.gql(s, 'query($id: ID!) { customerCosts(customerId: $id) { edges { node { id kind } } } }', { id: cu.id });
  t.equal(gl.data.customerCosts.edges.length, 2);

  // The cost is on the value at once, and on the customer's audit trail and feed.
  const v = await app.rest(s, 'GET', `/v1/customers/${cu.id}/value`);
  t.equal(v.status, 200, v.raw);
  t.equal(v.body.parts.find((p: { indicator: string }) => p.indicator === 'cost').raw, '1500.50');
  t.ok(v.body.history.some((h: { cause: string }) => h.cause === 'COST'));
  t.equal((await eventsFor(app, cu.id, 'customer.cost_recorded')).length, 2);

  for (const [body, path] of [
    [{ kind: 'FOOD', amount: '1', currency: 'EUR' }, 'kind'],
    [{ kind: 'SALES', amount: '-5', currency: 'EUR' }, 'amount'],
    [{ kind: 'SALES', amount: 12, currency: 'EUR' }, 'amount'],
    [{ kind: 'SALES', amount: '0', currency: 'EUR' }, 'amount'],
    [{ kind: 'SALES', amount: '1', currency: 'euro' }, 'currency'],
    [{ kind: 'SALES', amount: '1', currency: 'EUR', incurredAt: '0000-01-01T00:00:00Z' }, 'incurredAt'],
    [{ kind: 'SALES', amount: '1', currency: 'EUR', note: 'a\u0000b' }, 'note'],
    [{ kind: 'SALES', amount: '1', currency: 'EUR', extra: 1 }, ''],
  ] as const) {
    const r = await app.rest(s, 'POST', `/v1/customers/${cu.id}/costs`, body);
    t.equal(problemOf(r, 400, path ? [path] : undefined), null, `${JSON.stringify(body)} → 400 naming ${path}`);
  }
  t.equal((await app.rest(s, 'GET', `/v1/customers/${cu.id}/costs?bogus=1`)).status, 400);
  const bad = await app.gql(s, 'mutation($id: ID!, $in: CostInput!) { recordCost(customerId: $id, input: $in) { id } }', { id: cu.id, in: { kind: 'SALES', amount: 'x', currency: 'EUR' } });
  t.equal(bad.codes[0], 'BAD_USER_INPUT');

  // Another partner's salesperson: the customer does not exist for it, through either door.
  for (const who of [c.users.partnerBSales, c.users.otherSales]) {
    t.equal((await app.rest(who, 'GET', `/v1/customers/${cu.id}/costs`)).status, 404);
    t.equal((await app.rest(who, 'POST', `/v1/customers/${cu.id}/costs`, { kind: 'SALES', amount: '1', currency: 'EUR' })).status, 404);
    t.equal((await app.rest(who, 'GET', `/v1/customers/${cu.id}/value`)).status, 404);
    const gg = await app.gql(who, 'query($id: ID!) { customerValue(customerId: $id) { score } }', { id: cu.id });
    t.equal(gg.codes[0], 'NOT_FOUND');
  }
  // The executive reads everything and writes nothing.
  t.equal((await app.rest(c.users.executive, 'GET', `/v1/customers/${cu.id}/costs`)).status, 200);
  t.equal((await app.rest(c.users.executive, 'POST', `/v1/customers/${cu.id}/costs`, { kind: 'SALES', amount: '1', currency: 'EUR' })).status, 403);
});

t.test('reference effect: managers only, rescoring the customer, on its history', async (t) => {
  const c = await company(app);
  const cu = await buyer(c.users.sales);
  const bySales = await app.rest(c.users.sales, 'PUT', `/v1/customers/${cu.id}/reference-effect`, { level: 4, reason: 'showcase' });
  t.equal(problemOf(bySales, 403), null, 'a salesperson may not rate it');
  const r = await app.rest(c.users.branchManager, 'PUT', `/v1/customers/${cu.id}/reference-effect`, { level: 4, reason: 'Flagship plant visited by prospects' });
  t.equal(r.status, 200, r.raw);
  t.match(r.body, { customerId: cu.id, level: 4, reason: 'Flagship plant visited by prospects', actorId: c.users.branchManager.id });
  const v = await app.rest(c.users.sales, 'GET', `/v1/customers/${cu.id}/value`);
  const part = v.body.parts.find((p: { indicator: string }) => p.indicator === 'referenceEffect');
  t.match(part, { raw: '4', normalised: 80, weight: 10, contribution: 8 });
  t.equal(v.body.history[0].cause, 'REFERENCE_EFFECT');
  const g = await app.gql(c.users.branchManager, 'mutation($id: ID!) { setReferenceEffect(customerId: $id, input: { level: 2, reason: "less visible now" }) { level } }', { id: cu.id });
  t.same(g.data?.setReferenceEffect, { level: 2 }, JSON.stringify(g.errors));
  const tl = await app.rest(c.users.sales, 'GET', `/v1/customers/${cu.id}/timeline?types=REFERENCE_EFFECT_SET,COST_RECORDED`);
  t.equal(tl.status, 200, tl.raw);
  t.match(tl.body.data[0], { type: 'REFERENCE_EFFECT_SET', actorId: c.users.branchManager.id, summary: 'Reference effect rated 2 of 5: less visible now', data: { level: 2 } });
  t.equal(tl.body.data.length, 2, 'each judgement is on the timeline');
  for (const body of [{ level: 6, reason: 'x' }, { level: 2.5, reason: 'x' }, { level: 3 }, { level: 3, reason: '' }, { level: '3', reason: 'x' }]) {
    t.equal((await app.rest(c.users.branchManager, 'PUT', `/v1/customers/${cu.id}/reference-effect`, body)).status, 400, JSON.stringify(body));
  }
  t.equal((await app.rest(c.users.partnerBManager, 'PUT', `/v1/customers/${cu.id}/reference-effect`, { level: 1, reason: 'x' })).status, 404);
});

t.test('the value page explains the score part by part, with the model version', async (t) => {
  const c = await company(app);
  const cu = await buyer(c.users.sales, { creditStatus: 'GOOD' });
  await order(cu.id, '20000.00', ago(30));
  await order(cu.id, '5000.00', ago(60), 'CANCELLED');
  await order(cu.id, '99999.00', ago(500));
  const p = await loadPrincipal(app.db, c.users.sales.id);
  await app.db.transaction((tx) => app.app.services.value.recomputeCustomer(tx, p!, cu.id));
  const v = await app.rest(c.users.sales, 'GET', `/v1/customers/${cu.id}/value`);
  t.equal(v.status, 200, v.raw);
  const expected = scoreOf(DEFAULT_MODEL, { revenue: 20000, expectedSales: 0, referenceLevel: 0, creditStatus: 'GOOD', cost: 0 });
  t.equal(v.body.modelVersion >= 1, true);
  t.same(v.body.parts, expected.parts, 'each part as the pure function computes it');
  t.ok(Math.abs(v.body.score - expected.score) <= 0.01, `SQL score ${v.body.score} equals the pure function's ${expected.score}`);
  const fetched = await app.rest(c.users.sales, 'GET', `/v1/customers/${cu.id}`);
  t.equal(fetched.body.valueScore, v.body.score, 'the customer carries its score');
  t.equal(fetched.body.version, 1, 'computed fields never change the version');
  const g = await app.gql(c.users.sales, 'query($id: ID!) { customerValue(customerId: $id) { score valueClass modelVersion parts { indicator raw normalised weight contribution explanation } churn { level signals { kind } } history { cause } } customer(id: $id) { valueScore churnRisk } }', { id: cu.id });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.customerValue.parts, v.body.parts);
  t.equal(g.data.customer.valueScore, v.body.score);

  // A partner's roles hide value fields by default: no value page for them.
  const pc = await buyer(c.users.partnerASales);
  const hidden = await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${pc.id}/value`);
  t.equal(problemOf(hidden, 403), null);
  const pcRead = await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${pc.id}`);
  t.notOk('valueScore' in pcRead.body, 'hidden field absent');
  t.notOk('churnRisk' in pcRead.body);
  t.equal((await app.rest(c.users.partnerASales, 'GET', '/v1/customers?sort=-valueScore')).status, 403, 'nor may it sort by it');
  t.equal((await app.rest(c.users.partnerASales, 'GET', '/v1/customers?churnRisk=HIGH')).status, 403, 'nor filter by it');
});

t.test('churn: no contact for 90 days and falling orders make HIGH with both reasons, an event and a key action for the owner; it clears by itself', async (t) => {
  const c = await company(app);
  const s = c.users.sales;
  const cu = await buyer(s);
  await app.db.execute(sql`UPDATE customers SET created_at = now() - interval '2 years' WHERE id = ${cu.id}`);
  await interaction(app, s, cu.id, { channel: 'PHONE', direction: 'OUTBOUND', occurredAt: ago(120) });
  await order(cu.id, '10000.00', ago(250));
  await order(cu.id, '10000.00', ago(400));
  await order(cu.id, '500.00', ago(20));
  const p = await loadPrincipal(app.db, s.id);
  await app.db.transaction((tx) => app.app.services.value.recomputeCustomer(tx, p!, cu.id));
  const v = await app.rest(s, 'GET', `/v1/customers/${cu.id}/value`);
  t.equal(v.body.churn.level, 'HIGH', JSON.stringify(v.body.churn));
  t.same(v.body.churn.signals.map((x: { kind: string }) => x.kind), ['NO_CONTACT', 'ORDER_DROP']);
  t.ok(Math.abs(Date.parse(v.body.churn.signals[0].since) - (Date.now() - 30 * day)) < 2 * day, 'no contact began 90 days after the last one');
  t.equal((await app.rest(s, 'GET', `/v1/customers/${cu.id}`)).body.churnRisk, 'HIGH');
  // Recording the old call already raised WATCH (no contact); the orders made it HIGH: two events.
  const raised = await eventsFor(app, cu.id, 'customer.churn_risk_changed');
  t.equal(raised.length, 2);
  t.match(raised[raised.length - 1]?.payload, { before: { churnRisk: 'WATCH' }, after: { churnRisk: 'HIGH' } });
  const agenda = await app.rest(s, 'GET', '/v1/agenda');
  const alert = agenda.body.data.find((a: { customerId: string; kind: string }) => a.customerId === cu.id && a.kind === 'CHURN_ALERT');
  t.ok(alert, 'the owner has a churn action');
  t.match(alert.title, /^Churn risk HIGH: /, 'the action raised at WATCH now says HIGH');
  t.equal(alert.urgency, 5, 'and has the urgency of HIGH');
  t.equal(agenda.body.data.filter((a: { customerId: string; kind: string }) => a.customerId === cu.id && a.kind === 'CHURN_ALERT').length, 1, 'one open churn action per customer');
  const raisedAction = (await queryRows<{ payload: { before: { title: string }; after: { title: string } } }>(
    app.db,
    sql`SELECT payload FROM events WHERE type = 'action.updated' AND entity_id = ${alert.id}::uuid ORDER BY id`,
  )).map((e) => e.payload);
  t.equal(raisedAction.length, 1, 'the rise is an action.updated event');
  t.match(raisedAction[0], { before: { title: /^Churn risk WATCH/ }, after: { title: /^Churn risk HIGH/ } });
  t.equal((await app.rest(s, 'GET', '/v1/customers?churnRisk=HIGH')).body.data.map((x: { id: string }) => x.id).includes(cu.id), true, 'filterable');

  // A visit and a new order: the signals go, the flag clears by itself.
  await interaction(app, s, cu.id, { channel: 'VISIT', direction: 'OUTBOUND' });
  await order(cu.id, '20000.00', ago(1));
  await app.db.transaction((tx) => app.app.services.value.recomputeCustomer(tx, p!, cu.id));
  const after = await app.rest(s, 'GET', `/v1/customers/${cu.id}/value`);
  t.equal(after.body.churn.level, 'NONE');
  t.equal((await app.rest(s, 'GET', `/v1/customers/${cu.id}`)).body.churnRisk, 'NONE');
  // The alert goes with the signals: completed, with its event, off the agenda.
  const [closed] = await queryRows<{ status: string; completed_at: Date | null; version: number }>(app.db, sql`SELECT status, completed_at, version FROM actions WHERE id = ${alert.id}`);
  t.equal(closed?.status, 'DONE', 'the churn alert closed itself');
  t.ok(closed?.completed_at, 'with its completion time');
  const done = await eventsFor(app, alert.id, 'action.completed');
  t.equal(done.length, 1, 'and an action.completed event');
  t.match(done[0]?.payload, { before: { status: 'OPEN' }, after: { status: 'DONE', reason: 'the churn signals cleared' } });
  const agendaAfter = await app.rest(s, 'GET', '/v1/agenda');
  t.equal(agendaAfter.body.data.some((a: { id: string }) => a.id === alert.id), false, 'off the agenda');
  const cleared = await eventsFor(app, cu.id, 'customer.churn_risk_changed');
  t.match(cleared[cleared.length - 1]?.payload, { after: { churnRisk: 'NONE' } }, 'the clearing is an event of its own');
});

t.test('the value model: admin reads and writes versions; bad models refused; others forbidden', async (t) => {
  const c = await company(app);
  const g = await app.rest(c.users.admin, 'GET', '/v1/value-model');
  t.equal(g.status, 200, g.raw);
  t.same(g.body.weights, DEFAULT_MODEL.weights);
  t.equal(g.body.aPercent, 5);
  t.equal(g.body.cPercent, 20);
  t.equal((await app.rest(c.users.sales, 'GET', '/v1/value-model')).status, 403);
  t.equal((await app.rest(c.users.branchManager, 'PUT', '/v1/value-model', { ...DEFAULT_MODEL })).status, 403);
  const bad = await app.rest(c.users.admin, 'PUT', '/v1/value-model', { ...DEFAULT_MODEL, weights: { ...DEFAULT_MODEL.weights, revenue: 50 } });
  t.equal(problemOf(bad, 400, ['weights']), null, 'weights must sum to 100');
  t.equal(problemOf(await app.rest(c.users.admin, 'PUT', '/v1/value-model', { ...DEFAULT_MODEL, aPercent: 90, cPercent: 20 }), 400, ['cPercent']), null);
  t.equal((await app.rest(c.users.admin, 'PUT', '/v1/value-model', { ...DEFAULT_MODEL, extra: true })).status, 400);
  const gq = await app.gql(c.users.admin, '{ valueModel { version weights { revenue cost } churn { noContactDays } } }');
  t.equal(gq.data.valueModel.weights.revenue, 45);
  t.equal(gq.data.valueModel.churn.noContactDays, 90);
});

t.test('a credit change through PATCH answers with the value as rescored, in both doors', async (t) => {
  const c = await company(app);
  const cu = await buyer(c.users.sales, { creditStatus: 'GOOD' });
  await order(cu.id, '20000.00', ago(30));
  const p = await loadPrincipal(app.db, c.users.sales.id);
  await app.db.transaction((tx) => app.app.services.value.recomputeCustomer(tx, p!, cu.id));
  const before = await app.rest(c.users.admin, 'GET', `/v1/customers/${cu.id}`);
  t.equal(before.body.churnRisk, 'NONE');
  const patched = await app.rest(c.users.admin, 'PATCH', `/v1/customers/${cu.id}`, { creditStatus: 'BLOCKED' });
  t.equal(patched.status, 200, patched.raw);
  const value = await app.rest(c.users.admin, 'GET', `/v1/customers/${cu.id}/value`);
  t.ok(value.body.score < before.body.valueScore, `blocked credit lowers the score (${before.body.valueScore} → ${value.body.score})`);
  t.equal(patched.body.valueScore, value.body.score, 'the PATCH answer carries the new score');
  t.equal(patched.body.churnRisk, 'WATCH', 'and the churn risk the blocked credit raised');
  t.same(value.body.churn.signals.map((s: { kind: string }) => s.kind), ['CREDIT']);
  t.equal(patched.body.version, before.body.version + 1, 'the credit change is one version; the rescore adds none');
  const g = await app.gql(c.users.admin, 'mutation($id: ID!) { updateCustomer(id: $id, input: { creditStatus: "GOOD" }) { valueScore churnRisk } }', { id: cu.id });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.updateCustomer, { valueScore: before.body.valueScore, churnRisk: 'NONE' }, 'GraphQL answers the rescored fields too');
});

t.test('churn: complaints in the window raise COMPLAINTS from the first of them, in the incremental update and the full run alike', async (t) => {
  const c = await company(app);
  const s = c.users.sales;
  const two = await buyer(s);
  const one = await buyer(s);
  // Outcomes as people type them: case and spaces do not matter; one outside the 180-day window does not count.
  await interaction(app, s, two.id, { outcome: 'complaint', occurredAt: ago(200) });
  const first = await interaction(app, s, two.id, { outcome: ' Complaint ', occurredAt: ago(40) });
  await interaction(app, s, two.id, { outcome: 'COMPLAINT', occurredAt: ago(10) });
  await interaction(app, s, two.id, { outcome: 'complaint handled', occurredAt: ago(5) });
  await interaction(app, s, one.id, { outcome: 'complaint', occurredAt: ago(190) });
  await interaction(app, s, one.id, { outcome: 'complaint', occurredAt: ago(3) });
  const gq = `query($id: ID!) { customerValue(customerId: $id) { churn { level signals { kind detail since } } } }`;
  const check = async (when: string) => {
    const v = await app.rest(s, 'GET', `/v1/customers/${two.id}/value`);
    t.equal(v.body.churn.level, 'WATCH', `${when}: ${JSON.stringify(v.body.churn)}`);
    t.same(v.body.churn.signals, [{ kind: 'COMPLAINTS', detail: '2 complaints in the last 180 days', since: first.occurredAt }], `${when}: two in the window, since the first`);
    const g = await app.gql(s, gq, { id: two.id });
    t.same(g.errors, undefined, JSON.stringify(g.errors));
    t.same(g.data.customerValue.churn, v.body.churn, `${when}: GraphQL the same`);
    const o = await app.rest(s, 'GET', `/v1/customers/${one.id}/value`);
    t.same(o.body.churn, { level: 'NONE', signals: [] }, `${when}: one complaint in the window raises nothing`);
  };
  // Each interaction written rescored its customer.
  await check('incremental');
  const raised = (await eventsFor(app, two.id, 'customer.churn_risk_changed')).length;
  // The full recomputation; another file's run may hold the lock for a moment.
  let status = 0;
  for (let i = 0; i < 60 && status !== 200; i++) {
    status = (await app.rest(await app.admin(), 'POST', '/v1/value-model/recompute')).status;
    if (status !== 200) await new Promise((res) => setTimeout(res, 500));
  }
  t.equal(status, 200, 'the full run');
  await check('full run');
  t.equal((await eventsFor(app, two.id, 'customer.churn_risk_changed')).length, raised, 'the full run raised no churn change');
  const [sig] = await queryRows<{ churn_signals: unknown }>(app.db, sql`SELECT churn_signals FROM customer_values WHERE customer_id = ${two.id}`);
  t.same(sig?.churn_signals, [{ kind: 'COMPLAINTS', detail: '2 complaints in the last 180 days', since: first.occurredAt }]);
});
