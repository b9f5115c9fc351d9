import { sql } from 'drizzle-orm';
import t from 'tap';
import { applyExternalIds } from '../../../src/lib/external-ids.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { customRole, opportunity, share, tag } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';
import { auditFor, count, eventsFor } from '../../helpers/records.js';
import { lifecycleOf, order } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const { integration, sales, partnerASales, partnerBSales, partnerAManager, admin, branchManager } = c.users;

t.test('create: lines priced and totalled by the server, money as strings, the customer becomes a CUSTOMER', async (t) => {
  const cust = await app.customer(sales, { lifecycleStage: 'OPPORTUNITY' });
  const res = await app.rest(integration, 'POST', '/v1/orders', {
    customerId: cust.id,
    number: 'SO-1001',
    currency: 'EUR',
    lines: [
      { product: 'Boiler B-200', productLine: 'boilers', quantity: '2', unitPrice: '1200.50' },
      { product: 'Valve', productLine: 'spares', quantity: '0.333', unitPrice: '10.00' },
      { product: 'Service pack', quantity: '1', unitPrice: '300', amount: '250.00' },
    ],
    externalIds: { erp: `SO-${tag()}` },
  });
  t.equal(res.status, 201, res.raw);
  t.equal(res.headers.location, `/v1/orders/${res.body.id}`);
  t.equal(res.headers.etag, '"1"');
  t.match(res.body, {
    customerId: cust.id,
    opportunityId: null,
    number: 'SO-1001',
    status: 'ORDERED',
    paidAt: null,
    shippedAt: null,
    confirmedAt: null,
    cancelledAt: null,
    currency: 'EUR',
    // 2 × 1200.50 + 0.333 × 10.00 (3.33) + 250.00 (given: a discounted line)
    amount: '2654.33',
    ownerUserId: sales.id,
    ownerUnitId: sales.unitId,
    version: 1,
  });
  t.same(res.body.lines, [
    { product: 'Boiler B-200', productLine: 'boilers', quantity: '2', unitPrice: '1200.50', amount: '2401.00' },
    { product: 'Valve', productLine: 'spares', quantity: '0.333', unitPrice: '10.00', amount: '3.33' },
    { product: 'Service pack', productLine: null, quantity: '1', unitPrice: '300.00', amount: '250.00' },
  ]);
  t.ok(Date.parse(res.body.orderedAt) > Date.now() - 60_000, 'orderedAt defaults to now');
  t.same((await eventsFor(app, res.body.id)).map((e) => e.type), ['order.created']);
  t.same((await auditFor(app, res.body.id)).map((a) => [a.action, a.actor_id]), [['created', integration.id]]);
  t.same(await lifecycleOf(app, cust.id), [['OPPORTUNITY', 'CUSTOMER', 'ORDER']], 'first order: CUSTOMER, cause ORDER');

  const read = await app.rest(sales, 'GET', `/v1/orders/${res.body.id}`);
  t.equal(read.status, 200, read.raw);
  t.same(read.body, res.body, 'the owner of the customer reads the order as created');
  t.equal(read.headers.etag, '"1"');
});

t.test('create: a later status is given with its times; a confirmed first order makes a USER', async (t) => {
  const cust = await app.customer(sales);
  const o = await order(app, integration, cust.id, { status: 'CONFIRMED', orderedAt: '2025-01-02T03:04:05.000Z', paidAt: '2025-01-03T00:00:00Z' });
  t.match(o, { status: 'CONFIRMED', orderedAt: '2025-01-02T03:04:05.000Z', paidAt: '2025-01-03T00:00:00.000Z', shippedAt: null, amount: '100.00' });
  t.ok(o.confirmedAt, 'the status step has its time');
  t.same(await lifecycleOf(app, cust.id), [
    ['SUSPECT', 'CUSTOMER', 'ORDER'],
    ['CUSTOMER', 'USER', 'ORDER'],
  ]);
  // A cancelled order is no purchase: the customer does not move.
  const cust2 = await app.customer(sales);
  await order(app, integration, cust2.id, { status: 'CANCELLED' });
  t.same(await lifecycleOf(app, cust2.id), []);
  // A USER stays a USER.
  await order(app, integration, cust.id);
  t.equal((await lifecycleOf(app, cust.id)).length, 2, 'never moved back');
});

