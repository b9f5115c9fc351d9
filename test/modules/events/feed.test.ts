import { sql } from 'drizzle-orm';
import t from 'tap';
import { DATA_SCHEMAS, type EventType } from '../../../src/modules/events/index.js';
import { buildTestApp, company, type TestApp, type User } from '../../helpers/app.js';

const app = await buildTestApp();
t.teardown(() => app.close());

// Every event read in this file must match the catalogue's schema of its type.
function checkCatalogue(t: { ok: (v: unknown, m: string) => unknown }, events: { type: string; data: unknown }[]) {
  for (const e of events) {
    const schema = DATA_SCHEMAS[e.type as EventType];
    t.ok(schema, `${e.type} is in the catalogue`);
    const r = schema?.safeParse(e.data);
    t.ok(r?.success, `${e.type} data matches its schema ${r?.success ? '' : JSON.stringify(r?.error.issues)}`);
  }
}

/** Everything `who` can read after `after`, following nextCursor. */
async function drain(a: TestApp, who: User, after?: string, types?: string, pageSize = 3) {
  const out: any[] = [];
  let cursor = after;
  for (let i = 0; i < 200; i++) {
    const q = new URLSearchParams({ limit: String(pageSize), ...(cursor ? { after: cursor } : {}), ...(types ? { types } : {}) });
    const r = await a.rest(who, 'GET', `/v1/events?${q}`);
    if (r.status !== 200) throw new Error(r.raw);
    out.push(...r.body.data);
    if (r.body.nextCursor === cursor && r.body.data.length === 0) return { events: out, cursor };
    cursor = r.body.nextCursor;
    if (r.body.data.length === 0) return { events: out, cursor };
  }
  return { events: out, cursor };
}

t.test('a partner manager reads its own partner\'s events, in order, with nextCursor always present', async (t) => {
  const c = await company(app);
  // Where the feed stands before this test's writes (everything earlier is other tests' work).
  const start = await app.rest(c.users.partnerAManager, 'GET', '/v1/events?limit=500');
  t.equal(start.status, 200, start.raw);
  t.type(start.body.nextCursor, 'string');
  const from = (await drain(app, c.users.partnerAManager, start.body.nextCursor)).cursor;

  const mine = await app.customer(c.users.partnerASales, { name: `Partner A Kunde ${Date.now()}` });
  const r1 = await app.rest(c.users.partnerASales, 'PATCH', `/v1/customers/${mine.id}`, { website: 'https://a.example' });
  t.equal(r1.status, 200, r1.raw);
  await app.customer(c.users.partnerBSales);
  await app.customer(c.users.sales);

  const { events, cursor } = await drain(app, c.users.partnerAManager, from);
  t.same(events.map((e) => [e.type, e.entityId]), [
    ['customer.created', mine.id],
    ['customer.updated', mine.id],
  ], "only partner A's customer, in order");
  checkCatalogue(t, events);
  const [created, updated] = events;
  t.equal(created.data.after.name, mine.name);
  t.equal(created.data.before, null);
  t.equal(updated.data.after.website, 'https://a.example');
  t.equal(updated.data.before.website, null);
  t.equal(created.actorId, c.users.partnerASales.id);
  t.match(created.occurredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  // The partner roles hide the company's system fields: absent from data, not blanked.
  t.notOk('externalIds' in created.data.after, 'hidden externalIds absent');
  t.notOk('creditStatus' in created.data.after, 'hidden creditStatus absent');
  t.notOk('nameNorm' in created.data.after, 'no internal column');

  // Resuming after the last event read gives nothing new, and a position to resume from (the same
  // one, or later: the horizon moves with every transaction that ends).
  const again = await app.rest(c.users.partnerAManager, 'GET', `/v1/events?after=${cursor}`);
  t.same(again.body.data, []);
  t.type(again.body.nextCursor, 'string');
  // An event's id is its position: resuming after the first gives the second.
  const afterFirst = await app.rest(c.users.partnerAManager, 'GET', `/v1/events?after=${created.id}&limit=1`);
  t.same(afterFirst.body.data.map((e: { id: string }) => e.id), [updated.id]);

  // Partner B's manager never sees partner A's events.
  const b = await drain(app, c.users.partnerBManager, from);
  t.notOk(b.events.some((e) => e.entityId === mine.id), "another partner's events are never visible");

  // Through GraphQL: the same events.
  const g = await app.gql(c.users.partnerAManager, 'query($after: String) { events(after: $after, first: 10) { edges { cursor node { id type entityId data } } pageInfo { hasNextPage endCursor } } }', { after: from });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.events.edges.map((e: any) => e.node), events.map((e) => ({ id: e.id, type: e.type, entityId: e.entityId, data: e.data })));
  t.equal(g.data.events.pageInfo.hasNextPage, false);
  t.type(g.data.events.pageInfo.endCursor, 'string', 'endCursor always present');
});

