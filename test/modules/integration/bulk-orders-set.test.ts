import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { auditFor, count, eventsFor } from '../../helpers/records.js';
import { lifecycleOf, ORDER_FIELDS } from '../orders/support.js';

// New orders of a bulk load written set-based (orders.bulk.ts writeNewOrders): a batch's orders, lines, external
// ids, lifecycle moves with cause ORDER, audit rows and events in a bounded number of statements, with the same
// per-row answers as the single upsert.

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const erp = c.users.integration;
const { sales } = c.users;
const line = (unitPrice = '100.50') => [{ product: 'Boiler', productLine: 'heating', quantity: '2', unitPrice }];

t.test('a batch of new orders: per-row results, lines and totals, lifecycle CUSTOMER / USER with cause ORDER, audit, events; a bad row leaves no trace', async (t) => {
  const k = tag();
  const [a, b, d, bad] = [await app.customer(sales), await app.customer(sales), await app.customer(sales), await app.customer(sales)];
  const byExt = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [{ externalId: `NC-${k}`, kind: 'ORGANIZATION', name: `New ${k}` }] });
  const e = byExt.body.results[0].id as string;
  const rows = [
    { externalId: `N-${k}-0`, customerId: a.id, currency: 'EUR', number: `SO-${k}-0`, lines: line() },
    { externalId: `N-${k}-1`, customerId: a.id, currency: 'EUR', status: 'CONFIRMED', lines: line('10') },
    { externalId: `N-${k}-2`, customerId: b.id, currency: 'EUR', status: 'CANCELLED', lines: line() },
    { externalId: `N-${k}-bad`, customerId: bad.id, currency: 'EUR', lines: [{ product: 'Zero', quantity: '0', unitPrice: '1' }] },
    { externalId: `N-${k}-3`, customer: { system: 'erp', externalId: `NC-${k}` }, currency: 'USD', status: 'PAID', paidAt: '2026-01-02T03:04:05.000Z', amount: '201.00', lines: line() },
    { externalId: `N-${k}-4`, customerId: d.id, currency: 'EUR', amount: '999.00' },
    { externalId: `N-${k}-wrong`, customerId: d.id, currency: 'EUR', amount: '1.00', lines: line() },
    { externalId: `N-${k}-0`, customerId: a.id, currency: 'EUR', number: `SO-${k}-0b` },
  ];
  const res = await app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows });
  t.equal(res.status, 200, res.raw);
  t.same(res.body.summary, { created: 5, updated: 1, unchanged: 0, failed: 2 }, res.raw);
  t.same(res.body.results.map((r: any) => r.status), ['CREATED', 'CREATED', 'CREATED', 'FAILED', 'CREATED', 'CREATED', 'FAILED', 'UPDATED']);
  t.match(res.body.results[3], { externalId: `N-${k}-bad`, id: null, error: { code: 'VALIDATION_FAILED', status: 400, errors: [{ path: 'lines.0.quantity' }] } });
  t.match(res.body.results[6], { id: null, error: { code: 'VALIDATION_FAILED', errors: [{ path: 'amount' }] } });
  t.equal(res.body.results[7].id, res.body.results[0].id, 'the repeated id patches the order its first row made');

  const get = async (x: string) => (await app.rest(erp, 'GET', `/v1/orders/external/erp/${x}`)).body;
  const o0 = await get(`N-${k}-0`);
  t.match(o0, { customerId: a.id, number: `SO-${k}-0b`, amount: '201.00', status: 'ORDERED', version: 2, ownerUserId: sales.id, externalIds: { erp: `N-${k}-0` } });
  t.same(o0.lines, [{ product: 'Boiler', productLine: 'heating', quantity: '2', unitPrice: '100.50', amount: '201.00' }]);
  const o1 = await get(`N-${k}-1`);
  t.match(o1, { status: 'CONFIRMED', amount: '20.00', version: 1 });
  t.ok(o1.confirmedAt && o1.orderedAt, 'the step times are set');
  const o3 = await get(`N-${k}-3`);
  t.match(o3, { customerId: e, currency: 'USD', status: 'PAID', paidAt: '2026-01-02T03:04:05.000Z', amount: '201.00' });
  t.match(await get(`N-${k}-4`), { customerId: d.id, amount: '999.00', lines: [] });

  // The lifecycle: one move per customer and step, cause ORDER; a cancelled order moves nothing.
  t.same(await lifecycleOf(app, a.id), [['SUSPECT', 'CUSTOMER', 'ORDER'], ['CUSTOMER', 'USER', 'ORDER']]);
  t.same(await lifecycleOf(app, b.id), []);
  t.same(await lifecycleOf(app, d.id), [['SUSPECT', 'CUSTOMER', 'ORDER']]);
  t.same((await lifecycleOf(app, e)).map((x) => x.slice(1)), [['CUSTOMER', 'ORDER']]);
  const ca = (await app.rest(sales, 'GET', `/v1/customers/${a.id}`)).body;
  t.equal(ca.lifecycleStage, 'USER');
  t.equal(ca.version, a.version + 2, "the customer's version moves once per step");
  const moved = await eventsFor(app, a.id, 'customer.lifecycle_transitioned');
  t.same(moved.map((m: any) => [m.payload.before.lifecycleStage, m.payload.after.lifecycleStage, m.payload.after.cause]), [['SUSPECT', 'CUSTOMER', 'ORDER'], ['CUSTOMER', 'USER', 'ORDER']]);
  t.match(moved[0]!.payload.after, { reason: `order SO-${k}-0 placed` });
  const transitions = await queryRows<{ id: string }>(app.db, sql`SELECT id FROM lifecycle_transitions WHERE customer_id = ${a.id}::uuid ORDER BY array_position(ARRAY['CUSTOMER', 'USER'], to_stage)`);
  t.same(moved.map((m: any) => m.payload.after.transitionId), transitions.map((x) => x.id), 'each event names its transition row');
  t.equal(moved[0]!.owner_user_id, sales.id, "addressed to the customer's owner");

  // Audit rows and events of the orders.
  const created = await eventsFor(app, o1.id, 'order.created');
  t.equal(created.length, 1);
  t.match(created[0], { owner_user_id: sales.id, actor_id: erp.id, payload: { before: null, after: { id: o1.id, amount: '20.00', status: 'CONFIRMED', lines: [{ amount: '20.00' }] } } });
  t.same((await auditFor(app, o1.id)).map((x) => x.action), ['created']);
  t.same((await auditFor(app, o0.id)).map((x) => x.action), ['created', 'updated']);

  // The bad row left nothing: no order, no external id, no move of its customer, no event.
  t.equal((await app.rest(erp, 'GET', `/v1/orders/external/erp/N-${k}-bad`)).status, 404);
  t.equal(await count(app, sql`SELECT count(*)::int AS n FROM orders WHERE customer_id = ${bad.id}::uuid`), 0);
  t.same(await lifecycleOf(app, bad.id), []);
  t.equal((await eventsFor(app, bad.id)).length, (await eventsFor(app, bad.id, 'customer.created')).length, 'no event but its creation');
  t.equal(await count(app, sql`SELECT count(*)::int AS n FROM external_ids WHERE resource_type = 'order' AND external_id = ${`N-${k}-wrong`}`), 0);

  // The value: rescored with cause ORDER.
  const value = await app.rest(sales, 'GET', `/v1/customers/${a.id}/value`);
  t.equal(value.body.history[0]?.cause, 'ORDER');

  // GraphQL reads back what REST answers.
  const g = await app.gql(sales, `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} customer { id lifecycleStage } } }`, { id: o1.id });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  const { customer, ...plain } = g.data.order;
  t.same(plain, (await app.rest(sales, 'GET', `/v1/orders/${o1.id}`)).body, 'GraphQL answers what REST answers');
  t.same(customer, { id: a.id, lifecycleStage: 'USER' });

  // The same rows again: unchanged, nothing written.
  const again = await app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows: rows.filter((_, i) => [1, 2, 4, 5].includes(i)) });
  t.same(again.body.summary, { created: 0, updated: 0, unchanged: 4, failed: 0 }, again.raw);
  t.equal((await eventsFor(app, o1.id)).length, 1);
});

