import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import { createSigner } from 'fast-jwt';
import t from 'tap';
import WebSocket from 'ws';
import { buildTestApp, company, TEST_SECRET, type User } from '../../helpers/app.js';
import { privatePostgres } from '../../helpers/private-postgres.js';

// Live updates: GraphQL subscriptions over graphql-ws, tested with the maintained `graphql-ws` client.
// With DATABASE_URL two app instances share one PostgreSQL and a subscriber on one sees a write made
// through the other (woken by the outbox's NOTIFY); on the embedded database there is one instance.
// The PostgreSQL is the test's own (helpers/private-postgres.ts): the feed waits for every older
// transaction of the cluster, and on a shared server another database's long transaction would
// decide this test's timing.

const shared = !!process.env.DATABASE_URL;
const pg = shared ? await privatePostgres() : null;
const a = await buildTestApp(pg ? { DATABASE_URL: pg.url } : {});
const b = pg ? await buildTestApp({ DATABASE_URL: pg.url }) : a;
t.teardown(async () => {
  if (b !== a) await b.close();
  await a.close();
  await pg?.stop();
});
await a.app.listen({ port: 0, host: '127.0.0.1' });
const urlA = `ws://127.0.0.1:${(a.app.server.address() as AddressInfo).port}/graphql`;

const QUERY = `subscription ($types: [String!], $after: String) { events(types: $types, after: $after) { id type entityType entityId actorId requestId data } }`;

type Got = { events: any[]; errors: unknown[]; connected: boolean; closed: { code?: number; reason?: string } | null; client: Client; dispose: () => void };

/** A subscription as `who` (or with raw connection params); collects what arrives. */
function subscribe(params: Record<string, unknown>, variables: Record<string, unknown> = {}): Got {
  const got: Got = { events: [], errors: [], connected: false, closed: null, client: null as unknown as Client, dispose: () => undefined };
  got.client = createClient({
    url: urlA,
    webSocketImpl: WebSocket,
    connectionParams: params,
    retryAttempts: 0,
    lazy: true,
    on: {
      connected: () => {
        got.connected = true;
      },
      closed: (e) => {
        const ev = e as { code?: number; reason?: string };
        got.closed = { code: ev.code, reason: ev.reason };
      },
    },
  });
  got.dispose = got.client.subscribe(
    { query: QUERY, variables },
    {
      next: (v) => {
        if (v.errors) got.errors.push(...v.errors);
        else got.events.push((v.data as { events: unknown }).events);
      },
      error: (e) => got.errors.push(e),
      complete: () => undefined,
    },
  );
  return got;
}
const as = (u: User, variables: Record<string, unknown> = {}) => subscribe({ authorization: `Bearer ${u.token}` }, variables);