t.test('types filter: exact types and <entity>.* patterns', async (t) => {
  const c = await company(app);
  const from = (await drain(app, c.users.partnerAManager)).cursor;
  const cu = await app.customer(c.users.partnerASales);
  await app.rest(c.users.partnerASales, 'POST', `/v1/customers/${cu.id}/contacts`, { name: 'Eva Kontakt' });
  const onlyContacts = await drain(app, c.users.partnerAManager, from, 'contact.*');
  t.same(onlyContacts.events.map((e) => e.type), ['contact.created']);
  checkCatalogue(t, onlyContacts.events);
  const both = await drain(app, c.users.partnerAManager, from, 'customer.created,contact.created');
  t.same(both.events.map((e) => e.type), ['customer.created', 'contact.created']);
  const g = await app.gql(c.users.partnerAManager, 'query($after: String) { events(after: $after, types: ["contact.*"]) { edges { node { type } } } }', { after: from });
  t.same(g.data.events.edges.map((e: any) => e.node.type), ['contact.created']);
});

t.test('a won opportunity carries what an ERP needs: amount, currency, owner, the customer and its external ids', async (t) => {
  const c = await company(app);
  const from = (await drain(app, c.users.integration)).cursor;
  const cu = await app.customer(c.users.sales, { externalIds: { sap: `S-${Date.now()}` } });
  const { opportunity, moveOpportunity } = await import('../../helpers/factories.js');
  const o = await opportunity(app, c.users.sales, cu.id, { amount: '1200.50', currency: 'EUR' });
  await moveOpportunity(app, c.users.sales, o, 'WON');
  const { events } = await drain(app, c.users.integration, from, 'opportunity.won');
  const won = events.find((e) => e.entityId === o.id);
  t.ok(won, 'opportunity.won in the feed');
  checkCatalogue(t, events);
  t.equal(won.data.after.amount, '1200.50');
  t.equal(won.data.after.currency, 'EUR');
  t.equal(won.data.after.ownerUserId, c.users.sales.id);
  t.equal(won.data.after.status, 'WON');
  t.same(won.data.customer, { id: cu.id, name: cu.name, externalIds: { sap: cu.externalIds?.sap ?? (await app.rest(c.users.integration, 'GET', `/v1/customers/${cu.id}`)).body.externalIds.sap } });
});