t.test('visibility: a customer the caller cannot see or write fails its row as an unknown or forbidden customer, naming nothing', async (t) => {
  const k = tag();
  const mine = await app.customer(c.users.partnerASales, { name: `PA ${k}` });
  const theirs = await app.customer(c.users.partnerBSales, { name: `PB ${k}` });
  // An unknown customer fails as a single PUT would; a partner's salesperson cannot write orders on another
  // partner's customer, and the answer names nothing of it.
  const other = await app.rest(erp, 'POST', '/v1/bulk/orders', {
    system: 'erp',
    rows: [
      { externalId: `V-${k}-0`, customerId: mine.id, currency: 'EUR', lines: line() },
      { externalId: `V-${k}-1`, customerId: '00000000-0000-4000-8000-000000000000', currency: 'EUR', lines: line() },
    ],
  });
  t.equal(other.status, 200, other.raw);
  t.same(other.body.results.map((r: any) => r.status), ['CREATED', 'FAILED']);
  t.match(other.body.results[1], { error: { status: 400, errors: [{ path: 'customerId', message: 'no such customer' }] } });
  const sales = await app.rest(c.users.partnerASales, 'POST', '/v1/bulk/orders', { system: 'erp', rows: [{ externalId: `V-${k}-2`, customerId: theirs.id, currency: 'EUR' }] });
  t.match(sales.body.results?.[0] ?? sales.body, { status: sales.status === 200 ? 'FAILED' : 403 });
  t.notMatch(JSON.stringify(sales.body), `PB ${k}`);
  t.equal(await count(app, sql`SELECT count(*)::int AS n FROM orders WHERE customer_id = ${theirs.id}::uuid`), 0);
});

