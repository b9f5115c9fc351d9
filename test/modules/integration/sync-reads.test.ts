import tap from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { handoff, interaction, opportunity, share, tag } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';
import { enc, ids, type Row, syncChecker, type SyncSpec } from '../../helpers/sync-checks.js';

// Sync reads (api.md §1 Sync; docs/integration.md "Sync reads") on the lists that lacked them:
// handoffs, interactions (of a customer and of an opportunity), users, org units and shares.
// Every list below is narrowed to this file's own records (a fresh receiver, customer, unit or
// filter), so the shared database's other records never enter the comparisons.

const app = await buildTestApp();
tap.teardown(() => app.close());
const c = await company(app);
const { syncChecks } = syncChecker(app);
type Spec = SyncSpec;

tap.test('handoffs: updatedAfter, sort=updatedAt, count; another partner never sees them', async (t) => {
  const mkt = c.users.marketing;
  const reader = c.users.partnerAManager;
  const made = [];
  for (let i = 0; i < 2; i++) {
    const lead = await app.customer(mkt, { name: `Sync lead ${tag()}` });
    made.push(await handoff(app, mkt, lead.id, { toUnitId: c.partnerA.id }));
  }
  const [a, b] = made.map((h) => h.id) as [string, string];
  const spec: Spec = {
    rest: (qs) => `/v1/handoffs?box=received${qs}`,
    gql: (filter, args) => `{ handoffs(filter: { box: RECEIVED ${filter} } ${args}) { totalCount edges { node { id updatedAt } } } }`,
    gqlRows: (d) => d.handoffs.edges.map((e: { node: Row }) => e.node),
    reader,
    table: 'handoffs',
    column: 'updated_at',
  };
  await syncChecks(t, spec, a, b, async () => {
    const res = await app.rest(reader, 'POST', `/v1/handoffs/${a}/accept`, {});
    t.equal(res.status, 200, res.raw);
    return res.body.id;
  });
  const other = await app.rest(c.users.partnerBManager, 'GET', `/v1/handoffs?box=received&updatedAfter=1990-01-01T00:00:00Z&sort=updatedAt&limit=200`);
  t.notOk(ids(other.body.data).some((id) => id === a || id === b), "another partner's manager sees none of them");
  const sent = await app.rest(mkt, 'GET', `/v1/handoffs?box=sent&sort=-updatedAt&limit=1`);
  t.same(ids(sent.body.data), [a], "the sender's box reads the same way");
});

tap.test("interactions of a customer and of an opportunity: sync reads; another partner's user gets 404", async (t) => {
  const seller = c.users.sales;
  const customer = await app.customer(seller, { name: `Sync interactions ${tag()}` });
  const deal = await opportunity(app, seller, customer.id);
  const a = (await interaction(app, seller, customer.id, { opportunityId: deal.id, subject: 'First' })).id;
  const b = (await interaction(app, seller, customer.id, { opportunityId: deal.id, subject: 'Second' })).id;
  const change = (subject: string) => async () => {
    const res = await app.rest(seller, 'PATCH', `/v1/interactions/${a}`, { subject });
    t.equal(res.status, 200, res.raw);
    return res.body.id as string;
  };
  const rows = (d: any) => d.interactions.edges.map((e: { node: Row }) => e.node);
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/customers/${customer.id}/interactions?x=1${qs}`.replace('?x=1&', '?'),
      gql: (filter, args) => `{ interactions(customerId: "${customer.id}", filter: { ${filter} } ${args}) { totalCount edges { node { id updatedAt } } } }`,
      gqlRows: rows,
      reader: seller,
      table: 'interactions',
      column: 'updated_at',
    },
    a,
    b,
    change('Edited'),
  );
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/opportunities/${deal.id}/interactions?x=1${qs}`.replace('?x=1&', '?'),
      gql: (filter, args) => `{ interactions(opportunityId: "${deal.id}", filter: { ${filter} } ${args}) { totalCount edges { node { id updatedAt } } } }`,
      gqlRows: rows,
      reader: seller,
      table: 'interactions',
      column: 'updated_at',
    },
    a,
    b,
    change('Edited again'),
  );
  // The default order stays newest contact first; the nested field takes updatedAfter too.
  const nested = await app.gql(seller, `query($id: ID!) { customer(id: $id) { interactions(filter: { updatedAfter: "1990-01-01T00:00:00Z" }) { edges { node { id } } } } }`, { id: customer.id });
  t.same(nested.errors, undefined);
  t.same(nested.data.customer.interactions.edges.length, 2);
  const outsider = c.users.partnerBSales;
  t.equal(problemOf(await app.rest(outsider, 'GET', `/v1/customers/${customer.id}/interactions?updatedAfter=1990-01-01T00:00:00Z&sort=updatedAt`), 404), null);
  const gOut = await app.gql(outsider, `{ interactions(customerId: "${customer.id}", filter: { updatedAfter: "1990-01-01T00:00:00Z" }, sort: "updatedAt") { edges { node { id } } } }`);
  t.same(gOut.codes, ['NOT_FOUND'], "another partner's user: not found through GraphQL either");
});