t.test('status moves forward only, each step timestamped; backwards answers 409 ORDER_STATUS_BACKWARD', async (t) => {
  const cust = await app.customer(sales);
  const o = await order(app, integration, cust.id);
  const paid = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { status: 'paid' }, { 'if-match': '"1"' });
  t.equal(paid.status, 200, paid.raw);
  t.match(paid.body, { status: 'PAID', version: 2 });
  t.ok(paid.body.paidAt);
  // Skipping forward is allowed (cash on delivery): SHIPPED straight to CONFIRMED at a given time.
  const conf = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { status: 'CONFIRMED', confirmedAt: '2030-01-01T00:00:00Z' });
  t.equal(conf.status, 200, conf.raw);
  t.match(conf.body, { status: 'CONFIRMED', shippedAt: null, confirmedAt: '2030-01-01T00:00:00.000Z', version: 3 });
  t.same((await eventsFor(app, o.id)).map((e) => e.type), ['order.created', 'order.updated', 'order.status_changed', 'order.updated', 'order.status_changed']);
  t.same((await lifecycleOf(app, cust.id)).map((r) => r[1]), ['CUSTOMER', 'USER'], 'the first confirmed order made a USER');

  for (const status of ['PAID', 'ORDERED', 'CANCELLED']) {
    const back = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { status });
    t.equal(problemOf(back, 409), null, status);
    t.equal(back.body.code, 'ORDER_STATUS_BACKWARD');
    t.match(back.body, { currentStatus: 'CONFIRMED', requestedStatus: status });
  }
  // The same status again changes nothing: no version, no event.
  const same = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { status: 'CONFIRMED' });
  t.equal(same.status, 200);
  t.equal(same.body.version, 3);
  t.equal((await eventsFor(app, o.id)).length, 5, 'nothing written');

  const o2 = await order(app, integration, cust.id, { status: 'SHIPPED' });
  const back = await app.rest(integration, 'PATCH', `/v1/orders/${o2.id}`, { status: 'PAID' });
  t.equal(back.body.code, 'ORDER_STATUS_BACKWARD');
  const cancel = await app.rest(integration, 'PATCH', `/v1/orders/${o2.id}`, { status: 'CANCELLED' });
  t.match(cancel.body, { status: 'CANCELLED', shippedAt: o2.shippedAt });
  t.ok(cancel.body.cancelledAt);
  const revive = await app.rest(integration, 'PATCH', `/v1/orders/${o2.id}`, { status: 'CONFIRMED' });
  t.equal(revive.body.code, 'ORDER_STATUS_BACKWARD', 'a cancelled order stays cancelled');
  // A step's time for a step the order has not reached.
  const o3 = await order(app, integration, cust.id);
  t.equal(problemOf(await app.rest(integration, 'PATCH', `/v1/orders/${o3.id}`, { shippedAt: '2030-01-01T00:00:00Z' }), 400, ['shippedAt']), null);
});

t.test('PATCH: merge patch, lines replace, totals recomputed, If-Match honoured', async (t) => {
  const cust = await app.customer(sales);
  const o = await order(app, integration, cust.id);
  const stale = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { number: 'X' }, { 'if-match': '"7"' });
  t.equal(problemOf(stale, 412), null);
  const res = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { number: 'SO-9', lines: [{ product: 'A', quantity: '3', unitPrice: '9.99' }] }, { 'content-type': 'application/merge-patch+json' });
  t.equal(res.status, 200, res.raw);
  t.match(res.body, { number: 'SO-9', amount: '29.97', version: 2 });
  t.equal(res.body.lines.length, 1);
  const wrongTotal = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { amount: '30.00' });
  t.equal(problemOf(wrongTotal, 400, ['amount']), null, 'a total that disagrees with the lines');
  const clear = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { number: null, lines: [], amount: '12.00' });
  t.match(clear.body, { number: null, amount: '12.00', lines: [] });
  const customerMove = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { customerId: cust.id });
  t.equal(problemOf(customerMove, 400, ['customerId']), null, 'an order stays with its customer');
});