t.test('atomic: a failed row rolls back every new order, line, id, move and event (422 BULK_ROWS_FAILED)', async (t) => {
  const k = tag();
  const a = await app.customer(sales);
  const rows = [
    { externalId: `A-${k}-0`, customerId: a.id, currency: 'EUR', status: 'CONFIRMED', lines: line() },
    { externalId: `A-${k}-1`, customerId: a.id, currency: 'eur', lines: line() },
    { externalId: `A-${k}-2`, customerId: a.id, currency: 'EUR', lines: line() },
  ];
  const res = await app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', atomic: true, rows });
  t.equal(res.status, 422, res.raw);
  t.equal(res.body.code, 'BULK_ROWS_FAILED');
  t.same(res.body.results.map((r: any) => [r.status, r.id]), [['CREATED', null], ['FAILED', null], ['CREATED', null]]);
  t.equal(await count(app, sql`SELECT count(*)::int AS n FROM orders WHERE customer_id = ${a.id}::uuid`), 0);
  t.equal(await count(app, sql`SELECT count(*)::int AS n FROM external_ids WHERE resource_type = 'order' AND external_id LIKE ${`A-${k}-%`}`), 0);
  t.same(await lifecycleOf(app, a.id), []);
  t.equal((await app.rest(sales, 'GET', `/v1/customers/${a.id}`)).body.lifecycleStage, 'SUSPECT');
  t.same((await eventsFor(app, a.id)).map((x) => x.type), ['customer.created']);
});

