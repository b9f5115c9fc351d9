import { randomUUID } from 'node:crypto';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { auditFor, eventsFor } from '../../helpers/records.js';
import { sharesOf } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const CREATE = 'mutation($input: CreateShareInput!) { createShare(input: $input) { id resourceType resourceId toUnitId toUserId createdAt } }';
const DELETE = 'mutation($id: ID!) { deleteShare(id: $id) }';
const READ = 'query($id: ID!) { customer(id: $id) { id name } }';

t.test('a share makes a customer readable to a user; DELETE revokes it', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const reader = c.users.sales2;
  t.equal((await app.rest(reader, 'GET', `/v1/customers/${customer.id}`)).status, 404, 'invisible before');

  const res = await app.rest(c.users.branchManager, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: customer.id, toUserId: reader.id });
  t.equal(res.status, 201, res.raw);
  t.match(res.body, { resourceType: 'CUSTOMER', resourceId: customer.id, toUserId: reader.id, toUnitId: null, createdAt: String });

  const read = await app.rest(reader, 'GET', `/v1/customers/${customer.id}`);
  t.equal(read.status, 200, 'readable through the share');
  t.equal(read.body.id, customer.id);
  const list = await app.rest(reader, 'GET', '/v1/customers?limit=200');
  t.ok(list.body.data.some((x: any) => x.id === customer.id), 'in lists too');
  t.equal((await app.gql(reader, READ, { id: customer.id })).data.customer.id, customer.id, 'and through GraphQL');
  const write = await app.rest(reader, 'PATCH', `/v1/customers/${customer.id}`, { industry: 'Shared' });
  t.equal(problemOf(write, 403), null, 'a share grants reading, not writing: 403');
  t.equal((await app.rest(c.users.otherSales, 'GET', `/v1/customers/${customer.id}`)).status, 404, 'nobody else gains anything');

  const del = await app.rest(c.users.branchManager, 'DELETE', `/v1/shares/${res.body.id}`);
  t.equal(del.status, 204);
  t.equal(del.raw, '');
  t.equal((await app.rest(reader, 'GET', `/v1/customers/${customer.id}`)).status, 404, 'revoked: invisible again');
  t.same((await app.gql(reader, READ, { id: customer.id })).codes, ['NOT_FOUND']);
  t.equal(problemOf(await app.rest(c.users.branchManager, 'DELETE', `/v1/shares/${res.body.id}`), 404), null, 'a second DELETE: 404');

  // The audit trail and the events speak the API's representation, as every other record's do.
  const audit = await auditFor(app, res.body.id);
  t.same(audit.map((a) => a.action), ['created', 'deleted']);
  t.match(audit[0]?.after, { resourceType: 'CUSTOMER', resourceId: customer.id, toUserId: reader.id, createdAt: String });
  t.match(audit[1]?.before, { resourceType: 'CUSTOMER', resourceId: customer.id });
  const events = await eventsFor(app, res.body.id);
  t.same(events.map((e) => e.type), ['share.created', 'share.deleted']);
  t.match(events[0]?.payload, { after: { resourceType: 'CUSTOMER' } });
});

t.test('a share with a unit reaches that unit’s users', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const res = await app.rest(c.users.marketing, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: customer.id, toUnitId: c.partnerA.id });
  t.equal(res.status, 201, 'marketing of the region may share what it may edit');
  t.equal((await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${customer.id}`)).status, 200, 'a user of the unit reads it');
  t.equal((await app.rest(c.users.partnerAManager, 'GET', `/v1/customers/${customer.id}`)).status, 200);
  t.equal((await app.rest(c.users.partnerBSales, 'GET', `/v1/customers/${customer.id}`)).status, 404, 'the other partner does not');
  // Who shares may revoke: marketing holds shares:delete as well as shares:create.
  t.equal((await app.rest(c.users.marketing, 'DELETE', `/v1/shares/${res.body.id}`)).status, 204);
  t.equal((await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${customer.id}`)).status, 404);
  t.equal(problemOf(await app.rest(c.users.regionManager, 'DELETE', `/v1/shares/${res.body.id}`), 404), null, 'revoked once: gone');
});

t.test('a recipient the caller cannot see is no recipient', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.partnerASales);
  const toOtherPartner = await app.rest(c.users.partnerAManager, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: customer.id, toUnitId: c.partnerB.id });
  t.equal(problemOf(toOtherPartner, 400, ['toUnitId']), null, "another partner's unit does not exist for a partner");
  const toOtherUser = await app.rest(c.users.partnerAManager, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: customer.id, toUserId: c.users.partnerBSales.id });
  t.equal(problemOf(toOtherUser, 400, ['toUserId']), null);
});