t.test('opportunityId: visible and of the same customer', async (t) => {
  const cust = await app.customer(sales);
  const other = await app.customer(sales);
  const opp = await opportunity(app, sales, cust.id);
  const oppElsewhere = await opportunity(app, sales, other.id);
  const ok = await order(app, admin, cust.id, { opportunityId: opp.id });
  t.equal(ok.opportunityId, opp.id);
  const wrong = await app.rest(integration, 'POST', '/v1/orders', { customerId: cust.id, currency: 'EUR', opportunityId: oppElsewhere.id });
  t.equal(problemOf(wrong, 400, ['opportunityId']), null);
  // A partner's order desk (a custom grant) cannot name another partner's deal: an unknown id.
  const desk = await app.user(c.partnerA, [(await customRole(app, 'SUBTREE', ['customers:read', 'opportunities:read', 'orders:read', 'orders:create'])).name]);
  const custA = await app.customer(partnerASales);
  const hiddenOpp = await opportunity(app, partnerBSales, (await app.customer(partnerBSales)).id);
  const unknown = await app.rest(desk, 'POST', '/v1/orders', { customerId: custA.id, currency: 'EUR', opportunityId: hiddenOpp.id });
  t.equal(problemOf(unknown, 400, ['opportunityId']), null);
  const hiddenCustomer = await app.rest(desk, 'POST', '/v1/orders', { customerId: (await app.customer(partnerBSales)).id, currency: 'EUR' });
  t.equal(problemOf(hiddenCustomer, 400, ['customerId']), null, "another partner's customer is an unknown id");
  t.equal((await app.rest(desk, 'POST', '/v1/orders', { customerId: custA.id, currency: 'EUR' })).status, 201, 'within its partner');
});

t.test('bad input: 400 naming the field, nothing written', async (t) => {
  const cust = await app.customer(sales);
  const before = await count(app, sql`SELECT count(*) AS n FROM orders WHERE customer_id = ${cust.id}`);
  const base = { customerId: cust.id, currency: 'EUR' };
  const cases: [Record<string, unknown>, string[]][] = [
    [{ currency: 'EUR' }, ['customerId']],
    [{ customerId: cust.id }, ['currency']],
    [{ ...base, currency: 'eur' }, ['currency']],
    [{ ...base, amount: 12.5 }, ['amount']],
    [{ ...base, amount: '1.234' }, ['amount']],
    [{ ...base, status: 'SENT' }, ['status']],
    [{ ...base, lines: [{ product: 'A', quantity: '0', unitPrice: '1' }] }, ['lines.0.quantity']],
    [{ ...base, lines: [{ product: 'A', quantity: '1', unitPrice: '-1' }] }, ['lines.0.unitPrice']],
    [{ ...base, lines: [{ product: '', quantity: '1', unitPrice: '1' }] }, ['lines.0.product']],
    [{ ...base, lines: [{ product: 'A', quantity: '1', unitPrice: '1', colour: 'red' }] }, ['lines.0.colour']],
    [{ ...base, number: 'a\u0000b' }, ['number']],
    [{ ...base, number: 'x'.repeat(101) }, ['number']],
    [{ ...base, orderedAt: '0000-01-01T00:00:00Z' }, ['orderedAt']],
    [{ ...base, paidAt: '2030-01-01T00:00:00Z' }, ['paidAt']],
    [{ ...base, ownerUserId: sales.id }, ['ownerUserId']],
    [{ ...base, surprise: true }, ['surprise']],
    [{ ...base, externalIds: { ERP: 'x' } }, ['externalIds.ERP']],
    [{ ...base, lines: [{ product: 'A', quantity: '99999999999999', unitPrice: '9999999999999999' }] }, ['lines.0.amount']],
    [{ ...base, lines: Array.from({ length: 1001 }, () => ({ product: 'A', quantity: '1', unitPrice: '1' })) }, ['lines']],
    [{ ...base, lines: [{ product: 'A'.repeat(100_000), quantity: '1', unitPrice: '1' }] }, ['lines.0.product']],
    [{ ...base, lines: [{ product: 'A', quantity: 2, unitPrice: '1' }] }, ['lines.0.quantity']],
    [{ ...base, customerId: 'x'.repeat(5000) }, ['customerId']],
    [{ ...base, customerId: undefined, customer: { system: 'erp', externalId: '' } }, ['customer.externalId']],
  ];
  for (const [body, paths] of cases) {
    const res = await app.rest(integration, 'POST', '/v1/orders', body);
    t.equal(problemOf(res, 400, paths), null, JSON.stringify(body).slice(0, 120));
  }
  t.equal(await count(app, sql`SELECT count(*) AS n FROM orders WHERE customer_id = ${cust.id}`), before, 'nothing written');
  t.equal(problemOf(await app.rest(integration, 'GET', '/v1/orders?colour=red'), 400, ['colour']), null, 'unknown query parameter');
  t.equal(problemOf(await app.rest(integration, 'GET', '/v1/orders?sort=amount'), 400, ['sort']), null);
  t.equal(problemOf(await app.rest(integration, 'GET', '/v1/orders/not-a-uuid'), 400), null);
});