t.test('statements: a batch of new orders costs the same number of statements whatever its size', async (t) => {
  const k = tag();
  const load = async (n: number, label: string) => {
    const custs: { id: string }[] = [];
    for (let i = 0; i < 4; i++) custs.push(await app.customer(sales));
    const rows = Array.from({ length: n }, (_, i) => ({ externalId: `B-${k}-${label}-${i}`, customerId: custs[i % 4]!.id, currency: 'EUR', status: i < 4 ? 'CONFIRMED' : 'ORDERED', lines: line() }));
    const { result, statements } = await app.countStatements(() => app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows }));
    t.same(result.body.summary, { created: n, updated: 0, unchanged: 0, failed: 0 }, result.raw);
    for (const cu of custs) t.same((await lifecycleOf(app, cu.id)).map((x) => x[1]), ['CUSTOMER', 'USER']);
    return statements;
  };
  const few = await load(8, 'few');
  const many = await load(80, 'many');
  t.equal(many, few, `statements do not grow with the rows (${few})`);
  t.ok(few < 40, `a handful of statements per batch (${few})`);
  t.equal(await count(app, sql`SELECT count(*)::int AS n FROM order_lines l JOIN external_ids e ON e.record_id = l.order_id WHERE e.resource_type = 'order' AND e.external_id LIKE ${`B-${k}-%`}`), 88);
});

t.test('concurrency: two bulk loads of the same new order ids at once make one order each', async (t) => {
  const k = tag();
  const a = await app.customer(sales);
  const rows = Array.from({ length: 40 }, (_, i) => ({ externalId: `C-${k}-${i}`, customerId: a.id, currency: 'EUR', lines: line() }));
  const [x, y] = await Promise.all([0, 1].map(() => app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows })));
  t.equal(x?.status, 200, String(x?.raw));
  t.equal(y?.status, 200, String(y?.raw));
  t.equal(x!.body.summary.failed + y!.body.summary.failed, 0);
  t.equal(x!.body.summary.created + y!.body.summary.created, 40, 'each id created once');
  t.equal(await count(app, sql`SELECT count(*)::int AS n FROM orders WHERE customer_id = ${a.id}::uuid`), 40, 'one order per id');
  t.same(await lifecycleOf(app, a.id), [['SUSPECT', 'CUSTOMER', 'ORDER']], 'one move');
});

