import { sql } from 'drizzle-orm';
import tap from 'tap';
import { buildTestApp, company, type User } from '../../helpers/app.js';
import { contact, customRole, delegation, tag, testPipeline } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';
import { ids, type Row, syncChecker } from '../../helpers/sync-checks.js';

// Sync reads (api.md §1 Sync; docs/integration.md "Sync reads") on the remaining lists of mutable
// resources: plans, claims, allocation rules, delegations, API keys, webhooks, a customer's contacts,
// roles and pipelines. Each list is narrowed to this file's own records (a fresh unit, user, customer
// or partner), so the shared database's other records never enter the comparisons.

const app = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
tap.teardown(() => app.close());
const c = await company(app);
const { syncChecks } = syncChecker(app);
const edges = (list: string) => (d: any): Row[] => d[list].edges.map((e: { node: Row }) => e.node);
const EVER = 'updatedAfter=1990-01-01T00:00:00Z&sort=updatedAt&limit=200';

async function ok(who: User, method: string, path: string, body?: unknown, status = 200): Promise<any> {
  const res = await app.rest(who, method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${res.raw}`);
  return res.body;
}

tap.test("plans: made or changed after the mark; another partner's head sees none", async (t) => {
  const pipeline = await testPipeline(app);
  const head = c.users.branchManager;
  const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
  const plan = async (name: string) =>
    (await ok(head, 'POST', '/v1/plans', { unitId: c.branch.id, pipelineId: pipeline.id, periodStart: day(-10), periodEnd: day(20), target: { amount: '100000', currency: 'EUR' }, minSample: 1, name }, 201)).id as string;
  const a = await plan('First');
  const b = await plan('Second');
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/plans?unitId=${c.branch.id}${qs}`,
      gql: (filter, args) => `{ plans(filter: { unitId: "${c.branch.id}" ${filter} } ${args}) { totalCount edges { node { id updatedAt } } } }`,
      gqlRows: edges('plans'),
      reader: head,
      table: 'plans',
      column: 'updated_at',
    },
    a,
    b,
    async () => (await ok(head, 'PATCH', `/v1/plans/${a}`, { name: `Renamed ${tag()}` })).id,
  );
  const other = await app.rest(c.users.partnerBManager, 'GET', `/v1/plans?unitId=${c.branch.id}&${EVER}`);
  t.notOk(other.status === 200 && ids(other.body.data).length > 0, "another partner's head reads none of them");
});

tap.test("claims: decided after the mark shows up; another partner's head sees none", async (t) => {
  const seller = c.users.partnerASales;
  const claim = async () => {
    const customer = await app.customer(seller, { name: `Sync claim ${tag()}`, lifecycleStage: 'PROSPECT' });
    return (await ok(seller, 'POST', '/v1/claims', { customerId: customer.id }, 201)).id as string;
  };
  const a = await claim();
  const b = await claim();
  const head = c.users.partnerAManager;
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/claims?claimantUnitId=${c.partnerA.id}${qs}`,
      gql: (filter, args) => `{ claims(filter: { claimantUnitId: "${c.partnerA.id}" ${filter} } ${args}) { totalCount edges { node { id updatedAt } } } }`,
      gqlRows: edges('claims'),
      reader: head,
      table: 'claims',
      column: 'updated_at',
    },
    a,
    b,
    async () => (await ok(head, 'POST', `/v1/claims/${a}/approve`, { reason: 'first contact documented' })).id,
  );
  const other = await ok(c.users.partnerBManager, 'GET', `/v1/claims?claimantUnitId=${c.partnerA.id}&${EVER}`);
  t.same(other.data, [], "another partner's head sees none of them");
});

tap.test("allocation rules: a time order for a sync, the tried order without sort; another partner's head sees none", async (t) => {
  const admin = c.users.admin;
  const rule = async (order: number) =>
    (await ok(admin, 'POST', '/v1/allocation-rules', { name: `sync ${tag()}`, order, match: { region: `Sync-${tag()}` }, target: { unitId: c.branch.id }, strategy: 'ROUND_ROBIN' }, 201)).id as string;
  const a = await rule(20);
  const b = await rule(10);
  const head = c.users.branchManager;
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/allocation-rules?active=true${qs}`,
      gql: (filter, args) => `{ allocationRules(active: true ${filter} ${args}) { totalCount edges { node { id updatedAt } } } }`,
      gqlRows: edges('allocationRules'),
      reader: head,
      table: 'allocation_rules',
      column: 'updated_at',
    },
    a,
    b,
    async () => (await ok(admin, 'PATCH', `/v1/allocation-rules/${a}`, { name: `renamed ${tag()}` })).id,
  );
  const tried = await ok(head, 'GET', '/v1/allocation-rules?active=true');
  t.same(ids(tried.data).filter((id) => id === a || id === b), [b, a], 'without sort: the order the rules are tried in');
  const firstTried = await ok(head, 'GET', '/v1/allocation-rules?active=true&limit=1');
  t.equal(problemOf(await app.rest(head, 'GET', `/v1/allocation-rules?sort=updatedAt&cursor=${firstTried.nextCursor}`), 400, ['cursor']), null, 'a cursor of the tried order is refused with a sort');
  const other = await ok(c.users.partnerBManager, 'GET', `/v1/allocation-rules?${EVER}`);
  t.notOk(ids(other.data).some((id) => id === a || id === b), "another partner's head sees none of them");
});

