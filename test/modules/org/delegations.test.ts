import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { delegation } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { auditFor, count, row } from '../../helpers/records.js';
import { day, hour, inMs } from '../../helpers/time.js';
import { DELEGATION_FIELDS } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const CREATE = `mutation($input: CreateDelegationInput!) { createDelegation(input: $input) { ${DELEGATION_FIELDS} } }`;
const REVOKE = 'mutation($id: ID!) { revokeDelegation(id: $id) }';
const LIST = `query($filter: DelegationFilter, $first: Int, $after: String) { delegations(filter: $filter, first: $first, after: $after) { edges { node { ${DELEGATION_FIELDS} } cursor } pageInfo { hasNextPage endCursor } } }`;
const CUSTOMER = 'query($id: ID!) { customer(id: $id) { id name industry } }';
const UPDATE_CUSTOMER = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id industry } }';

const delegationsFrom = (userId: string) => count(app, sql`SELECT count(*) AS n FROM delegations WHERE from_user_id = ${userId}::uuid`);
const customerAudit = (id: string) =>
  app.db.execute(sql`SELECT actor_id, on_behalf_of_id, action FROM audit_log WHERE entity_id = ${id}::uuid AND action = 'updated' ORDER BY id`) as unknown as Promise<{ rows: { actor_id: string; on_behalf_of_id: string | null }[] }>;

t.test('a salesperson delegates to a colleague: create, read, list, revoke (REST)', async (t) => {
  const c = await company(app);
  const endsAt = inMs(7 * day);
  const res = await app.rest(c.users.sales, 'POST', '/v1/delegations', { toUserId: c.users.sales2.id, endsAt });
  t.equal(res.status, 201, res.raw);
  t.match(res.body, { id: String, fromUserId: c.users.sales.id, toUserId: c.users.sales2.id, startsAt: String, endsAt: new Date(endsAt).toISOString(), revokedAt: null, createdBy: c.users.sales.id, active: true });
  t.equal(res.headers.location, `/v1/delegations/${res.body.id}`);
  t.ok(Math.abs(Date.parse(res.body.startsAt) - Date.now()) < 60_000, 'startsAt defaults to now');
  const audit = await auditFor(app, res.body.id);
  t.same(audit.map((a) => a.action), ['created'], 'audited');

  t.same((await app.rest(c.users.sales, 'GET', `/v1/delegations/${res.body.id}`)).body, res.body, 'the delegator reads it');
  t.same((await app.rest(c.users.sales2, 'GET', `/v1/delegations/${res.body.id}`)).body, res.body, 'the delegate reads it');
  t.same((await app.rest(c.users.branchManager, 'GET', `/v1/delegations/${res.body.id}`)).body, res.body, 'their manager reads it');
  t.equal(problemOf(await app.rest(c.users.otherSales, 'GET', `/v1/delegations/${res.body.id}`), 404), null, 'a stranger: 404');
  t.equal(problemOf(await app.rest(c.users.partnerAManager, 'GET', `/v1/delegations/${res.body.id}`), 404), null, 'a partner: 404');

  const mine = await app.rest(c.users.sales2, 'GET', '/v1/delegations');
  t.same(mine.body.data.map((d: any) => d.id), [res.body.id], 'received delegations are listed');
  t.same((await app.rest(c.users.sales, 'GET', `/v1/delegations?toUserId=${c.users.sales2.id}&active=true`)).body.data.map((d: any) => d.id), [res.body.id]);
  t.same((await app.rest(c.users.sales, 'GET', '/v1/delegations?active=false')).body.data, [], 'active=false leaves running ones out');
  t.notOk((await app.rest(c.users.otherSales, 'GET', '/v1/delegations?limit=200')).body.data.some((d: any) => d.id === res.body.id), 'not in a stranger’s list');
  t.notOk((await app.rest(c.users.partnerAManager, 'GET', '/v1/delegations?limit=200')).body.data.some((d: any) => d.id === res.body.id), 'nor in a partner’s');
  t.ok((await app.rest(c.users.branchManager, 'GET', `/v1/delegations?fromUserId=${c.users.sales.id}`)).body.data.some((d: any) => d.id === res.body.id), 'a manager lists those below');

  t.equal(problemOf(await app.rest(c.users.otherSales, 'DELETE', `/v1/delegations/${res.body.id}`), 404), null, 'a stranger cannot revoke (404)');
  t.equal(problemOf(await app.rest(c.users.executive, 'DELETE', `/v1/delegations/${res.body.id}`), 403), null, 'an executive reads but may not revoke (403)');
  const del = await app.rest(c.users.sales, 'DELETE', `/v1/delegations/${res.body.id}`);
  t.equal(del.status, 204);
  t.equal(del.raw, '');
  const after = await app.rest(c.users.sales, 'GET', `/v1/delegations/${res.body.id}`);
  t.match(after.body, { active: false, revokedAt: String });
  t.equal((await app.rest(c.users.sales, 'DELETE', `/v1/delegations/${res.body.id}`)).status, 204, 'revoking twice is harmless');
  t.same((await auditFor(app, res.body.id)).map((a) => a.action), ['created', 'revoked'], 'the second revoke writes nothing');
  t.equal((await app.rest(c.users.sales, 'GET', `/v1/delegations/${res.body.id}`)).body.revokedAt, after.body.revokedAt, 'revokedAt is kept');
  t.same((await app.rest(c.users.sales, 'GET', '/v1/delegations?active=false')).body.data.map((d: any) => d.id), [res.body.id]);
});

