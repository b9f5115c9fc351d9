import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';
import { unitsNamed, usersWithEmail, rolesNamed } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

t.test('only admins create and change units, users and roles', async (t) => {
  const c = await company(app);
  const { users: u } = c;
  const nonAdmins = [u.sales, u.executive, u.branchManager, u.regionManager, u.marketing, u.service, u.partnerAManager, u.partnerASales, u.integration];
  for (const who of nonAdmins) {
    const what = who.roles.join('+');
    const unitName = `Denied ${tag()}`;
    const email = `denied-${tag()}@test.example`;
    const roleName = `denied_${tag()}`;
    t.equal(problemOf(await app.rest(who, 'POST', '/v1/org-units', { name: unitName, kind: 'DEPARTMENT', parentId: c.branch.id }), 403), null, `${what}: POST /v1/org-units`);
    t.equal(problemOf(await app.rest(who, 'POST', '/v1/users', { email, name: 'X', unitId: c.branch.id, roles: ['sales'] }), 403), null, `${what}: POST /v1/users`);
    t.equal(problemOf(await app.rest(who, 'POST', '/v1/roles', { name: roleName, scope: 'OWN', permissions: [] }), 403), null, `${what}: POST /v1/roles`);
    t.equal(problemOf(await app.rest(who, 'PATCH', `/v1/org-units/${who.unitId}`, { name: unitName }), 403), null, `${what}: PATCH its own unit`);
    t.equal(problemOf(await app.rest(who, 'PATCH', `/v1/users/${who.id}`, { name: 'Self-made' }), 403), null, `${what}: PATCH itself`);
    t.equal(await unitsNamed(app, unitName), 0);
    t.equal(await usersWithEmail(app, email), 0);
    t.equal(await rolesNamed(app, roleName), 0);
  }
  const g = await app.gql(u.sales, 'mutation($i: CreateOrgUnitInput!) { createOrgUnit(input: $i) { id } }', { i: { name: `Denied ${tag()}`, kind: 'DEPARTMENT', parentId: c.branch.id } });
  t.same(g.codes, ['FORBIDDEN'], 'GraphQL createOrgUnit: FORBIDDEN');
  const g2 = await app.gql(u.sales, 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { email: `d-${tag()}@test.example`, name: 'X', unitId: c.branch.id, roles: ['sales'] } });
  t.same(g2.codes, ['FORBIDDEN'], 'GraphQL createUser: FORBIDDEN');
  const g3 = await app.gql(u.sales, 'mutation($i: CreateRoleInput!) { createRole(input: $i) { id } }', { i: { name: `d_${tag()}`, scope: 'OWN', permissions: [] } });
  t.same(g3.codes, ['FORBIDDEN'], 'GraphQL createRole: FORBIDDEN');
  const g4 = await app.gql(u.branchManager, 'mutation($id: ID!) { updateUser(id: $id, input: { name: "X" }) { id } }', { id: u.sales.id });
  t.same(g4.codes, ['FORBIDDEN'], 'GraphQL updateUser by a manager: FORBIDDEN');
});

t.test('bad input is reported before permission: 400 for everyone', async (t) => {
  const c = await company(app);
  const res = await app.rest(c.users.sales, 'POST', '/v1/org-units', { name: '', kind: 'REGION', parentId: c.region.id });
  t.equal(problemOf(res, 400, ['name']), null);
});

