import { readFileSync } from 'node:fs';
import { buildSchema, getNamedType, isObjectType } from 'graphql';
import t from 'tap';
import { parse } from 'yaml';
import { buildTestApp, company, type User } from '../helpers/app.js';
import { action, contact, delegation, handoff, interaction, lifecycleMove, opportunity, share, testPipeline } from '../helpers/factories.js';
import { problemOf } from '../helpers/problems.js';

// List counts, for every list there is: each GET route of openapi.yaml that answers a page takes
// `count=true` and then answers `totalCount`, the number of rows its pages hold when walked to the
// end, within the caller's visibility and with the list's own filters; every GraphQL connection
// answers `totalCount` as its REST list does. A list added later is walked here without a line
// more when it has no path parameter; one under /v1/<parent>/{id}/ needs its parent in parents().

const openapi = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses?: Record<string, any> }>>;
};
const sdl = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

// The list routes: a GET whose 200 answer is a page (data, nextCursor, totalCount). Those without
// `limit` answer the whole list in one page (org units, roles, pipelines).
const props = (op: { responses?: Record<string, any> }) => op.responses?.['200']?.content?.['application/json']?.schema?.properties ?? {};
const LIST_PATHS = Object.entries(openapi.paths)
  .filter(([, ops]) => ops.get && 'data' in props(ops.get))
  .map(([path]) => path);
const WHOLE = new Set(LIST_PATHS.filter((path) => !openapi.paths[path]?.get?.parameters?.some((p) => p.name === 'limit')));

const app = await buildTestApp();
t.teardown(() => app.close());
const co = await company(app);
const { admin, partnerASales, partnerASubSales, partnerBSales, sales, sales2 } = co.users;
const pipeline = await testPipeline(app);

// A partner's book and a company seller's book, each with a row or more in every list.
async function book(who: User, peer: User, manager: User) {
  const c = await app.customer(who, { lifecycleStage: 'SUSPECT' });
  await app.customer(who);
  await lifecycleMove(app, who, c.id, 'PROSPECT');
  for (let i = 0; i < 3; i++) await contact(app, who, c.id);
  const o = await opportunity(app, who, c.id, { pipelineId: pipeline.id, stage: 'NEGOTIATION' });
  const i1 = await interaction(app, who, c.id, { channel: 'EMAIL', opportunityId: o.id });
  await interaction(app, who, c.id);
  await interaction(app, who, c.id, { opportunityId: o.id });
  for (const [n, subject] of ['Second', 'Third'].entries()) {
    const r = await app.rest(who, 'PATCH', `/v1/interactions/${i1.id}`, { subject }, { 'if-match': `"${n + 1}"` });
    if (r.status !== 200) throw new Error(r.raw);
  }
  for (let i = 0; i < 3; i++) await action(app, who, { customerId: c.id });
  for (const amount of ['10.00', '20.00', '30.00']) {
    const r = await app.rest(who, 'POST', `/v1/customers/${c.id}/costs`, { kind: 'SERVICE', amount, currency: 'EUR' });
    if (r.status !== 201) throw new Error(r.raw);
  }
  await action(app, who, { opportunityId: o.id }, { status: 'DONE' });
  await action(app, who, { opportunityId: o.id });
  await delegation(app, who, peer, { by: manager });
  // A webhook subscription of the book's side (a public target that is never called: jobs are off).
  const owner = manager.roles.includes('partner_manager') ? manager : admin;
  const w = await app.rest(owner, 'POST', '/v1/webhooks', { url: 'https://93.184.215.14/hooks', types: ['customer.created'], active: false });
  if (w.status !== 201) throw new Error(w.raw);
  t.teardown(() => app.rest(owner, 'DELETE', `/v1/webhooks/${w.body.id}`));
  return { customer: c, opportunity: o, interaction: i1, webhook: w.body as { id: string } };
}
const a = await book(partnerASales, partnerASubSales, co.users.partnerAManager);
const s = await book(sales, sales2, co.users.branchManager);
await share(app, a.customer.id, { toUnitId: co.partnerASub.id });
await share(app, s.customer.id, { toUserId: partnerBSales.id });
await handoff(app, sales, (await app.customer(sales, { lifecycleStage: 'PROSPECT' })).id, { toUserId: sales2.id });