t.test('the same through GraphQL', async (t) => {
  const c = await company(app);
  const g = await app.gql(c.users.sales2, CREATE, { input: { toUserId: c.users.sales.id, endsAt: inMs(2 * day) } });
  t.same(g.errors, undefined);
  t.match(g.data.createDelegation, { fromUserId: c.users.sales2.id, toUserId: c.users.sales.id, active: true, revokedAt: null, createdBy: c.users.sales2.id });
  const id = g.data.createDelegation.id;
  const list = await app.gql(c.users.sales, LIST, { filter: { fromUserId: c.users.sales2.id, active: true } });
  t.same(list.data.delegations.edges.map((e: any) => e.node.id), [id]);
  t.same((await app.gql(c.users.partnerBManager, LIST, {})).data.delegations.edges.filter((e: any) => e.node.id === id), [], 'another partner lists nothing of it');
  t.same((await app.gql(c.users.otherSales, REVOKE, { id })).codes, ['NOT_FOUND']);
  t.equal((await app.gql(c.users.sales, REVOKE, { id })).data.revokeDelegation, true, 'the delegate may give it back');
  t.equal((await app.gql(c.users.sales, REVOKE, { id })).data.revokeDelegation, true, 'twice: harmless');
  t.ok((await row(app, 'delegations', id)).revoked_at, 'revokedAt is set');
  const me = await app.gql(c.users.sales, `{ me { activeDelegations { ${DELEGATION_FIELDS} } } }`);
  t.same(me.data.me.activeDelegations, [], 'gone from /me');

  const bad = await app.gql(c.users.sales2, CREATE, { input: { toUserId: c.users.sales.id, endsAt: inMs(400 * day) } });
  t.same(bad.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(bad), ['input.endsAt']);
  const cross = await app.gql(c.users.admin, CREATE, { input: { fromUserId: c.users.partnerASales.id, toUserId: c.users.sales.id, endsAt: inMs(day) } });
  t.same(cross.codes, ['BAD_USER_INPUT'], 'across a partner boundary: refused (422 in REST)');
  t.match(cross.errors?.[0]?.extensions, { status: 422 });
});