tap.test("users: sync reads within visibility; another partner's manager sees none", async (t) => {
  const dept = await app.unit('DEPARTMENT', c.branch);
  const a = (await app.user(dept, ['sales'])).id;
  const b = (await app.user(dept, ['sales'])).id;
  const admin = c.users.admin;
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/users?unitId=${dept.id}${qs}`,
      gql: (filter, args) => `{ users(filter: { unitId: "${dept.id}" ${filter} } ${args}) { totalCount edges { node { id updatedAt } } } }`,
      gqlRows: (d) => d.users.edges.map((e: { node: Row }) => e.node),
      reader: admin,
      table: 'users',
      column: 'updated_at',
    },
    a,
    b,
    async () => {
      const res = await app.rest(admin, 'PATCH', `/v1/users/${a}`, { roles: ['sales', 'service'] });
      t.equal(res.status, 200, res.raw);
      return res.body.id;
    },
  );
  const active = await app.gql(admin, `{ users(filter: { unitId: "${dept.id}", active: true }) { totalCount } }`);
  t.same(active.data, { users: { totalCount: 2 } }, 'GraphQL UserFilter.active is a Boolean');
  const other = await app.rest(c.users.partnerBManager, 'GET', `/v1/users?unitId=${dept.id}&updatedAfter=1990-01-01T00:00:00Z&sort=updatedAt`);
  t.equal(other.status, 200);
  t.same(other.body.data, [], "another partner's manager sees none of the company's users");
});

tap.test("org units: the tree filtered and ordered for a sync; another partner's manager sees none", async (t) => {
  const region = await app.unit('REGION');
  const manager = await app.user(region, ['manager']);
  const a = (await app.unit('BRANCH', region)).id;
  const b = (await app.unit('BRANCH', region)).id;
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/org-units?x=1${qs}`.replace('?x=1&', '?'),
      gql: (filter, args) => `{ orgUnits(filter: { ${filter} } ${args}) { id updatedAt } }`,
      gqlRows: (d) => d.orgUnits,
      reader: manager,
      table: 'org_units',
      column: 'updated_at',
      whole: true,
    },
    a,
    b,
    async () => {
      const res = await app.rest(c.users.admin, 'PATCH', `/v1/org-units/${a}`, { name: `Renamed ${tag()}` });
      t.equal(res.status, 200, res.raw);
      return res.body.id;
    },
  );
  const tree = await app.rest(manager, 'GET', '/v1/org-units');
  const order = ids(tree.body.data);
  t.ok(order.indexOf(region.id) >= 0 && order.indexOf(region.id) < order.indexOf(a) && order.indexOf(region.id) < order.indexOf(b), 'without sort: tree order, the parent first');
  const other = await app.rest(c.users.partnerBManager, 'GET', '/v1/org-units?updatedAfter=1990-01-01T00:00:00Z&sort=updatedAt');
  t.notOk(ids(other.body.data).some((id) => [a, b, region.id].includes(id)), "another partner's manager sees none of them");
});

tap.test("shares: a new share after the cursor shows up, older ones do not; another partner's user sees none", async (t) => {
  const seller = c.users.sales;
  const customer = await app.customer(seller, { name: `Sync shares ${tag()}` });
  const a = (await share(app, customer.id, { toUnitId: c.otherBranch.id })).id;
  const b = (await share(app, customer.id, { toUserId: c.users.service.id })).id;
  const spec: Spec = {
    rest: (qs) => `/v1/shares?resourceId=${customer.id}${qs}`,
    gql: (filter, args) => `{ shares(filter: { resourceId: "${customer.id}" ${filter} } ${args}) { totalCount edges { node { id updatedAt } } } }`,
    gqlRows: (d) => d.shares.edges.map((e: { node: Row }) => e.node),
    reader: seller,
    table: 'shares',
    column: 'created_at',
  };
  // A share never changes (a revoke deletes it): the change a sync sees is a new share.
  let made = '';
  await syncChecks(t, spec, a, b, async () => {
    made = (await share(app, customer.id, { toUserId: c.users.sales2.id })).id;
    return made;
  });
  const perCustomer = await app.rest(seller, 'GET', `/v1/customers/${customer.id}/shares?sort=-updatedAt&updatedAfter=1990-01-01T00:00:00Z&count=true`);
  t.equal(ids(perCustomer.body.data)[0], made, "the customer's shares read the same way");
  t.equal(perCustomer.body.totalCount, 3);
  t.same(ids((await app.rest(seller, 'GET', `/v1/customers/${customer.id}/shares?updatedAfter=${enc(perCustomer.body.data[1].updatedAt)}`)).body.data), [made]);
  const other = await app.rest(c.users.partnerBSales, 'GET', `/v1/shares?resourceId=${customer.id}&updatedAfter=1990-01-01T00:00:00Z&sort=updatedAt`);
  t.same(other.body.data, [], "another partner's user sees none");
  t.equal(problemOf(await app.rest(c.users.partnerBSales, 'GET', `/v1/customers/${customer.id}/shares?updatedAfter=1990-01-01T00:00:00Z`), 404), null);
});