tap.test("delegations: a revocation moves updatedAt; another partner's head sees none", async (t) => {
  const from = await app.user(c.branch, ['sales']);
  const a = (await delegation(app, from, c.users.sales)).id;
  const b = (await delegation(app, from, c.users.sales2)).id;
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/delegations?fromUserId=${from.id}${qs}`,
      gql: (filter, args) => `{ delegations(filter: { fromUserId: "${from.id}" ${filter} } ${args}) { totalCount edges { node { id updatedAt } } } }`,
      gqlRows: edges('delegations'),
      reader: from,
      table: 'delegations',
      column: 'updated_at',
    },
    a,
    b,
    async () => {
      await ok(from, 'DELETE', `/v1/delegations/${a}`, undefined, 204);
      const row = await ok(from, 'GET', `/v1/delegations/${a}`);
      t.equal(row.updatedAt, row.revokedAt, 'revoked: updatedAt is the revocation');
      return a;
    },
  );
  const other = await ok(c.users.partnerBManager, 'GET', `/v1/delegations?fromUserId=${from.id}&${EVER}`);
  t.same(other.data, [], "another partner's head sees none of them");
});

tap.test('API keys: a revocation moves updatedAt, a use does not; another partner sees none', async (t) => {
  const admin = c.users.admin;
  const erp = await app.user(c.branch, ['integration']);
  await app.db.execute(sql`UPDATE users SET kind = 'SERVICE' WHERE id = ${erp.id}::uuid`);
  const key = async () => (await ok(admin, 'POST', '/v1/api-keys', { userId: erp.id, name: `sync ${tag()}` }, 201)) as { id: string; key: string };
  const ka = await key();
  const b = (await key()).id;
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/api-keys?userId=${erp.id}${qs}`,
      gql: (filter, args) => `{ apiKeys(filter: { userId: "${erp.id}" ${filter} } ${args}) { totalCount edges { node { id updatedAt } } } }`,
      gqlRows: edges('apiKeys'),
      reader: admin,
      table: 'api_keys',
      column: 'updated_at',
    },
    ka.id,
    b,
    async () => {
      // A use first: it records lastUsedAt, which is no change for a sync.
      const used = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${ka.key}` } });
      t.equal(used.statusCode, 200, used.body);
      const before = await ok(admin, 'GET', `/v1/api-keys/${ka.id}`);
      t.ok(before.lastUsedAt, 'the use is recorded');
      t.ok(Date.parse(before.updatedAt) < Date.UTC(1996, 0, 1), 'a use leaves updatedAt where it was');
      await ok(admin, 'DELETE', `/v1/api-keys/${ka.id}`, undefined, 204);
      return ka.id;
    },
  );
  const other = await app.rest(c.users.partnerBManager, 'GET', `/v1/api-keys?userId=${erp.id}&${EVER}`);
  t.notOk(other.status === 200 && ids(other.body.data).length > 0, "another partner's head reads none of them");
});

tap.test("webhooks (REST only): changed after the mark; another partner's head sees none", async (t) => {
  const head = c.users.partnerAManager;
  const hook = async () => (await ok(head, 'POST', '/v1/webhooks', { url: `http://127.0.0.1:9/${tag()}`, types: ['customer.merged'], active: false }, 201)).id as string;
  const a = await hook();
  const b = await hook();
  await syncChecks(
    t,
    { rest: (qs) => `/v1/webhooks?x=1${qs}`.replace('?x=1&', '?'), reader: head, table: 'webhooks', column: 'updated_at' },
    a,
    b,
    async () => (await ok(head, 'PATCH', `/v1/webhooks/${a}`, { description: 'portal' })).id,
  );
  const other = await ok(c.users.partnerBManager, 'GET', `/v1/webhooks?${EVER}`);
  t.notOk(ids(other.data).some((id) => id === a || id === b), "another partner's head sees none of them");
});