t.test('bad input answers 400 naming the parameter; no permission 403', async (t) => {
  const c = await company(app);
  const who = c.users.integration;
  const bad = async (q: string, path: string) => {
    const r = await app.rest(who, 'GET', `/v1/events?${q}`);
    t.equal(r.status, 400, `${q}: ${r.raw}`);
    t.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.ok(r.body.errors?.some((e: { path: string }) => e.path === path), `${q} names ${path}: ${r.raw}`);
  };
  await bad('types=customer.exploded', 'types');
  await bad('types=nope.*', 'types');
  await bad('limit=0', 'limit');
  await bad('limit=501', 'limit');
  await bad('limit=abc', 'limit');
  await bad('after=!!!', 'after');
  await bad(`after=${Buffer.from('["x",1]').toString('base64url')}`, 'after');
  await bad(`after=${Buffer.from('[1,1]').toString('base64url')}`, 'after');
  await bad(`after=${'A'.repeat(3000)}`, 'after');
  await bad('types=%00', 'types.0');
  await bad('since=1', 'since');
  const g = await app.gql(who, '{ events(types: ["nope"]) { edges { node { id } } } }');
  t.equal(g.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  t.same(g.errors?.[0]?.extensions?.errors, [{ path: 'types', message: g.errors?.[0]?.extensions?.errors[0].message }]);
  const g2 = await app.gql(who, '{ events(first: 0) { edges { node { id } } } }');
  t.same(g2.errors?.[0]?.extensions?.errors?.[0]?.path, 'first');

  const sales = await app.rest(c.users.sales, 'GET', '/v1/events');
  t.equal(sales.status, 403, 'a salesperson holds no events:read');
  t.equal((await app.gql(c.users.sales, '{ events { edges { node { id } } } }')).errors?.[0]?.extensions?.code, 'FORBIDDEN');
  t.equal((await app.rest(null, 'GET', '/v1/events')).status, 401);
});

t.test('a follower never misses an event of a transaction that commits after a later one', { skip: app.database.kind !== 'postgres' && 'needs two connections (PostgreSQL)' }, async (t) => {
  const c = await company(app);
  const unit = c.partnerA;
  const reader = c.users.partnerAManager;
  const cu = await app.customer(c.users.partnerASales);
  const from = (await drain(app, reader)).cursor;
  const pool = (app.db as unknown as { $client: import('pg').Pool }).$client;
  const first = await pool.connect();
  const second = await pool.connect();
  const insert = (client: import('pg').PoolClient, label: string) =>
    client.query(
      `INSERT INTO events (type, entity_type, entity_id, owner_user_id, owner_unit_id, actor_id, payload)
       VALUES ('customer.updated', 'customer', $1, $2, $3, $2, $4) RETURNING id`,
      [cu.id, c.users.partnerASales.id, unit.id, JSON.stringify({ before: null, after: { website: label } })],
    );
  try {
    await first.query('BEGIN');
    const a = await insert(first, 'https://first.example');
    await second.query('BEGIN');
    const b = await insert(second, 'https://second.example');
    t.ok(Number(a.rows[0].id) < Number(b.rows[0].id), 'the first transaction holds the lower id');
    await second.query('COMMIT');
    // The later id is committed, the earlier not yet: a reader polling now must not move past it.
    const mid = await drain(app, reader, from);
    t.same(mid.events, [], 'nothing is served while an earlier transaction runs');
    await first.query('COMMIT');
    // Transactions of the whole cluster (other databases too) hold the horizon back for a moment:
    // the follower keeps polling from where it stood, as a real one does.
    const end = { events: [] as any[], cursor: mid.cursor };
    for (let i = 0; i < 100 && end.events.length < 2; i++) {
      const more = await drain(app, reader, end.cursor);
      end.events.push(...more.events);
      end.cursor = more.cursor;
      if (end.events.length < 2) await new Promise((r) => setTimeout(r, 100));
    }
    t.same(end.events.map((e) => e.data.after.website), ['https://first.example', 'https://second.example'], 'both, in id order within the feed');
  } finally {
    first.release();
    second.release();
  }
  void sql;
});

t.test('access matrix of the feed: who reads the events of which owner', async (t) => {
  const c = await company(app);
  const u = c.users;
  const owners = { sales: u.sales, otherSales: u.otherSales, partnerASales: u.partnerASales, partnerASubSales: u.partnerASubSales, partnerBSales: u.partnerBSales } as const;
  const from: Record<string, string | undefined> = {};
  const readers = ['admin', 'executive', 'integration', 'partnerAManager', 'partnerBManager'] as const;
  for (const r of readers) from[r] = (await drain(app, u[r], undefined, undefined, 500)).cursor;
  const made: Record<string, string> = {};
  for (const [k, who] of Object.entries(owners)) made[k] = (await app.customer(who)).id;
  // A share opens the record, not its past events: partner A's manager gets a company customer shared.
  const { share } = await import('../../helpers/factories.js');
  await share(app, made.sales as string, { toUserId: u.partnerAManager.id }, u.branchManager);

  const expected: Record<(typeof readers)[number], (keyof typeof owners)[]> = {
    admin: ['sales', 'otherSales', 'partnerASales', 'partnerASubSales', 'partnerBSales'],
    executive: ['sales', 'otherSales', 'partnerASales', 'partnerASubSales', 'partnerBSales'],
    integration: ['sales', 'otherSales', 'partnerASales', 'partnerASubSales', 'partnerBSales'],
    partnerAManager: ['partnerASales', 'partnerASubSales'],
    partnerBManager: ['partnerBSales'],
  };
  for (const r of readers) {
    const { events } = await drain(app, u[r], from[r], 'customer.created', 500);
    const seen = Object.entries(made).filter(([, id]) => events.some((e) => e.entityId === id)).map(([k]) => k);
    t.same(seen, expected[r], `${r} reads the events of exactly these owners`);
    const gIds: string[] = [];
    let a = from[r];
    for (let i = 0; i < 50; i++) {
      const g = await app.gql(u[r], 'query($a: String) { events(after: $a, types: ["customer.created"], first: 500) { edges { node { entityId } } pageInfo { hasNextPage endCursor } } }', { a });
      gIds.push(...g.data.events.edges.map((e: any) => e.node.entityId));
      a = g.data.events.pageInfo.endCursor;
      if (!g.data.events.pageInfo.hasNextPage) break;
    }
    const gSeen = Object.entries(made).filter(([, id]) => gIds.includes(id)).map(([k]) => k);
    t.same(gSeen, expected[r], `${r}: the same through GraphQL`);
  }
  for (const r of ['regionManager', 'branchManager', 'marketing', 'sales', 'service', 'partnerASales', 'otherSales'] as const) {
    t.equal((await app.rest(u[r], 'GET', '/v1/events')).status, 403, `${r} holds no events:read`);
  }
});