t.test('while active the delegate sees and updates the delegator’s customers, attributed to both; revoke ends it', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const delegate = c.users.sales2;
  t.equal((await app.rest(delegate, 'GET', `/v1/customers/${customer.id}`)).status, 404, 'invisible before');

  const d = await app.rest(c.users.branchManager, 'POST', '/v1/delegations', { fromUserId: c.users.sales.id, toUserId: delegate.id, endsAt: inMs(day) });
  t.equal(d.status, 201, 'a manager over both users delegates for them');
  t.equal(d.body.createdBy, c.users.branchManager.id);

  t.equal((await app.rest(delegate, 'GET', `/v1/customers/${customer.id}`)).status, 200, 'REST: visible');
  t.ok((await app.rest(delegate, 'GET', '/v1/customers?limit=200')).body.data.some((x: any) => x.id === customer.id), 'in lists');
  t.equal((await app.gql(delegate, CUSTOMER, { id: customer.id })).data.customer.id, customer.id, 'GraphQL: visible');
  const patch = await app.rest(delegate, 'PATCH', `/v1/customers/${customer.id}`, { industry: 'Delegated REST' });
  t.equal(patch.status, 200, patch.raw);
  const gqlPatch = await app.gql(delegate, UPDATE_CUSTOMER, { id: customer.id, input: { industry: 'Delegated GraphQL' } });
  t.equal(gqlPatch.data.updateCustomer.industry, 'Delegated GraphQL');
  const rows = (await customerAudit(customer.id)).rows;
  t.equal(rows.length, 2);
  for (const r of rows) t.same({ actor: r.actor_id, behalf: r.on_behalf_of_id }, { actor: delegate.id, behalf: c.users.sales.id }, 'actorId = delegate, onBehalfOfId = delegator');

  t.equal((await app.rest(c.users.branchManager, 'DELETE', `/v1/delegations/${d.body.id}`)).status, 204, 'the manager revokes');
  t.equal(problemOf(await app.rest(delegate, 'GET', `/v1/customers/${customer.id}`), 404), null, 'REST: gone after revoke');
  t.same((await app.gql(delegate, CUSTOMER, { id: customer.id })).codes, ['NOT_FOUND'], 'GraphQL: gone after revoke');
  t.equal(problemOf(await app.rest(delegate, 'PATCH', `/v1/customers/${customer.id}`, { industry: 'Too late' }), 404), null);
  t.same((await app.gql(delegate, UPDATE_CUSTOMER, { id: customer.id, input: { industry: 'Too late' } })).codes, ['NOT_FOUND']);
});

t.test('an expired delegation, or one yet to start, grants nothing', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const expired = (await delegation(app, c.users.sales, c.users.sales2, { startsAt: new Date(Date.now() - 3 * day), endsAt: new Date(Date.now() - hour) })).id;
  const future = (await delegation(app, c.users.sales, c.users.sales2, { startsAt: new Date(Date.now() + day), endsAt: new Date(Date.now() + 2 * day) })).id;
  t.equal(problemOf(await app.rest(c.users.sales2, 'GET', `/v1/customers/${customer.id}`), 404), null, 'REST: invisible');
  t.same((await app.gql(c.users.sales2, CUSTOMER, { id: customer.id })).codes, ['NOT_FOUND'], 'GraphQL: invisible');
  const listed = await app.rest(c.users.sales2, 'GET', '/v1/delegations?active=false');
  t.same(listed.body.data.map((d: any) => d.id).sort(), [expired, future].sort(), 'both listed as inactive');
  t.same(listed.body.data.map((d: any) => d.active), [false, false]);
  t.same((await app.rest(c.users.sales2, 'GET', '/v1/delegations?active=true')).body.data, []);
});

