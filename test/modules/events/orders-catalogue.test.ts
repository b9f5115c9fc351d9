import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { DATA_SCHEMAS, type EventType } from '../../../src/modules/events/index.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { privatePostgres } from '../../helpers/private-postgres.js';
import { order } from '../orders/support.js';

// The order.* events: listed in the catalogue and openapi.yaml `webhooks`, and what the code emits
// is what they describe — every field of the order as the API answers it, nothing dropped silently.

// The test's own PostgreSQL (see live.test.ts): the feed waits for every older transaction of the cluster.
const pg = process.env.DATABASE_URL ? await privatePostgres() : null;
const app = await buildTestApp(pg ? { DATABASE_URL: pg.url } : {});
t.teardown(async () => {
  await app.close();
  await pg?.stop();
});
const c = await company(app);

async function feedOf(after: string, types: string) {
  const out: any[] = [];
  let cursor = after;
  for (let i = 0; i < 50; i++) {
    const r = await app.rest(c.users.integration, 'GET', `/v1/events?types=${types}&limit=500&after=${cursor}`);
    if (r.status !== 200) throw new Error(r.raw);
    out.push(...r.body.data);
    if (r.body.data.length === 0) break;
    cursor = r.body.nextCursor;
  }
  return out;
}

t.test('order.created, order.updated and order.status_changed carry the order as the API answers it', async (t) => {
  const start = await app.rest(c.users.integration, 'GET', '/v1/events?limit=1&types=order.*');
  t.equal(start.status, 200, start.raw);
  // Read past everything already there.
  let cursor = start.body.nextCursor;
  for (let i = 0; i < 50; i++) {
    const r = await app.rest(c.users.integration, 'GET', `/v1/events?limit=500&types=order.*&after=${cursor}`);
    if (r.body.data.length === 0) break;
    cursor = r.body.nextCursor;
  }

  const cust = await app.customer(c.users.sales);
  const made = await order(app, c.users.integration, cust.id, { externalIds: { erp: `SO-${Date.now()}` } });
  const paid = await app.rest(c.users.integration, 'PATCH', `/v1/orders/${made.id}`, { status: 'PAID' }, { 'if-match': `"${made.version}"`, 'x-request-id': 'erp-sync-42' });
  t.equal(paid.status, 200, paid.raw);

  const events = (await feedOf(cursor, 'order.*')).filter((e) => e.entityId === made.id);
  t.same(events.map((e) => e.type), ['order.created', 'order.updated', 'order.status_changed'], 'in order');
  for (const e of events) {
    const r = DATA_SCHEMAS[e.type as EventType].safeParse(e.data);
    t.ok(r.success, `${e.type} matches the catalogue ${r.success ? '' : JSON.stringify(r.error.issues)}`);
    t.equal(e.entityType, 'order');
  }
  const [created, updated, status] = events;
  t.same(created.data.before, null);
  t.same(created.data.after, made, 'order.created: the order exactly as POST answered it');
  t.same(updated.data.before, made, 'order.updated: before as it was');
  t.same(updated.data.after, paid.body, 'order.updated: after as PATCH answered it');
  t.same(status.data.before, { status: 'ORDERED' });
  t.same(status.data.after, paid.body, 'order.status_changed: the order after the move');
  t.same([updated.requestId, status.requestId], ['erp-sync-42', 'erp-sync-42'], 'the request id of the PATCH');
});

t.test('openapi.yaml lists the order.* webhooks with their data schemas', async (t) => {
  const doc = parse(readFileSync(new URL('../../../openapi.yaml', import.meta.url), 'utf8'));
  for (const type of ['order.created', 'order.updated', 'order.status_changed']) {
    const hook = doc.webhooks?.[type];
    t.ok(hook?.post, `${type} is a webhook`);
    const text = JSON.stringify(hook);
    for (const field of ['customerId', 'status', 'amount', 'currency', 'lines', 'externalIds', 'paidAt']) t.ok(text.includes(`"${field}"`), `${type} documents ${field}`);
  }
});