// The records a route's {id} stands for: the partner's (the admin reads them too) or the seller's.
const parents = (b: typeof a): Record<string, string> => ({
  '/v1/customers/{id}/': b.customer.id,
  '/v1/opportunities/{id}/': b.opportunity.id,
  '/v1/interactions/{id}/': b.interaction.id,
  '/v1/webhooks/{id}/': b.webhook.id,
});
function concrete(path: string, of = a): string {
  if (!path.includes('{')) return path;
  const hit = Object.entries(parents(of)).find(([prefix]) => path.startsWith(prefix));
  if (!hit) throw new Error(`${path}: add the record its {id} stands for to parents()`);
  return path.replace('{id}', hit[1]);
}

const withQuery = (path: string, q: string) => `${path}${path.includes('?') ? '&' : '?'}${q}`;

async function get(who: User, url: string) {
  const r = await app.rest(who, 'GET', url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.raw}`);
  return r.body as { data: unknown[]; nextCursor: string | null; totalCount?: number };
}

// The rows of all pages, two at a time (a hundred at a time for a long list).
async function walk(who: User, path: string, total: number): Promise<number> {
  if (WHOLE.has(path)) return (await get(who, path)).data.length;
  const limit = total > 100 ? 100 : 2;
  let n = 0;
  let cursor: string | null = null;
  do {
    const page = await get(who, withQuery(path, `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`));
    n += page.data.length;
    cursor = page.nextCursor;
  } while (cursor);
  return n;
}

// Other files write to the same database meanwhile: a count is compared with a walk that no write
// came between (the count the same before and after it).
async function countAndWalk(who: User, path: string): Promise<{ count: number; rows: number }> {
  for (let attempt = 0; ; attempt++) {
    const one = WHOLE.has(path) ? 'count=true' : 'count=true&limit=1';
    const before = (await get(who, withQuery(path, one))).totalCount;
    if (typeof before !== 'number') throw new Error(`${path}: no totalCount`);
    const rows = await walk(who, path, before);
    const after = (await get(who, withQuery(path, one))).totalCount;
    if ((before === after && rows === before) || attempt === 4) return { count: before, rows };
  }
}

// Lists the walk also reads filtered, so the count is seen to apply the list's own filters.
const FILTERED = [
  `/v1/customers?ownerUnitId=${co.partnerA.id}`,
  '/v1/customers?lifecycleStage=PROSPECT',
  `/v1/opportunities?customerId=${a.customer.id}`,
  `/v1/users?unitId=${co.partnerA.id}`,
  `/v1/shares?resourceId=${s.customer.id}`,
  `/v1/delegations?fromUserId=${partnerASales.id}`,
  '/v1/handoffs?box=sent',
  `/v1/customers/${a.customer.id}/interactions?channel=EMAIL`,
  `/v1/customers/${a.customer.id}/timeline?types=INTERACTION,STAGE_TRANSITION`,
  `/v1/customers/${a.customer.id}/actions?status=OPEN`,
  `/v1/opportunities/${a.opportunity.id}/actions?status=DONE`,
];

t.test('the walk finds the lists of every module', async (t) => {
  for (const path of ['/v1/customers', '/v1/users', '/v1/org-units', '/v1/roles', '/v1/pipelines', '/v1/agenda', '/v1/customers/{id}/timeline', '/v1/interactions/{id}/revisions']) {
    t.ok(LIST_PATHS.includes(path), path);
  }
  t.ok(LIST_PATHS.length >= 20, `${LIST_PATHS.length} list routes`);
  for (const path of LIST_PATHS) {
    const op = openapi.paths[path]?.get;
    t.ok(op?.parameters?.some((p) => p.name === 'count' && p.in === 'query'), `${path} documents ?count`);
    t.ok('totalCount' in props(op ?? {}), `${path} documents totalCount`);
  }
});

for (const [name, who] of [
  ['an admin', admin],
  ['a partner', partnerASales],
  ['a company seller', sales],
] as const) {
  t.test(`${name}: every list's totalCount is the rows of all its pages`, async (t) => {
    const filtered = who === sales ? FILTERED.filter((path) => !path.includes(a.customer.id) && !path.includes(a.opportunity.id)) : FILTERED;
    for (const path of [...LIST_PATHS.map((path) => concrete(path, who === sales ? s : a)), ...filtered]) {
      // A list the caller may not read at all is refused whether or not it asks for a count.
      const refused = await app.rest(who, 'GET', path);
      if (refused.status === 403) {
        t.equal(problemOf(await app.rest(who, 'GET', withQuery(path, 'count=true')), 403), null, `${path}: 403 with a count too`);
        continue;
      }
      const { count, rows } = await countAndWalk(who, path);
      t.equal(count, rows, `${path}: ${rows} rows`);
      const plain = await get(who, path);
      t.notOk('totalCount' in plain, `${path}: no count unless asked`);
      const without = await get(who, withQuery(path, 'count=false'));
      t.notOk('totalCount' in without, `${path}: count=false counts nothing`);
    }
  });
}