t.test('a delegation never crosses a partner boundary', async (t) => {
  const c = await company(app);
  const partnerCustomer = await app.customer(c.users.partnerASales);
  const before = await delegationsFrom(c.users.partnerASales.id);

  const adminCross = await app.rest(c.users.admin, 'POST', '/v1/delegations', { fromUserId: c.users.partnerASales.id, toUserId: c.users.sales.id, endsAt: inMs(day) });
  t.equal(problemOf(adminCross, 422, ['toUserId']), null, 'partner → company staff: 422, even for an admin');
  t.match(adminCross.body.detail, /partner boundary/);
  const otherPartner = await app.rest(c.users.admin, 'POST', '/v1/delegations', { fromUserId: c.users.partnerASales.id, toUserId: c.users.partnerBSales.id, endsAt: inMs(day) });
  t.equal(problemOf(otherPartner, 422, ['toUserId']), null, 'partner A → partner B: 422');
  const managerIntoPartner = await app.rest(c.users.regionManager, 'POST', '/v1/delegations', { toUserId: c.users.partnerASales.id, endsAt: inMs(day) });
  t.equal(problemOf(managerIntoPartner, 422, ['toUserId']), null, 'company → partner: 422');
  const partnerProbe = await app.rest(c.users.partnerAManager, 'POST', '/v1/delegations', { fromUserId: c.users.partnerASales.id, toUserId: c.users.partnerBSales.id, endsAt: inMs(day) });
  const unknown = await app.rest(c.users.partnerAManager, 'POST', '/v1/delegations', { fromUserId: c.users.partnerASales.id, toUserId: randomUUID(), endsAt: inMs(day) });
  t.equal(problemOf(partnerProbe, 400, ['toUserId']), null, 'another partner’s user does not exist for a partner manager');
  t.equal(partnerProbe.body.detail, unknown.body.detail, 'the same answer as an unknown id');
  t.equal(await delegationsFrom(c.users.partnerASales.id), before, 'nothing written');

  // Within the partner (its sub-unit is still the same partner): allowed, and it works.
  const inside = await app.rest(c.users.partnerAManager, 'POST', '/v1/delegations', { fromUserId: c.users.partnerASales.id, toUserId: c.users.partnerASubSales.id, endsAt: inMs(day) });
  t.equal(inside.status, 201, inside.raw);
  t.equal((await app.rest(c.users.partnerASubSales, 'GET', `/v1/customers/${partnerCustomer.id}`)).status, 200, 'the delegate inside the partner sees the customer');
  t.equal((await app.rest(c.users.partnerBSales, 'GET', `/v1/customers/${partnerCustomer.id}`)).status, 404, 'the other partner never');
  t.equal((await app.rest(c.users.sales, 'GET', `/v1/customers/${partnerCustomer.id}`)).status, 404, 'nor the company’s salespeople');
  t.equal(problemOf(await app.rest(c.users.partnerBManager, 'GET', `/v1/delegations/${inside.body.id}`), 404), null, 'the delegation itself is invisible to the other partner');
  t.equal(problemOf(await app.rest(c.users.partnerBManager, 'DELETE', `/v1/delegations/${inside.body.id}`), 404), null);
});

t.test('who may delegate', async (t) => {
  const c = await company(app);
  const forColleague = await app.rest(c.users.sales, 'POST', '/v1/delegations', { fromUserId: c.users.sales2.id, toUserId: c.users.sales.id, endsAt: inMs(day) });
  t.equal(problemOf(forColleague, 403, ['fromUserId']), null, 'a salesperson cannot delegate a colleague’s work');
  const noPermission = await app.rest(c.users.service, 'POST', '/v1/delegations', { toUserId: c.users.sales.id, endsAt: inMs(day) });
  t.equal(problemOf(noPermission, 403), null, 'a role without delegations:create: 403');
  const outside = await app.rest(c.users.branchManager, 'POST', '/v1/delegations', { fromUserId: c.users.sales.id, toUserId: c.users.otherSales.id, endsAt: inMs(day) });
  t.equal(problemOf(outside, 400, ['toUserId']), null, 'a user outside the manager’s sight: no such user');
  const regional = await app.rest(c.users.regionManager, 'POST', '/v1/delegations', { fromUserId: c.users.sales.id, toUserId: c.users.otherSales.id, endsAt: inMs(day) });
  t.equal(regional.status, 201, 'a manager over both branches may');
  t.equal(await delegationsFrom(c.users.sales2.id), 0);
});