t.test('a batch of changed orders: headers and lines in one pass, status forward with its time, a backward row fails alone, lifecycle USER with cause ORDER', async (t) => {
  const k = tag();
  const [a, b] = [await app.customer(sales), await app.customer(sales)];
  const rows = [
    { externalId: `U-${k}-0`, customerId: a.id, currency: 'EUR', lines: line() },
    { externalId: `U-${k}-1`, customerId: a.id, currency: 'EUR', status: 'SHIPPED', lines: line() },
    { externalId: `U-${k}-2`, customerId: b.id, currency: 'EUR', number: 'old', lines: line() },
    { externalId: `U-${k}-3`, customerId: b.id, currency: 'EUR', lines: line() },
  ];
  t.same((await app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows })).body.summary, { created: 4, updated: 0, unchanged: 0, failed: 0 });
  const before = await Promise.all(rows.map(async (r) => (await app.rest(erp, 'GET', `/v1/orders/external/erp/${r.externalId}`)).body));
  const change = [
    { externalId: `U-${k}-0`, status: 'CONFIRMED', confirmedAt: '2026-11-30T10:00:00.000Z' },
    { externalId: `U-${k}-1`, status: 'PAID' },
    { externalId: `U-${k}-2`, customerId: b.id, number: 'new', lines: [{ product: 'Pump', quantity: '3', unitPrice: '10' }, { product: 'Valve', quantity: '1', unitPrice: '5.5' }] },
    { externalId: `U-${k}-3`, currency: 'EUR' },
  ];
  const res = await app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows: change });
  t.equal(res.status, 200, res.raw);
  t.same(res.body.results.map((r: any) => r.status), ['UPDATED', 'FAILED', 'UPDATED', 'UNCHANGED']);
  t.match(res.body.results[1], { id: null, error: { code: 'ORDER_STATUS_BACKWARD', status: 409 } });

  const get = async (x: string) => (await app.rest(erp, 'GET', `/v1/orders/external/erp/${x}`)).body;
  const o0 = await get(`U-${k}-0`);
  t.match(o0, { status: 'CONFIRMED', confirmedAt: '2026-11-30T10:00:00.000Z', version: 2, amount: '201.00' });
  t.same(await get(`U-${k}-1`), before[1], 'the backward row left its order as it was');
  const o2 = await get(`U-${k}-2`);
  t.match(o2, { number: 'new', amount: '35.50', version: 2 });
  t.same(o2.lines.map((l: any) => [l.product, l.quantity, l.amount]), [['Pump', '3', '30.00'], ['Valve', '1', '5.50']]);
  t.same(await get(`U-${k}-3`), before[3]);

  t.same(await lifecycleOf(app, a.id), [['SUSPECT', 'CUSTOMER', 'ORDER'], ['CUSTOMER', 'USER', 'ORDER']]);
  t.match((await eventsFor(app, a.id, 'customer.lifecycle_transitioned'))[1]?.payload.after, { lifecycleStage: 'USER', cause: 'ORDER', reason: `order ${o0.id} confirmed` });
  t.same(await lifecycleOf(app, b.id), [['SUSPECT', 'CUSTOMER', 'ORDER']], 'a change without a status move moves nothing');
  const status = await eventsFor(app, o0.id, 'order.status_changed');
  t.equal(status.length, 1);
  t.match(status[0]!.payload, { before: { status: 'ORDERED' }, after: { status: 'CONFIRMED', fromStatus: 'ORDERED' } });
  const updated = await eventsFor(app, o2.id, 'order.updated');
  t.equal(updated.length, 1);
  t.match(updated[0]!.payload, { before: { number: 'old', amount: '201.00', version: 1 }, after: { number: 'new', amount: '35.50', version: 2 } });
  t.same((await auditFor(app, o2.id)).map((x) => x.action), ['created', 'updated']);
  t.same((await eventsFor(app, o2.id)).map((x) => x.type), ['order.created', 'order.updated'], 'no status event without a status move');
  t.equal(await count(app, sql`SELECT count(*)::int AS n FROM order_lines WHERE order_id = ${o2.id}::uuid`), 2, 'the old lines are gone');
  t.equal((await app.rest(sales, 'GET', `/v1/customers/${a.id}/value`)).body.history[0]?.cause, 'ORDER');

  // GraphQL reads the changed order as REST does.
  const g = await app.gql(sales, `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`, { id: o2.id });
  t.same(g.data.order, (await app.rest(sales, 'GET', `/v1/orders/${o2.id}`)).body);
});

t.test('statements: a batch of changed orders costs the same number of statements whatever its size', async (t) => {
  const k = tag();
  const load = async (n: number, label: string) => {
    const cu = await app.customer(sales);
    const rows = Array.from({ length: n }, (_, i) => ({ externalId: `BU-${k}-${label}-${i}`, customerId: cu.id, currency: 'EUR', lines: line() }));
    t.equal((await app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows })).body.summary.created, n);
    const changed = rows.map((r, i) => ({ externalId: r.externalId, status: i === 0 ? 'CONFIRMED' : 'PAID', lines: line('20') }));
    const { result, statements } = await app.countStatements(() => app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows: changed }));
    t.same(result.body.summary, { created: 0, updated: n, unchanged: 0, failed: 0 }, result.raw);
    t.same((await lifecycleOf(app, cu.id)).map((x) => x[1]), ['CUSTOMER', 'USER']);
    return statements;
  };
  const few = await load(5, 'few');
  const many = await load(60, 'many');
  t.equal(many, few, `statements do not grow with the rows (${few})`);
  t.equal(await count(app, sql`SELECT count(*)::int AS n FROM order_lines l JOIN external_ids e ON e.record_id = l.order_id WHERE e.resource_type = 'order' AND e.external_id LIKE ${`BU-${k}-%`} AND l.amount = 40`), 65);
});