tap.test("a customer's contacts: sync reads; another partner's user gets 404", async (t) => {
  const seller = c.users.sales;
  const customer = await app.customer(seller, { name: `Sync contacts ${tag()}` });
  const a = (await contact(app, seller, customer.id, { name: 'First Person' })).id;
  const b = (await contact(app, seller, customer.id, { name: 'Second Person' })).id;
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/customers/${customer.id}/contacts?x=1${qs}`.replace('?x=1&', '?'),
      gql: (filter, args) => `{ contacts(filter: { customerId: "${customer.id}" ${filter} } ${args}) { totalCount edges { node { id updatedAt } } } }`,
      gqlRows: edges('contacts'),
      reader: seller,
      table: 'contacts',
      column: 'updated_at',
    },
    a,
    b,
    async () => (await ok(seller, 'PATCH', `/v1/contacts/${a}`, { name: 'First Person Renamed' })).id,
  );
  const plain = await ok(seller, 'GET', `/v1/customers/${customer.id}/contacts`);
  t.same(ids(plain.data), [a, b], 'without sort: oldest first, as before');
  t.equal(problemOf(await app.rest(c.users.partnerBSales, 'GET', `/v1/customers/${customer.id}/contacts?${EVER}`), 404), null);
});

tap.test('roles (one whole list): filtered and ordered for a sync, by name without sort', async (t) => {
  const admin = c.users.admin;
  const a = (await customRole(app, 'OWN', ['customers:read'])).id;
  const b = (await customRole(app, 'OWN', ['customers:read'])).id;
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/roles?x=1${qs}`.replace('?x=1&', '?'),
      gql: (filter, args) => `{ roles(filter: { ${filter} } ${args}) { id updatedAt } }`,
      gqlRows: (d) => d.roles,
      reader: admin,
      table: 'roles',
      column: 'updated_at',
      whole: true,
    },
    a,
    b,
    async () => (await ok(admin, 'PATCH', `/v1/roles/${a}`, { permissions: ['customers:read', 'contacts:read'] })).id,
  );
  const names = (await ok(admin, 'GET', '/v1/roles')).data.map((r: { name: string }) => r.name);
  t.same(names, [...names].sort(), 'without sort: by name');
});

tap.test('pipelines (one whole list): filtered and ordered for a sync, the default first without sort', async (t) => {
  const admin = c.users.admin;
  const stages = [
    { key: 'OPEN', name: 'Open', probability: 10 },
    { key: 'WON', name: 'Won', probability: 100, terminal: true, outcome: 'WON' },
    { key: 'LOST', name: 'Lost', probability: 0, terminal: true, outcome: 'LOST' },
  ];
  const pipe = async () => (await ok(admin, 'POST', '/v1/pipelines', { name: `Sync pipeline ${tag()}`, stages }, 201)).id as string;
  const a = await pipe();
  const b = await pipe();
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/pipelines?x=1${qs}`.replace('?x=1&', '?'),
      gql: (filter, args) => `{ pipelines(filter: { ${filter} } ${args}) { id updatedAt } }`,
      gqlRows: (d) => d.pipelines,
      reader: admin,
      table: 'pipelines',
      column: 'updated_at',
      whole: true,
    },
    a,
    b,
    async () => (await ok(admin, 'PATCH', `/v1/pipelines/${a}`, { name: `Renamed ${tag()}` })).id,
  );
  const list = (await ok(admin, 'GET', '/v1/pipelines')).data as { isDefault: boolean }[];
  t.equal(list[0]?.isDefault, true, 'without sort: the default first');
});