t.test('bad input answers 400 naming the field, and writes nothing', async (t) => {
  const c = await company(app);
  const inactive = await app.user(c.branch, ['sales'], { active: false });
  const me = c.users.sales;
  const cases: [string, Record<string, unknown>, string[], number?][] = [
    ['toUserId missing', { endsAt: inMs(day) }, ['toUserId']],
    ['endsAt missing', { toUserId: c.users.sales2.id }, ['endsAt']],
    ['endsAt not a time', { toUserId: c.users.sales2.id, endsAt: 'tomorrow' }, ['endsAt']],
    ['endsAt before startsAt', { toUserId: c.users.sales2.id, startsAt: inMs(2 * day), endsAt: inMs(day) }, ['endsAt']],
    ['longer than 180 days', { toUserId: c.users.sales2.id, endsAt: inMs(181 * day) }, ['endsAt']],
    ['ended already', { toUserId: c.users.sales2.id, startsAt: new Date(Date.now() - 3 * day).toISOString(), endsAt: new Date(Date.now() - day).toISOString() }, ['endsAt']],
    ['unknown field', { toUserId: c.users.sales2.id, endsAt: inMs(day), note: 'x' }, ['note']],
    ['unknown user', { toUserId: randomUUID(), endsAt: inMs(day) }, ['toUserId']],
    ['invisible user', { toUserId: c.users.otherSales.id, endsAt: inMs(day) }, ['toUserId']],
    ['self', { toUserId: me.id, endsAt: inMs(day) }, ['toUserId']],
    ['inactive delegate', { toUserId: inactive.id, endsAt: inMs(day) }, ['toUserId']],
    ['bad uuid', { toUserId: 'nope', endsAt: inMs(day) }, ['toUserId']],
  ];
  for (const [name, body, paths] of cases) {
    t.equal(problemOf(await app.rest(me, 'POST', '/v1/delegations', body), 400, paths), null, name);
  }
  t.equal(problemOf(await app.rest(me, 'GET', '/v1/delegations?active=maybe'), 400, ['active']), null, 'list filter');
  t.equal(problemOf(await app.rest(me, 'GET', '/v1/delegations?cursor=zzz'), 400, ['cursor']), null, 'cursor');
  t.equal(problemOf(await app.rest(me, 'GET', '/v1/delegations/not-a-uuid'), 400), null);
  t.equal(problemOf(await app.rest(me, 'GET', `/v1/delegations/${randomUUID()}`), 404), null);
  t.equal(await delegationsFrom(me.id), 0, 'nothing written');
  const g = await app.gql(me, CREATE, { input: { toUserId: me.id, endsAt: inMs(day) } });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(g), ['toUserId']);
  const gf = await app.gql(me, LIST, { filter: { fromUserId: 'nope' } });
  t.same(gf.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(gf), ['filter.fromUserId']);
  t.equal(await delegationsFrom(me.id), 0);
});

t.test('lists page by keyset', async (t) => {
  const c = await company(app);
  for (let i = 0; i < 3; i++) t.equal((await app.rest(c.users.sales, 'POST', '/v1/delegations', { toUserId: c.users.sales2.id, endsAt: inMs((i + 1) * day) })).status, 201);
  const first = await app.rest(c.users.sales, 'GET', '/v1/delegations?limit=2');
  t.equal(first.body.data.length, 2);
  t.type(first.body.nextCursor, 'string');
  const second = await app.rest(c.users.sales, 'GET', `/v1/delegations?limit=2&cursor=${first.body.nextCursor}`);
  t.equal(second.body.data.length, 1);
  t.equal(second.body.nextCursor, null);
  const ids = [...first.body.data, ...second.body.data].map((d: any) => d.id);
  t.equal(new Set(ids).size, 3, 'no repeats');
  const g1 = await app.gql(c.users.sales, LIST, { first: 2 });
  t.equal(g1.data.delegations.pageInfo.hasNextPage, true);
  const g2 = await app.gql(c.users.sales, LIST, { first: 2, after: g1.data.delegations.pageInfo.endCursor });
  t.same([...g1.data.delegations.edges, ...g2.data.delegations.edges].map((e: any) => e.node.id), ids, 'GraphQL pages the same way');
});