t.test('a partner counts only its own rows; the lists have rows to count', async (t) => {
  const total = async (who: User, path: string) => (await get(who, withQuery(concrete(path), 'count=true'))).totalCount;
  const mine: [string, number][] = [
    ['/v1/customers', 2],
    ['/v1/opportunities', 1],
    ['/v1/delegations', 1],
    ['/v1/agenda', 4],
    ['/v1/customers/{id}/contacts', 3],
    ['/v1/customers/{id}/interactions', 3],
    ['/v1/customers/{id}/interactions?channel=EMAIL', 1],
    // Its own five, and the done key action the move to NEGOTIATION needed (the stage's gate).
    ['/v1/customers/{id}/actions', 6],
    ['/v1/customers/{id}/actions?status=OPEN', 4],
    // The share on its customer: whoever may edit a record sees its shares.
    ['/v1/customers/{id}/shares', 1],
    ['/v1/opportunities/{id}/interactions', 2],
    ['/v1/opportunities/{id}/actions', 3],
    ['/v1/interactions/{id}/revisions', 2],
    [`/v1/customers?ownerUnitId=${co.partnerB.id}`, 0],
  ];
  for (const [path, n] of mine) t.equal(await total(partnerASales, path), n, `partner: ${path}`);
  // The admin sees the partner's customer as the partner does, and more besides.
  for (const [path, n] of mine.filter(([p]) => p.includes('{id}'))) t.equal(await total(admin, path), n, `admin: ${path}`);
  t.ok((await total(admin, '/v1/customers'))! > 2, 'admin: more customers than the partner');
  t.equal(await total(partnerBSales, '/v1/shares'), 1, 'partner B: the share granted to it');
  t.equal(await total(partnerBSales, '/v1/customers'), 1, 'partner B: the customer shared with it');
  t.equal(await total(sales2, '/v1/handoffs'), 1, 'the inbox of the handoff');
  t.equal(await total(sales, '/v1/handoffs?box=sent'), 1, 'the sender');
  // Another's record: 404 with or without a count, nothing counted.
  const other = await app.rest(partnerBSales, 'GET', `/v1/customers/${a.customer.id}/interactions?count=true`);
  t.equal(problemOf(other, 404), null);
  t.notOk(other.raw.includes('totalCount'));
});

t.test('count takes true or false only: anything else is 400 naming count', async (t) => {
  for (const path of LIST_PATHS.map((path) => concrete(path))) {
    for (const bad of ['maybe', '1', '', 'TRUE']) {
      const r = await app.rest(admin, 'GET', withQuery(path, `count=${bad}`));
      t.equal(problemOf(r, 400, ['count']), null, `${path}?count=${bad}`);
    }
  }
});

// ---- GraphQL -------------------------------------------------------------------------------------

