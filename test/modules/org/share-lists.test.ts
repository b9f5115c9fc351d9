import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { day, inMs } from '../../helpers/time.js';
import { sharesOf } from './support.js';

// Shares are listed, read, expire by themselves, and speak CUSTOMER (issue 10 item 16).

const app = await buildTestApp();
t.teardown(() => app.close());

const SHARE = 'id resourceType resourceId toUnitId toUserId expiresAt createdBy createdAt';

t.test('list, read and the customer’s shares: who sees which share', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const other = await app.customer(c.users.sales);
  const made = await app.rest(c.users.branchManager, 'POST', '/v1/shares', { resourceType: 'Customer', resourceId: customer.id, toUserId: c.users.sales2.id });
  t.equal(made.status, 201, made.raw);
  t.equal(made.headers.location, `/v1/shares/${made.body.id}`);
  t.same(Object.keys(made.body).sort(), ['createdAt', 'createdBy', 'expiresAt', 'id', 'resourceId', 'resourceType', 'toUnitId', 'toUserId', 'updatedAt']);
  t.match(made.body, { resourceType: 'CUSTOMER', createdBy: c.users.branchManager.id, expiresAt: null });
  const toUnit = await app.rest(c.users.branchManager, 'POST', '/v1/shares', { resourceType: 'CUSTOMER', resourceId: other.id, toUnitId: c.partnerA.id });
  t.equal(toUnit.status, 201);

  const ids = async (who: typeof c.users.sales, q = '') => (await app.rest(who, 'GET', `/v1/shares?limit=200${q}`)).body.data.map((s: { id: string }) => s.id).sort();
  t.same(await ids(c.users.branchManager), [made.body.id, toUnit.body.id].sort(), 'the creator sees both');
  t.same(await ids(c.users.sales2), [made.body.id], 'the recipient sees its own');
  t.same(await ids(c.users.partnerASales), [toUnit.body.id], 'a user of the receiving unit sees the unit’s');
  t.same(await ids(c.users.sales), [made.body.id, toUnit.body.id].sort(), 'the owner, who may edit the customers, sees both');
  t.same(await ids(c.users.partnerBSales), [], 'another partner sees none');
  t.same(await ids(c.users.branchManager, `&resourceId=${customer.id}`), [made.body.id], 'filter resourceId');
  t.same(await ids(c.users.branchManager, `&toUnitId=${c.partnerA.id}`), [toUnit.body.id], 'filter toUnitId');
  t.same(await ids(c.users.branchManager, `&toUserId=${c.users.sales2.id}&resourceType=customer`), [made.body.id], 'filter toUserId, resourceType in any case');

  // Keyset pages, newest first.
  const p1 = await app.rest(c.users.branchManager, 'GET', '/v1/shares?limit=1');
  t.equal(p1.body.data[0].id, toUnit.body.id);
  const p2 = await app.rest(c.users.branchManager, 'GET', `/v1/shares?limit=1&cursor=${p1.body.nextCursor}`);
  t.equal(p2.body.data[0].id, made.body.id);

  t.equal((await app.rest(c.users.sales2, 'GET', `/v1/shares/${made.body.id}`)).body.id, made.body.id);
  t.equal(problemOf(await app.rest(c.users.partnerBSales, 'GET', `/v1/shares/${made.body.id}`), 404), null, 'another partner: 404');
  t.equal(problemOf(await app.rest(c.users.branchManager, 'GET', `/v1/shares/${randomUUID()}`), 404), null);
  t.equal(problemOf(await app.rest(c.users.branchManager, 'GET', '/v1/shares/nope'), 400, ['id']), null);

  const ofCustomer = await app.rest(c.users.sales, 'GET', `/v1/customers/${customer.id}/shares`);
  t.equal(ofCustomer.status, 200);
  t.same(ofCustomer.body.data.map((s: { id: string }) => s.id), [made.body.id]);
  t.equal(problemOf(await app.rest(c.users.partnerBSales, 'GET', `/v1/customers/${customer.id}/shares`), 404), null, 'a customer it cannot see: 404');
  t.equal(problemOf(await app.rest(c.users.sales, 'GET', `/v1/customers/${customer.id}/shares?limit=0`), 400, ['limit']), null);

  const badQueries: [string, string][] = [
    ['resourceType=ORDER', 'resourceType'],
    ['resourceId=x', 'resourceId'],
    ['toUserId=x', 'toUserId'],
    ['toUnitId=x', 'toUnitId'],
    ['cursor=%25', 'cursor'],
    ['owner=x', 'owner'],
  ];
  for (const [q, path] of badQueries) {
    t.equal(problemOf(await app.rest(c.users.branchManager, 'GET', `/v1/shares?${q}`), 400, [path]), null, q);
  }
});