t.test('only someone who may edit the record may share it', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const body = { resourceType: 'customer', resourceId: customer.id, toUserId: c.users.otherSales.id };
  const otherManager = await app.user(c.otherBranch, ['manager']);
  for (const [who, status, what] of [
    [c.users.sales, 403, 'the owner, a salesperson without shares:create'],
    [c.users.service, 403, 'service may edit but not share'],
    [c.users.executive, 403, 'executive reads, never writes'],
    [c.users.otherSales, 403, 'a salesperson, whatever the record'],
    [otherManager, 404, 'a manager who cannot see it'],
    [c.users.partnerBManager, 404, 'another partner'],
  ] as const) {
    t.equal(problemOf(await app.rest(who, 'POST', '/v1/shares', body), status), null, what);
  }
  t.equal(await sharesOf(app, customer.id), 0, 'nothing written');

  // Seeing a record through a share is not editing it: the partner manager may not pass it on.
  const s = await app.rest(c.users.branchManager, 'POST', '/v1/shares', { ...body, toUnitId: c.partnerA.id, toUserId: undefined });
  t.equal(s.status, 201);
  t.equal((await app.rest(c.users.partnerAManager, 'GET', `/v1/customers/${customer.id}`)).status, 200);
  const onward = await app.rest(c.users.partnerAManager, 'POST', '/v1/shares', { ...body, toUserId: c.users.partnerBManager.id });
  t.equal(problemOf(onward, 403), null, 'visible but not editable: 403');
  t.equal(problemOf(await app.rest(c.users.partnerAManager, 'DELETE', `/v1/shares/${s.body.id}`), 403), null, 'nor revoke what it did not grant');
  t.equal(problemOf(await app.rest(c.users.partnerBManager, 'DELETE', `/v1/shares/${s.body.id}`), 404), null, 'another partner: 404');
  t.equal(problemOf(await app.rest(c.users.sales, 'DELETE', `/v1/shares/${s.body.id}`), 403), null, 'no shares:delete: 403');
  t.equal(await sharesOf(app, customer.id), 1, 'only the manager’s share exists');
  const g = await app.gql(c.users.partnerAManager, CREATE, { input: { ...body, resourceType: 'CUSTOMER', toUserId: c.users.partnerBManager.id } });
  t.same(g.codes, ['FORBIDDEN'], 'GraphQL: FORBIDDEN');
  const gb = await app.gql(c.users.partnerBManager, CREATE, { input: { ...body, resourceType: 'CUSTOMER' } });
  t.same(gb.codes, ['NOT_FOUND'], 'GraphQL: another partner gets NOT_FOUND');
  t.same((await app.gql(c.users.partnerBManager, DELETE, { id: s.body.id })).codes, ['NOT_FOUND']);
});

t.test('a partner shares within its own records only', async (t) => {
  const c = await company(app);
  const aCustomer = await app.customer(c.users.partnerASubSales);
  const bCustomer = await app.customer(c.users.partnerBSales);
  const ok = await app.rest(c.users.partnerAManager, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: aCustomer.id, toUserId: c.users.partnerASales.id });
  t.equal(ok.status, 201, 'its own subtree’s customer');
  t.equal((await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${aCustomer.id}`)).status, 200);
  const other = await app.rest(c.users.partnerAManager, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: bCustomer.id, toUserId: c.users.partnerAManager.id });
  t.equal(problemOf(other, 404), null, 'another partner’s customer: 404');
  t.equal(await sharesOf(app, bCustomer.id), 0);
  t.equal((await app.rest(c.users.partnerAManager, 'GET', `/v1/customers/${bCustomer.id}`)).status, 404, 'still invisible');
});

t.test('bad input: 400 naming the field, nothing written', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const ok = { resourceType: 'customer', resourceId: customer.id };
  const cases: [string, Record<string, unknown>, number, string[]][] = [
    ['both a unit and a user', { toUnitId: c.branch.id, toUserId: c.users.sales2.id }, 400, ['toUnitId']],
    ['neither', {}, 400, ['toUnitId']],
    ['unknown resource type', { resourceType: 'opportunity', toUserId: c.users.sales2.id }, 400, ['resourceType']],
    ['bad resource id', { resourceId: 'c-1', toUserId: c.users.sales2.id }, 400, ['resourceId']],
    ['bad user id', { toUserId: 'bob' }, 400, ['toUserId']],
    ['nonexistent user', { toUserId: randomUUID() }, 400, ['toUserId']],
    ['nonexistent unit', { toUnitId: randomUUID() }, 400, ['toUnitId']],
    ['unknown field', { toUserId: c.users.sales2.id, canEdit: true }, 400, ['canEdit']],
  ];
  for (const [what, patch, status, paths] of cases) {
    t.equal(problemOf(await app.rest(c.users.branchManager, 'POST', '/v1/shares', { ...ok, ...patch }), status, paths), null, what);
  }
  t.equal(problemOf(await app.rest(c.users.branchManager, 'POST', '/v1/shares', { ...ok, resourceId: randomUUID(), toUserId: c.users.sales2.id }), 404), null, 'nonexistent customer: 404');
  t.equal(await sharesOf(app, customer.id), 0, 'nothing written');
  t.equal(problemOf(await app.rest(c.users.branchManager, 'DELETE', `/v1/shares/${randomUUID()}`), 404), null);
  t.equal(problemOf(await app.rest(c.users.branchManager, 'DELETE', '/v1/shares/abc'), 400, ['id']), null);
  const g = await app.gql(c.users.branchManager, CREATE, { input: { ...ok, resourceType: 'CUSTOMER', toUnitId: c.branch.id, toUserId: c.users.sales2.id } });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(g), ['input.toUnitId']);
});

t.test('share and revoke through GraphQL', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const g = await app.gql(c.users.branchManager, CREATE, { input: { resourceType: 'CUSTOMER', resourceId: customer.id, toUserId: c.users.service.id } });
  t.equal(g.errors, undefined, JSON.stringify(g.errors));
  t.match(g.data.createShare, { resourceType: 'CUSTOMER', resourceId: customer.id, toUserId: c.users.service.id, toUnitId: null });
  const d = await app.gql(c.users.branchManager, DELETE, { id: g.data.createShare.id });
  t.equal(d.data.deleteShare, true);
  t.equal(await sharesOf(app, customer.id), 0);
  t.same((await app.gql(c.users.branchManager, DELETE, { id: g.data.createShare.id })).codes, ['NOT_FOUND']);
});