// Each connection field with the REST list that answers the same rows.
const q = (s: string) => JSON.stringify(s);
const GRAPHQL: { field: string; query: string; pick: (d: any) => number; rest: string }[] = [
  { field: 'Query.users', query: '{ users(first: 1) { totalCount } }', pick: (d) => d.users.totalCount, rest: '/v1/users' },
  { field: 'Query.customers', query: `{ customers(first: 1, filter: { ownerUnitId: ${q(co.partnerA.id)} }) { totalCount } }`, pick: (d) => d.customers.totalCount, rest: `/v1/customers?ownerUnitId=${co.partnerA.id}` },
  { field: 'Query.shares', query: `{ shares(first: 1, filter: { resourceId: ${q(s.customer.id)} }) { totalCount } }`, pick: (d) => d.shares.totalCount, rest: `/v1/shares?resourceId=${s.customer.id}` },
  { field: 'Query.interactions', query: `{ interactions(customerId: ${q(a.customer.id)}, first: 1, filter: { channel: EMAIL }) { totalCount } }`, pick: (d) => d.interactions.totalCount, rest: `/v1/customers/${a.customer.id}/interactions?channel=EMAIL` },
  { field: 'Query.interactions', query: `{ interactions(opportunityId: ${q(a.opportunity.id)}, first: 1) { totalCount } }`, pick: (d) => d.interactions.totalCount, rest: `/v1/opportunities/${a.opportunity.id}/interactions` },
  { field: 'Query.handoffs', query: '{ handoffs(first: 1, filter: { box: SENT }) { totalCount } }', pick: (d) => d.handoffs.totalCount, rest: '/v1/handoffs?box=sent' },
  { field: 'Query.delegations', query: `{ delegations(first: 1, filter: { fromUserId: ${q(partnerASales.id)} }) { totalCount } }`, pick: (d) => d.delegations.totalCount, rest: `/v1/delegations?fromUserId=${partnerASales.id}` },
  { field: 'Query.opportunities', query: `{ opportunities(first: 1, filter: { customerId: ${q(a.customer.id)} }) { totalCount } }`, pick: (d) => d.opportunities.totalCount, rest: `/v1/opportunities?customerId=${a.customer.id}` },
  { field: 'Query.plans', query: '{ plans(first: 1) { totalCount } }', pick: (d) => d.plans.totalCount, rest: '/v1/plans' },
  { field: 'Query.agenda', query: '{ agenda(first: 1) { totalCount } }', pick: (d) => d.agenda.totalCount, rest: '/v1/agenda' },
  { field: 'Query.contacts', query: `{ contacts(first: 1, filter: { customerId: ${q(a.customer.id)} }) { totalCount } }`, pick: (d) => d.contacts.totalCount, rest: `/v1/contacts?customerId=${a.customer.id}` },
  { field: 'Query.claims', query: '{ claims(first: 1) { totalCount } }', pick: (d) => d.claims.totalCount, rest: '/v1/claims' },
  { field: 'Query.allocationRules', query: '{ allocationRules(first: 1) { totalCount } }', pick: (d) => d.allocationRules.totalCount, rest: '/v1/allocation-rules' },
  { field: 'Query.customerCosts', query: `{ customerCosts(customerId: ${q(a.customer.id)}, first: 1) { totalCount } }`, pick: (d) => d.customerCosts.totalCount, rest: `/v1/customers/${a.customer.id}/costs` },
  { field: 'Customer.interactions', query: `{ customer(id: ${q(a.customer.id)}) { interactions(first: 1) { totalCount } } }`, pick: (d) => d.customer.interactions.totalCount, rest: `/v1/customers/${a.customer.id}/interactions` },
  { field: 'Customer.timeline', query: `{ customer(id: ${q(a.customer.id)}) { timeline(first: 1) { totalCount } } }`, pick: (d) => d.customer.timeline.totalCount, rest: `/v1/customers/${a.customer.id}/timeline` },
  { field: 'Customer.timeline', query: `{ customer(id: ${q(a.customer.id)}) { timeline(first: 1, types: [INTERACTION]) { totalCount } } }`, pick: (d) => d.customer.timeline.totalCount, rest: `/v1/customers/${a.customer.id}/timeline?types=INTERACTION` },
  { field: 'Customer.opportunities', query: `{ customer(id: ${q(a.customer.id)}) { opportunities(first: 1) { totalCount } } }`, pick: (d) => d.customer.opportunities.totalCount, rest: `/v1/opportunities?customerId=${a.customer.id}` },
  { field: 'Customer.actions', query: `{ customer(id: ${q(a.customer.id)}) { actions(first: 1) { totalCount } } }`, pick: (d) => d.customer.actions.totalCount, rest: `/v1/customers/${a.customer.id}/actions` },
  { field: 'Opportunity.interactions', query: `{ opportunity(id: ${q(a.opportunity.id)}) { interactions(first: 1) { totalCount } } }`, pick: (d) => d.opportunity.interactions.totalCount, rest: `/v1/opportunities/${a.opportunity.id}/interactions` },
  { field: 'Opportunity.actions', query: `{ opportunity(id: ${q(a.opportunity.id)}) { actions(first: 1) { totalCount } } }`, pick: (d) => d.opportunity.actions.totalCount, rest: `/v1/opportunities/${a.opportunity.id}/actions` },
  { field: 'Query.orders', query: `{ orders(first: 1, filter: { customerId: ${q(a.customer.id)} }) { totalCount } }`, pick: (d) => d.orders.totalCount, rest: `/v1/orders?customerId=${a.customer.id}` },
  { field: 'Customer.orders', query: `{ customer(id: ${q(a.customer.id)}) { orders(first: 1) { totalCount } } }`, pick: (d) => d.customer.orders.totalCount, rest: `/v1/customers/${a.customer.id}/orders` },
  { field: 'Query.apiKeys', query: '{ apiKeys(first: 1, filter: { active: true }) { totalCount } }', pick: (d) => d.apiKeys.totalCount, rest: '/v1/api-keys?active=true' },
  { field: 'Query.audit', query: `{ audit(first: 1, filter: { entityId: ${q(a.customer.id)} }) { totalCount } }`, pick: (d) => d.audit.totalCount, rest: `/v1/audit?entityId=${a.customer.id}` },
];

