import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { count, eventsFor } from '../../helpers/records.js';
import { lifecycleOf, order } from './support.js';

// Concurrent writes of one order or one customer's orders: no lost update, no double move, one record
// per external id. Meaningful on PostgreSQL (the embedded database runs one statement at a time).

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const { integration, sales } = c.users;

t.test('two confirmations of one order at once: one move, one lifecycle transition, one event', async (t) => {
  for (let round = 0; round < 3; round++) {
    const cust = await app.customer(sales);
    const o = await order(app, integration, cust.id);
    const [a, b] = await Promise.all([
      app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { status: 'CONFIRMED' }),
      app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { status: 'CONFIRMED' }),
    ]);
    t.same([a.status, b.status], [200, 200], `${a.raw} ${b.raw}`);
    t.same([a.body.version, b.body.version].sort(), [2, 2], 'the second found it confirmed and wrote nothing');
    t.equal((await eventsFor(app, o.id, 'order.status_changed')).length, 1);
    t.same(await lifecycleOf(app, cust.id), [
      ['SUSPECT', 'CUSTOMER', 'ORDER'],
      ['CUSTOMER', 'USER', 'ORDER'],
    ]);
  }
});

t.test('the same with If-Match: the loser is told the order changed (412)', async (t) => {
  const cust = await app.customer(sales);
  const o = await order(app, integration, cust.id);
  const res = await Promise.all([1, 2].map(() => app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { status: 'CONFIRMED' }, { 'if-match': '"1"' })));
  t.same(res.map((r) => r.status).sort(), [200, 412]);
});

t.test("two different orders of one customer confirmed at once: the customer moves to USER once", async (t) => {
  const cust = await app.customer(sales);
  const [o1, o2] = [await order(app, integration, cust.id), await order(app, integration, cust.id)];
  const res = await Promise.all([o1, o2].map((o) => app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { status: 'CONFIRMED' })));
  t.same(res.map((r) => r.status), [200, 200]);
  t.same((await lifecycleOf(app, cust.id)).map((r) => r[1]), ['CUSTOMER', 'USER']);
});

t.test('two first orders of one customer at once: one move to CUSTOMER', async (t) => {
  const cust = await app.customer(sales);
  const res = await Promise.all([1, 2, 3].map(() => app.rest(integration, 'POST', '/v1/orders', { customerId: cust.id, currency: 'EUR' })));
  t.same(res.map((r) => r.status), [201, 201, 201]);
  t.same(await lifecycleOf(app, cust.id), [['SUSPECT', 'CUSTOMER', 'ORDER']]);
});

t.test('two upserts of the same new external id at once: one order', async (t) => {
  const cust = await app.customer(sales);
  const ext = `SO-${tag()}`;
  const res = await Promise.all([1, 2, 3].map((i) => app.rest(integration, 'PUT', `/v1/orders/external/erp/${ext}`, { customerId: cust.id, currency: 'EUR', number: `N-${i}` })));
  t.same(res.map((r) => r.status).sort(), [200, 200, 201], res.map((r) => r.raw).join('\n'));
  t.equal(new Set(res.map((r) => r.body.id)).size, 1, 'every answer names the one order');
  t.equal(await count(app, sql`SELECT count(*) AS n FROM orders WHERE customer_id = ${cust.id}`), 1);
});