t.test('reads: executive sees the whole company, managers their subtree', async (t) => {
  const c = await company(app);
  const { users: u } = c;
  for (const id of [c.partnerA.id, c.partnerB.id, c.branch.id]) {
    t.equal((await app.rest(u.executive, 'GET', `/v1/org-units/${id}`)).status, 200, 'executive reads any unit');
  }
  for (const other of [u.partnerBSales, u.partnerASubSales, u.sales]) {
    t.equal((await app.rest(u.executive, 'GET', `/v1/users/${other.id}`)).status, 200, 'executive reads any user');
    t.equal((await app.rest(u.integration, 'GET', `/v1/users/${other.id}`)).status, 200, 'integration reads users');
  }
  t.equal((await app.rest(u.regionManager, 'GET', `/v1/users/${u.partnerBSales.id}`)).status, 200, 'region manager: its partners too');
  t.equal((await app.rest(u.branchManager, 'GET', `/v1/users/${u.otherSales.id}`)).status, 404, 'branch manager: not the sibling branch');
  t.equal((await app.rest(u.sales, 'GET', `/v1/users/${u.sales2.id}`)).status, 200, 'OWN scope still reads its own unit’s users');
  t.equal((await app.rest(u.sales, 'GET', `/v1/users/${u.otherSales.id}`)).status, 404, 'but not another unit’s');
  t.equal((await app.rest(u.sales, 'GET', '/v1/roles')).status, 403, 'sales: no roles:read');
});

t.test('a partner manager sees its own partner subtree and nothing of the sibling partner', async (t) => {
  const c = await company(app);
  const { users: u } = c;
  const pm = u.partnerAManager;
  const units = (await app.rest(pm, 'GET', '/v1/org-units')).body.data.map((x: any) => x.id);
  t.ok(units.includes(c.partnerA.id) && units.includes(c.partnerASub.id));
  t.notOk(units.includes(c.partnerB.id), 'no sibling partner in the tree');
  const users = (await app.rest(pm, 'GET', '/v1/users?limit=200')).body.data.map((x: any) => x.id);
  for (const mine of [u.partnerAManager, u.partnerASales, u.partnerASubSales]) t.ok(users.includes(mine.id), 'its own users');
  for (const theirs of [u.partnerBManager, u.partnerBSales, u.sales, u.regionManager, u.admin]) t.notOk(users.includes(theirs.id), 'nobody else');

  t.equal(problemOf(await app.rest(pm, 'GET', `/v1/users/${u.partnerBSales.id}`), 404), null, 'GET the other partner’s user: 404');
  t.equal(problemOf(await app.rest(pm, 'GET', `/v1/users/${u.partnerBManager.id}`), 404), null);
  t.equal(problemOf(await app.rest(pm, 'GET', `/v1/org-units/${c.partnerB.id}`), 404), null, 'GET the other partner: 404');
  t.equal(problemOf(await app.rest(u.partnerBManager, 'GET', `/v1/users/${u.partnerASubSales.id}`), 404), null, 'and the other way round');
  const g = await app.gql(pm, 'query($id: ID!) { user(id: $id) { id } }', { id: u.partnerBSales.id });
  t.same(g.codes, ['NOT_FOUND']);
  const gu = await app.gql(pm, '{ users(first: 200) { edges { node { id unit { id } } } } }');
  const gIds = gu.data.users.edges.map((e: any) => e.node.id);
  t.notOk(gIds.includes(u.partnerBSales.id), 'GraphQL list: not the other partner');
  const go = await app.gql(pm, 'query($id: ID!) { orgUnit(id: $id) { id } }', { id: c.partnerB.id });
  t.same(go.codes, ['NOT_FOUND']);
});

t.test('a sub-unit salesperson of a partner sees its partner chain, not its siblings', async (t) => {
  const c = await company(app);
  const { users: u } = c;
  const units = (await app.rest(u.partnerASubSales, 'GET', '/v1/org-units')).body.data.map((x: any) => x.id);
  t.ok(units.includes(c.partnerASub.id) && units.includes(c.partnerA.id), 'its unit and the units above');
  t.notOk(units.includes(c.partnerB.id));
  t.notOk(units.includes(c.branch.id));
  t.equal((await app.rest(u.partnerASubSales, 'GET', `/v1/users/${u.partnerASales.id}`)).status, 404, 'OWN scope: not the partner head office’s users');
});