async function until(what: string, ok: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Subscribed and caught up: the server has answered connection_ack and the subscription is running. */
async function ready(g: Got): Promise<void> {
  await until('connection_ack', () => g.connected || g.errors.length > 0);
  // The subscription starts right after the ack; a short pause lets the server take its position.
  await new Promise((r) => setTimeout(r, 300));
}

const c = await company(a);

t.test('a subscriber on instance A sees a write made through instance B, live, with its request id', async (t) => {
  const watcher = as(c.users.executive, { types: ['customer.*'] });
  t.teardown(() => watcher.client.dispose());
  await ready(watcher);
  t.ok(watcher.connected, 'connected');
  t.same(watcher.errors, []);

  const name = `Live ${Date.now()}`;
  const made = await b.rest(c.users.sales, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ORGANIZATION', name }, { 'x-request-id': 'live-req-1' });
  t.equal(made.status, 201, made.raw);
  const started = Date.now();
  await until('the event from B', () => watcher.events.some((e) => e.entityId === made.body.id));
  t.ok(Date.now() - started < 5000, 'arrives within seconds');
  const e = watcher.events.find((x) => x.entityId === made.body.id);
  t.equal(e.type, 'customer.created');
  t.equal(e.actorId, c.users.sales.id);
  t.equal(e.requestId, 'live-req-1', 'the request id of the write');
  t.equal(e.data.after.name, name);

  // The same event in the feed, with the same id and request id.
  const feed = await a.rest(c.users.executive, 'GET', `/v1/events?types=customer.created&limit=500`);
  t.equal(feed.status, 200, feed.raw);
  let found = feed.body.data.find((x: any) => x.entityId === made.body.id);
  let cursor = feed.body.nextCursor;
  for (let i = 0; !found && i < 50; i++) {
    const next = await a.rest(c.users.executive, 'GET', `/v1/events?types=customer.created&limit=500&after=${cursor}`);
    found = next.body.data.find((x: any) => x.entityId === made.body.id);
    if (next.body.nextCursor === cursor) break;
    cursor = next.body.nextCursor;
  }
  t.ok(found, 'in the feed');
  t.equal(found?.id, e.id, 'same position');
  t.equal(found?.requestId, 'live-req-1');
  t.equal(shared, b !== a, shared ? 'two instances on one PostgreSQL' : 'embedded: one instance');
});

t.test("a partner's subscriber never sees another partner's or the company's events; hidden fields are absent", async (t) => {
  const partnerA = as(c.users.partnerAManager);
  const partnerB = as(c.users.partnerBManager);
  t.teardown(() => {
    partnerA.client.dispose();
    partnerB.client.dispose();
  });
  await Promise.all([ready(partnerA), ready(partnerB)]);

  const ours = await b.rest(c.users.partnerASales, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ORGANIZATION', name: `PA ${Date.now()}` });
  t.equal(ours.status, 201, ours.raw);
  const theirs = await b.rest(c.users.partnerBSales, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ORGANIZATION', name: `PB ${Date.now()}` });
  const company_ = await b.rest(c.users.sales, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ORGANIZATION', name: `Co ${Date.now()}` });
  // A credit status the partner roles hide, written by the company's integration on A's customer.
  const credit = await b.rest(c.users.integration, 'PATCH', `/v1/customers/${ours.body.id}`, { creditStatus: 'WATCH' }, { 'content-type': 'application/merge-patch+json', 'if-match': `"${ours.body.version}"` });
  t.equal(credit.status, 200, credit.raw);
  const marker = await b.rest(c.users.partnerBSales, 'PATCH', `/v1/customers/${theirs.body.id}`, { website: 'https://b.example' }, { 'content-type': 'application/merge-patch+json', 'if-match': `"${theirs.body.version}"` });
  t.equal(marker.status, 200, marker.raw);

  await until('partner A sees its update', () => partnerA.events.filter((e) => e.entityId === ours.body.id).length >= 2);
  await until('partner B sees its own update', () => partnerB.events.filter((e) => e.entityId === theirs.body.id).length >= 2);
  // Everything committed before B's last write has been read by both by now (one feed order).
  await new Promise((r) => setTimeout(r, 300));
  const ids = (g: Got) => new Set(g.events.map((e) => e.entityId));
  t.ok(ids(partnerA).has(ours.body.id));
  t.notOk(ids(partnerA).has(theirs.body.id), "A never sees B's customer");
  t.notOk(ids(partnerA).has(company_.body.id), "A never sees the company's customer");
  t.notOk(ids(partnerB).has(ours.body.id), "B never sees A's customer");
  t.notOk(ids(partnerB).has(company_.body.id), "B never sees the company's customer");
  for (const e of partnerA.events) {
    for (const side of [e.data.before, e.data.after]) {
      if (side) for (const hidden of ['creditStatus', 'creditLimit', 'creditCurrency', 'externalIds', 'valueClass']) t.notOk(hidden in side, `${e.type}: ${hidden} hidden`);
    }
  }
});

t.test('a bad, forged or missing token at connection_init is refused', async (t) => {
  const forged = createSigner({ key: 'another-secret-that-is-long-enough-for-hs256-xyz', expiresIn: 60_000 })({ sub: c.users.admin.id });
  const expired = createSigner({ key: TEST_SECRET })({ sub: c.users.admin.id, exp: Math.floor(Date.now() / 1000) - 60 });
  const cases: [string, Record<string, unknown>][] = [
    ['no credentials', {}],
    ['garbage', { authorization: 'Bearer not-a-token' }],
    ['forged signature', { authorization: `Bearer ${forged}` }],
    ['expired', { authorization: `Bearer ${expired}` }],
    ['unknown API key', { 'x-api-key': 'keel_nothing_here' }],
  ];
  for (const [what, params] of cases) {
    const g = subscribe(params);
    await until(`${what} refused`, () => g.closed !== null || g.errors.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    t.notOk(g.connected, `${what}: no connection_ack`);
    t.same(g.events, [], `${what}: nothing delivered`);
    g.client.dispose();
  }
  // A plain HTTP GraphQL request with an Upgrade header but no token is not let through.
  const sneaky = await a.inject({ method: 'GET', url: '/graphql?query=%7Bme%7Bid%7D%7D', headers: { upgrade: 'websocket', connection: 'upgrade' } });
  t.equal(sneaky.statusCode, 401, 'HTTP without a token stays 401');
  // The same credentials in `headers`, as some clients send them, are accepted.
  const ok = subscribe({ headers: { Authorization: `Bearer ${c.users.admin.token}` } });
  await ready(ok);
  t.ok(ok.connected, 'a valid token under headers connects');
  ok.client.dispose();
});

t.test('bad arguments and missing permission are refused, naming the argument', async (t) => {
  const unknown = as(c.users.admin, { types: ['customer.created', 'customer.exploded'] });
  await until('error', () => unknown.errors.length > 0);
  const err = JSON.stringify(unknown.errors);
  t.match(err, /BAD_USER_INPUT/, 'BAD_USER_INPUT');
  t.match(err, /"path":"types"/, 'names types');
  unknown.client.dispose();

  const badCursor = as(c.users.admin, { after: 'not-a-cursor' });
  await until('error', () => badCursor.errors.length > 0);
  t.match(JSON.stringify(badCursor.errors), /"path":"after"/, 'names after');
  badCursor.client.dispose();

  const sales = as(c.users.sales);
  await until('error', () => sales.errors.length > 0);
  t.match(JSON.stringify(sales.errors), /FORBIDDEN/, 'a role without events:read is refused');
  sales.client.dispose();
});

t.test('after= resumes: a subscriber that reconnects gets what it missed, in order', async (t) => {
  const first = as(c.users.admin, { types: ['customer.updated'] });
  await ready(first);
  const cust = await a.customer(c.users.sales);
  const patch = (website: string, v: number) => b.rest(c.users.sales, 'PATCH', `/v1/customers/${cust.id}`, { website }, { 'content-type': 'application/merge-patch+json', 'if-match': `"${v}"` });
  t.equal((await patch('https://one.example', 1)).status, 200);
  await until('first update', () => first.events.some((e) => e.entityId === cust.id));
  const last = first.events.filter((e) => e.entityId === cust.id).at(-1);
  first.client.dispose();
  t.equal((await patch('https://two.example', 2)).status, 200);
  t.equal((await patch('https://three.example', 3)).status, 200);
  const again = as(c.users.admin, { types: ['customer.updated'], after: last.id });
  t.teardown(() => again.client.dispose());
  await until('the missed updates', () => again.events.filter((e) => e.entityId === cust.id).length >= 2);
  t.same(again.events.filter((e) => e.entityId === cust.id).map((e) => e.data.after.website), ['https://two.example', 'https://three.example'], 'missed events, in order, none twice');
});