t.test('visibility: exactly as the customer; another partner’s order is 404 and never listed', async (t) => {
  const custA = await app.customer(partnerASales);
  const oA = await order(app, integration, custA.id);
  t.equal((await app.rest(partnerASales, 'GET', `/v1/orders/${oA.id}`)).status, 200);
  t.equal((await app.rest(partnerAManager, 'GET', `/v1/orders/${oA.id}`)).status, 200);
  const asB = await app.rest(partnerBSales, 'GET', `/v1/orders/${oA.id}`);
  t.equal(problemOf(asB, 404), null);
  t.notMatch(asB.raw, custA.id, 'nothing leaked');
  t.equal(problemOf(await app.rest(c.users.partnerBManager, 'PATCH', `/v1/orders/${oA.id}`, { number: 'x' }), 404), null);
  const list = await app.rest(partnerBSales, 'GET', `/v1/orders?customerId=${custA.id}&count=true`);
  t.same([list.body.data, list.body.totalCount], [[], 0]);
  t.equal(problemOf(await app.rest(partnerBSales, 'GET', `/v1/customers/${custA.id}/orders`), 404), null);
  // Partners do not see the company's system ids.
  t.equal((await app.rest(partnerASales, 'GET', `/v1/orders/${oA.id}`)).body.externalIds, undefined);
  // A share of the customer lets the order be read, not written.
  await share(app, custA.id, { toUserId: sales.id }, admin);
  t.equal((await app.rest(sales, 'GET', `/v1/orders/${oA.id}`)).status, 200, 'shared customer: its orders are readable');
  // Writing orders is the integrated systems' (and admins'): others are refused on what they see.
  const custS = await app.customer(sales);
  t.equal(problemOf(await app.rest(sales, 'POST', '/v1/orders', { customerId: custS.id, currency: 'EUR' }), 403), null);
  const oS = await order(app, integration, custS.id);
  t.equal(problemOf(await app.rest(branchManager, 'PATCH', `/v1/orders/${oS.id}`, { number: 'x' }), 403), null);
  // A customer the caller cannot see is an unknown id, for writers too.
  const hidden = await app.rest(partnerASales, 'POST', '/v1/orders', { customerId: (await app.customer(partnerBSales)).id, currency: 'EUR' });
  t.equal(hidden.status, 403, 'no orders:create at all');
});