t.test('an expired share grants nothing; expiresAt is checked', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const res = await app.rest(c.users.branchManager, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: customer.id, toUserId: c.users.sales2.id, expiresAt: inMs(day) });
  t.equal(res.status, 201, res.raw);
  t.equal(Date.parse(res.body.expiresAt) > Date.now(), true);
  t.equal((await app.rest(c.users.sales2, 'GET', `/v1/customers/${customer.id}`)).status, 200, 'readable before it expires');
  // Time passes: the share's end moves into the past behind the API's back.
  await app.db.execute(sql`UPDATE shares SET expires_at = now() - interval '1 second' WHERE id = ${res.body.id}::uuid`);
  t.equal((await app.rest(c.users.sales2, 'GET', `/v1/customers/${customer.id}`)).status, 404, 'expired: invisible again');
  const list = await app.rest(c.users.sales2, 'GET', '/v1/customers?limit=200');
  t.notOk(list.body.data.some((x: { id: string }) => x.id === customer.id), 'and out of lists');
  t.equal((await app.rest(c.users.sales2, 'GET', `/v1/shares/${res.body.id}`)).status, 200, 'the share itself is still listed');

  const before = await sharesOf(app, customer.id);
  for (const [what, expiresAt] of [
    ['in the past', inMs(-day)],
    ['not a time', 'tomorrow'],
    ['beyond the storable range', '10000-01-01T00:00:00Z'],
  ] as const) {
    const bad = await app.rest(c.users.branchManager, 'POST', '/v1/shares', { resourceType: 'CUSTOMER', resourceId: customer.id, toUserId: c.users.sales2.id, expiresAt });
    t.equal(problemOf(bad, 400, ['expiresAt']), null, what);
  }
  t.equal(await sharesOf(app, customer.id), before, 'nothing written');
});

t.test('GraphQL: shares, share, Customer.shares, createShare with expiresAt, revokeShare', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const created = await app.gql(
    c.users.branchManager,
    `mutation($input: CreateShareInput!) { createShare(input: $input) { ${SHARE} } }`,
    { input: { resourceType: 'CUSTOMER', resourceId: customer.id, toUserId: c.users.sales2.id, expiresAt: inMs(day) } },
  );
  t.equal(created.errors, undefined, JSON.stringify(created.errors));
  const share = created.data.createShare;
  t.match(share, { resourceType: 'CUSTOMER', createdBy: c.users.branchManager.id, expiresAt: String });

  const list = await app.gql(c.users.sales2, `query { shares(first: 10, filter: { resourceType: CUSTOMER }) { edges { node { ${SHARE} } cursor } pageInfo { hasNextPage } } }`);
  t.same(list.data.shares.edges.map((e: { node: { id: string } }) => e.node.id), [share.id]);
  t.equal((await app.gql(c.users.sales2, `query($id: ID!) { share(id: $id) { id } }`, { id: share.id })).data.share.id, share.id);
  t.same((await app.gql(c.users.partnerBSales, `query($id: ID!) { share(id: $id) { id } }`, { id: share.id })).codes, ['NOT_FOUND']);
  const bad = await app.gql(c.users.sales2, 'query { shares(filter: { toUserId: "x" }) { edges { cursor } } }');
  t.same(bad.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(bad), ['filter.toUserId']);

  const nested = await app.gql(c.users.sales, 'query($id: ID!) { customer(id: $id) { shares { id toUserId } } }', { id: customer.id });
  t.same(nested.data.customer.shares, [{ id: share.id, toUserId: c.users.sales2.id }]);

  const revoked = await app.gql(c.users.branchManager, 'mutation($id: ID!) { revokeShare(id: $id) }', { id: share.id });
  t.equal(revoked.data.revokeShare, true);
  t.equal(await sharesOf(app, customer.id), 0);
  t.same((await app.gql(c.users.branchManager, 'mutation($id: ID!) { revokeShare(id: $id) }', { id: share.id })).codes, ['NOT_FOUND']);
});