t.test('every connection of schema.graphql has totalCount, and is compared with REST below', async (t) => {
  const covered = new Set(GRAPHQL.map((g) => g.field));
  for (const type of Object.values(sdl.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    if (type.name.endsWith('Connection')) t.equal(String(type.getFields().totalCount?.type), 'Int!', `${type.name}.totalCount: Int!`);
    for (const field of Object.values(type.getFields())) {
      if (getNamedType(field.type).name.endsWith('Connection')) t.ok(covered.has(`${type.name}.${field.name}`), `${type.name}.${field.name} is compared with its REST list`);
    }
  }
});

for (const [name, who] of [
  ['an admin', admin],
  ['a partner', partnerASales],
] as const) {
  t.test(`${name}: GraphQL totalCount equals the REST list's`, async (t) => {
    for (const g of GRAPHQL) {
      const r = await app.gql(who, g.query);
      // A list the caller may not read at all (a partner's salesperson and plans) is refused by both doors.
      if ((await app.rest(who, 'GET', g.rest)).status === 403) {
        t.same(r.codes, ['FORBIDDEN'], `${g.field}: refused by both doors`);
        continue;
      }
      t.same(r.errors, undefined, g.query);
      const rest = await get(who, withQuery(g.rest, 'count=true'));
      t.equal(g.pick(r.data), rest.totalCount, `${g.field}: ${g.rest}`);
    }
  });
}

t.test("GraphQL: another partner's record answers null, nothing counted", async (t) => {
  const r = await app.gql(partnerBSales, `{ customer(id: ${q(a.customer.id)}) { interactions(first: 1) { totalCount } } }`);
  t.equal(r.data?.customer ?? null, null);
  t.notOk(JSON.stringify(r.data ?? {}).includes('totalCount'));
});

t.test('GraphQL counts only when totalCount is selected, nested counts in one statement', async (t) => {
  const page = `customers(first: 5, filter: { ownerUnitId: ${q(co.partnerA.id)} })`;
  for (const [field, inner] of [
    ['interactions', 'interactions(first: 1)'],
    ['timeline', 'timeline(first: 1)'],
    ['opportunities', 'opportunities(first: 1)'],
    ['actions', 'actions(first: 1)'],
    ['orders', 'orders(first: 1)'],
  ]) {
    const without = await app.countStatements(() => app.gql(admin, `{ ${page} { edges { node { id ${inner} { edges { cursor } } } } } }`));
    const withCount = await app.countStatements(() => app.gql(admin, `{ ${page} { edges { node { id ${inner} { totalCount edges { cursor } } } } } }`));
    t.same(withCount.result.errors, undefined);
    const counts = withCount.result.data.customers.edges.map((e: any) => e.node[field!].totalCount);
    t.equal(counts.length, 2, `${field}: both of the partner's customers`);
    t.equal(withCount.statements, without.statements + 1, `${field}: one statement counts for every parent`);
  }
});