t.test('lists: filters, keyset paging, sync by updatedAfter and sort=updatedAt; the customer’s orders', async (t) => {
  const cust = await app.customer(sales);
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await order(app, integration, cust.id, { number: `L-${i}`, orderedAt: `2024-0${i + 1}-01T00:00:00Z`, lines: [{ product: 'P', productLine: i % 2 ? 'odd' : 'even', quantity: '1', unitPrice: '1' }] }));
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await app.rest(sales, 'GET', `/v1/orders?customerId=${cust.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(res.status, 200, res.raw);
    ids.push(...res.body.data.map((o: { id: string }) => o.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  t.same(ids, made.map((o) => o.id).reverse(), 'newest orderedAt first, every order once');
  const odd = await app.rest(sales, 'GET', `/v1/orders?customerId=${cust.id}&productLine=odd&count=true`);
  t.same([odd.body.data.length, odd.body.totalCount], [2, 2]);
  const byNumber = await app.rest(sales, 'GET', `/v1/orders?number=L-3&customerId=${cust.id}`);
  t.same(byNumber.body.data.map((o: { id: string }) => o.id), [made[3]?.id]);
  const mark = new Date().toISOString();
  await app.rest(integration, 'PATCH', `/v1/orders/${made[1]?.id}`, { status: 'PAID' });
  const sync = await app.rest(integration, 'GET', `/v1/orders?updatedAfter=${mark}&sort=updatedAt&customerId=${cust.id}`);
  t.same(sync.body.data.map((o: { id: string }) => o.id), [made[1]?.id]);
  const own = await app.rest(sales, 'GET', `/v1/customers/${cust.id}/orders?limit=3&status=PAID`);
  t.same(own.body.data.map((o: { id: string }) => o.id), [made[1]?.id]);
  const forged = await app.rest(sales, 'GET', `/v1/orders?cursor=${Buffer.from(JSON.stringify({ s: '-orderedAt', v: ['0000-01-01T00:00:00Z', made[0]?.id] })).toString('base64url')}`);
  t.equal(problemOf(forged, 400, ['cursor']), null);
});

t.test('external ids: GET and PUT upsert (201 create, 200 merge, unchanged writes nothing)', async (t) => {
  const cust = await app.customer(sales);
  // The customer as the ERP knows it (the customers module keeps its ids in the one external-id table).
  const erpCustomer = `C-${tag()}`;
  await applyExternalIds(app.db, 'customer', cust.id, { erp: erpCustomer });
  const ext = `SO-${tag()}`;
  const created = await app.rest(integration, 'PUT', `/v1/orders/external/erp/${ext}`, { customer: { system: 'erp', externalId: erpCustomer }, currency: 'EUR', lines: [{ product: 'A', quantity: '1', unitPrice: '5' }] });
  t.equal(created.status, 201, created.raw);
  t.equal(created.headers.location, `/v1/orders/${created.body.id}`);
  t.match(created.body, { customerId: cust.id, externalIds: { erp: ext }, amount: '5.00', version: 1 });
  const again = await app.rest(integration, 'PUT', `/v1/orders/external/erp/${ext}`, { customer: { system: 'erp', externalId: erpCustomer }, currency: 'EUR', lines: [{ product: 'A', quantity: '1', unitPrice: '5' }] });
  t.equal(again.status, 200, again.raw);
  t.equal(again.body.version, 1, 'unchanged: same version');
  t.equal((await eventsFor(app, created.body.id)).length, 1, 'unchanged: no event');
  const moved = await app.rest(integration, 'PUT', `/v1/orders/external/erp/${ext}`, { status: 'SHIPPED' });
  t.equal(moved.status, 200);
  t.match(moved.body, { status: 'SHIPPED', version: 2 });
  const read = await app.rest(sales, 'GET', `/v1/orders/external/erp/${ext}`);
  t.equal(read.status, 200);
  t.equal(read.body.id, created.body.id);
  t.equal(problemOf(await app.rest(partnerBSales, 'GET', `/v1/orders/external/erp/${ext}`), 404), null, "another partner's order by external id");
  t.equal(problemOf(await app.rest(integration, 'GET', `/v1/orders/external/erp/${tag()}`), 404), null);
  t.equal(problemOf(await app.rest(integration, 'GET', '/v1/orders/external/ERP!/x'), 400, ['system']), null);
  const otherCustomer = await app.rest(integration, 'PUT', `/v1/orders/external/erp/${ext}`, { customerId: (await app.customer(sales)).id });
  t.equal(problemOf(otherCustomer, 400, ['customerId']), null, 'an upsert never moves an order to another customer');
  const newWithoutCurrency = await app.rest(integration, 'PUT', `/v1/orders/external/erp/${tag()}`, { customerId: cust.id });
  t.equal(problemOf(newWithoutCurrency, 400, ['currency']), null, 'a new order follows the create rules');
  // Only integration:write writes external ids.
  const o = await order(app, integration, cust.id);
  const wms = `W-${tag()}`;
  t.equal((await app.rest(admin, 'PATCH', `/v1/orders/${o.id}`, { externalIds: { wms } })).status, 200);
  t.equal((await app.rest(admin, 'GET', `/v1/orders/${o.id}`)).body.externalIds.wms, wms, 'admin holds integration:write');
  // Another writer of orders without integration:write (a custom grant) cannot touch them.
  const desk = await app.user(c.branch, [(await customRole(app, 'ALL', ['customers:read', 'orders:read', 'orders:update'])).name]);
  t.equal(problemOf(await app.rest(desk, 'PATCH', `/v1/orders/${o.id}`, { externalIds: { wms: null } }), 403, ['externalIds']), null);
  t.equal((await app.rest(desk, 'PATCH', `/v1/orders/${o.id}`, { externalIds: { wms }, number: 'N' })).status, 200, 'repeating the stored ids is no write of them');
  const taken = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { externalIds: { erp: ext } });
  t.equal(problemOf(taken, 409, ['externalIds.erp']), null);
  t.equal(taken.body.code, 'EXTERNAL_ID_TAKEN');
});

t.test('a merge moves the duplicate’s orders to the survivor', async (t) => {
  const survivor = await app.customer(sales);
  const dup = await app.customer(sales);
  const o = await order(app, integration, dup.id);
  const res = await app.rest(branchManager, 'POST', `/v1/customers/${survivor.id}/merge`, { duplicateIds: [dup.id] });
  t.equal(res.status, 200, res.raw);
  t.equal((await app.rest(sales, 'GET', `/v1/orders/${o.id}`)).body.customerId, survivor.id);
  t.same((await eventsFor(app, o.id)).map((e) => e.type), ['order.created', 'order.moved_by_merge']);
  const onMerged = await app.rest(integration, 'POST', '/v1/orders', { customerId: dup.id, currency: 'EUR' });
  t.equal(onMerged.body.code, 'CUSTOMER_MERGED');
});

t.test("the customer's timeline shows its orders, to callers who may read them", async (t) => {
  const cust = await app.customer(sales);
  const o = await order(app, integration, cust.id, { number: 'TL-1', orderedAt: '2024-06-01T08:00:00Z' });
  const tl = await app.rest(sales, 'GET', `/v1/customers/${cust.id}/timeline?types=ORDER`);
  t.equal(tl.status, 200, tl.raw);
  t.match(tl.body.data, [{ type: 'ORDER', id: o.id, at: '2024-06-01T08:00:00.000Z', summary: 'Order TL-1 placed: 100.00 EUR (ordered)', data: { orderId: o.id, number: 'TL-1', status: 'ORDERED', amount: '100.00', currency: 'EUR' } }]);
  const all = await app.rest(sales, 'GET', `/v1/customers/${cust.id}/timeline`);
  t.ok(all.body.data.some((e: { type: string }) => e.type === 'ORDER'), 'in the whole feed too');
  t.ok(all.body.data.some((e: { type: string; data: { cause?: string } }) => e.type === 'LIFECYCLE_TRANSITION' && e.data.cause === 'ORDER'), 'with the lifecycle move it caused');
  // A role that reads customers but not orders sees no order entries.
  const noOrders = await app.user(c.branch, [(await customRole(app, 'ALL', ['customers:read', 'interactions:read'])).name]);
  const hidden = await app.rest(noOrders, 'GET', `/v1/customers/${cust.id}/timeline`);
  t.equal(hidden.status, 200, hidden.raw);
  t.notOk(hidden.body.data.some((e: { type: string }) => e.type === 'ORDER'), 'no orders:read, no order entries');
  t.equal(problemOf(await app.rest(noOrders, 'GET', `/v1/orders/${o.id}`), 403), null);
});
