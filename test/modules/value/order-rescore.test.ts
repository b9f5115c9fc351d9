// An order is the revenue input of the customer's value: placing one rescores the customer in the
// order's own transaction, with ORDER as the cause on the value history — no scheduled run needed.
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { order } from '../orders/support.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const { integration, sales } = c.users;

t.test('an order rescores its customer with cause ORDER; a cancellation takes the revenue back', async (t) => {
  const cu = await app.customer(sales);
  const before = await app.rest(sales, 'GET', `/v1/customers/${cu.id}/value`);
  t.equal(before.status, 200);
  const o = await order(app, integration, cu.id, { orderedAt: new Date(Date.now() - 86_400_000).toISOString(), lines: [{ product: 'Press', quantity: '4', unitPrice: '25000' }] });
  const after = await app.rest(sales, 'GET', `/v1/customers/${cu.id}/value`);
  t.equal(after.status, 200);
  t.ok(after.body.score > (before.body.score ?? 0), `score ${before.body.score} → ${after.body.score} after an order of 100 000`);
  t.equal(after.body.history[0].cause, 'ORDER', 'the newest history entry names the order as its cause');
  const revenue = after.body.parts.find((x: { indicator: string }) => x.indicator === 'revenue');
  t.equal(Number(revenue.raw), 100000, 'the trailing revenue counts the order');
  const read = await app.rest(sales, 'GET', `/v1/customers/${cu.id}`);
  t.equal(read.body.valueScore, after.body.score, 'the customer row carries the new score');

  const cancelled = await app.rest(integration, 'PATCH', `/v1/orders/${o.id}`, { status: 'CANCELLED' });
  t.equal(cancelled.status, 200);
  const back = await app.rest(sales, 'GET', `/v1/customers/${cu.id}/value`);
  t.equal(Number(back.body.parts.find((x: { indicator: string }) => x.indicator === 'revenue').raw), 0, 'a cancelled order is no revenue');
  t.ok(back.body.score < after.body.score, 'and the score falls again');
});
