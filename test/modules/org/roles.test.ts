import { randomUUID } from 'node:crypto';
import t from 'tap';
import { BUILT_IN_ROLES } from '../../../src/modules/org/built-in-roles.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { customRole, tag } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { ROLE_FIELDS, rolesNamed } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const CREATE = `mutation($input: CreateRoleInput!) { createRole(input: $input) { ${ROLE_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateRoleInput!, $v: Int) { updateRole(id: $id, input: $input, expectedVersion: $v) { ${ROLE_FIELDS} } }`;

async function builtIn(name: string) {
  const admin = await app.admin();
  const res = await app.rest(admin, 'GET', '/v1/roles');
  return res.body.data.find((r: any) => r.name === name);
}

t.test('list and read roles', async (t) => {
  const c = await company(app);
  const res = await app.rest(c.users.admin, 'GET', '/v1/roles');
  t.equal(res.status, 200);
  for (const b of BUILT_IN_ROLES) {
    const r = res.body.data.find((x: any) => x.name === b.name);
    t.match(r, { name: b.name, scope: b.scope, builtIn: true }, `built-in ${b.name}`);
  }
  const one = await app.rest(c.users.branchManager, 'GET', `/v1/roles/${res.body.data[0].id}`);
  t.equal(one.status, 200, 'a manager may read roles');
  t.equal(one.headers.etag, `"${one.body.version}"`);
  t.equal(problemOf(await app.rest(c.users.admin, 'GET', `/v1/roles/${randomUUID()}`), 404), null);
  t.equal(problemOf(await app.rest(c.users.admin, 'GET', '/v1/roles/admin'), 400, ['id']), null);
  t.equal(problemOf(await app.rest(c.users.sales, 'GET', '/v1/roles'), 403), null, 'sales may not');
  const g = await app.gql(c.users.admin, `{ roles { ${ROLE_FIELDS} } }`);
  t.same(g.data.roles.map((r: any) => r.id), res.body.data.map((r: any) => r.id), 'GraphQL lists the same roles');
  const g1 = await app.gql(c.users.admin, `query($id: ID!) { role(id: $id) { ${ROLE_FIELDS} } }`, { id: one.body.id });
  t.same(g1.data.role, one.body);
  t.same((await app.gql(c.users.sales, '{ roles { id } }')).codes, ['FORBIDDEN']);
  t.same((await app.gql(c.users.admin, 'query($id: ID!) { role(id: $id) { id } }', { id: randomUUID() })).codes, ['NOT_FOUND']);
});

t.test('create a custom role', async (t) => {
  const admin = await app.admin();
  const name = `field_rep_${tag()}`;
  const res = await app.rest(admin, 'POST', '/v1/roles', {
    name,
    scope: 'unit',
    permissions: ['customers:read', 'customers:update', 'interactions:*', 'customers:read'],
    hiddenFields: ['customer.valueClass'],
  });
  t.equal(res.status, 201, res.raw);
  t.match(res.body, { name, scope: 'UNIT', permissions: ['customers:read', 'customers:update', 'interactions:*'], hiddenFields: ['customer.valueClass'], builtIn: false, version: 1 });
  t.equal(res.headers.location, `/v1/roles/${res.body.id}`);
  t.same((await app.rest(admin, 'GET', `/v1/roles/${res.body.id}`)).body, res.body);
  const g = await app.gql(admin, CREATE, { input: { name: `gql_${tag()}`, scope: 'OWN', permissions: ['*:read'] } });
  t.match(g.data.createRole, { scope: 'OWN', permissions: ['*:read'], hiddenFields: [], builtIn: false });
});

t.test('create: bad input and clashing names write nothing', async (t) => {
  const admin = await app.admin();
  const cases: [string, Record<string, unknown>, number, string[]][] = [
    ['a built-in name', { name: 'admin' }, 409, ['name']],
    ['bad name', { name: 'Field Rep' }, 400, ['name']],
    ['one-letter name', { name: 'x' }, 400, ['name']],
    ['bad scope', { scope: 'GALAXY' }, 400, ['scope']],
    ['bad permission', { permissions: ['customers'] }, 400, ['permissions.0']],
    ['bad permission 2', { permissions: ['customers:read', 'Customers:Read'] }, 400, ['permissions.1']],
    ['unknown hidden field', { hiddenFields: ['customer.secretSauce'] }, 400, ['hiddenFields.0']],
    ['missing permissions', { permissions: undefined }, 400, ['permissions']],
    ['unknown field', { builtIn: true }, 400, ['builtIn']],
  ];
  for (const [what, patch, status, paths] of cases) {
    const name = (patch.name as string | undefined) ?? `bad_${tag()}`;
    const body = JSON.parse(JSON.stringify({ name, scope: 'OWN', permissions: ['customers:read'], ...patch }));
    t.equal(problemOf(await app.rest(admin, 'POST', '/v1/roles', body), status, paths), null, what);
    if (name !== 'admin') t.equal(await rolesNamed(app, name), 0, `${what}: nothing written`);
  }
  t.equal(await rolesNamed(app, 'admin'), 1, 'still one admin role');
  const r = await customRole(app, 'OWN', ['customers:read']);
  t.equal(problemOf(await app.rest(admin, 'POST', '/v1/roles', { name: r.name, scope: 'ALL', permissions: [] }), 409, ['name']), null, 'duplicate custom name');
  const g = await app.gql(admin, CREATE, { input: { name: r.name, scope: 'OWN', permissions: [] } });
  t.same(g.codes, ['CONFLICT']);
  const gb = await app.gql(admin, CREATE, { input: { name: `gql_${tag()}`, scope: 'OWN', permissions: ['nope'] } });
  t.same(gqlPaths(gb), ['input.permissions.0']);
});

t.test('built-in roles: name and scope fixed, permissions editable', async (t) => {
  const admin = await app.admin();
  const mgr = await builtIn('manager');
  const url = `/v1/roles/${mgr.id}`;
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { name: 'boss' }), 422, ['name']), null, 'name fixed');
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { scope: 'ALL' }), 422, ['scope']), null, 'scope fixed');
  t.equal(problemOf(await app.rest(admin, 'PATCH', `/v1/roles/${(await builtIn('sales')).id}`, { scope: 'unit' }), 422, ['scope']), null);
  const g = await app.gql(admin, UPDATE, { id: mgr.id, input: { name: 'boss' } });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(g), ['name']);
  const after = await builtIn('manager');
  t.match(after, { name: 'manager', scope: 'SUBTREE' }, 'unchanged');
  // Writing the same permissions back: editable, and harmless to every other test sharing the role.
  const same = await app.rest(admin, 'PATCH', url, { permissions: after.permissions, scope: 'SUBTREE', name: 'manager' });
  t.equal(same.status, 200, same.raw);
  t.same(same.body.permissions, after.permissions);
  t.ok(same.body.version > after.version, 'a new version');
});

t.test('PATCH a custom role: rename, If-Match, 412, bad input', async (t) => {
  const admin = await app.admin();
  const r = await customRole(app, 'OWN', ['customers:read']);
  const url = `/v1/roles/${r.id}`;
  const name = `renamed_${tag()}`;
  const ok = await app.rest(admin, 'PATCH', url, { name }, { 'if-match': '"1"' });
  t.equal(ok.status, 200);
  t.match(ok.body, { name, version: 2 });
  t.equal(ok.headers.etag, '"2"');
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { name: `stale_${tag()}` }, { 'if-match': '"1"' }), 412), null);
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { name: 'executive' }), 409, ['name']), null, 'no renaming onto a built-in name');
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { permissions: ['read everything'] }), 400, ['permissions.0']), null);
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { builtIn: true }), 400, ['builtIn']), null);
  t.equal(problemOf(await app.rest(admin, 'PATCH', `/v1/roles/${randomUUID()}`, { name: `x_${tag()}` }), 404), null);
  const now = await app.rest(admin, 'GET', url);
  t.match(now.body, { name, version: 2, permissions: ['customers:read'] }, 'nothing else written');
  const g = await app.gql(admin, UPDATE, { id: r.id, input: { scope: 'UNIT' }, v: 1 });
  t.same(g.codes, ['PRECONDITION_FAILED']);
  const g2 = await app.gql(admin, UPDATE, { id: r.id, input: { scope: 'UNIT' }, v: 2 });
  t.match(g2.data.updateRole, { scope: 'UNIT', version: 3 });
});

t.test('permission, scope and hidden-field changes apply on the very next request', async (t) => {
  const c = await company(app);
  const admin = c.users.admin;
  const r = await customRole(app, 'OWN', ['users:read', 'customers:read', 'customers:create'], ['customer.registrationId']);
  const u = await app.user(c.branch, [r.name]);
  const colleague = await app.customer(c.users.sales, { registrationId: `REG-${tag()}` });
  // The user may not write a field hidden from it; an admin records it on the user's behalf.
  const made = await app.rest(admin, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name: `Own ${tag()}`, registrationId: `REG-${tag()}`, ownerUserId: u.id });
  t.equal(made.status, 201, made.raw);
  const own = made.body;

  t.equal((await app.rest(u, 'GET', '/v1/org-units')).status, 403, 'no org-units:read yet');
  const r1 = await app.rest(admin, 'PATCH', `/v1/roles/${r.id}`, { permissions: ['users:read', 'customers:read', 'customers:create', 'org-units:read'] });
  t.equal(r1.status, 200);
  t.equal((await app.rest(u, 'GET', '/v1/org-units')).status, 200, 'granted: effective at once');
  const g = await app.gql(u, '{ orgUnits { id } }');
  t.equal(g.errors, undefined, 'GraphQL too');

  const mine = await app.rest(u, 'GET', `/v1/customers/${own.id}`);
  t.equal(mine.status, 200);
  t.notOk('registrationId' in mine.body, 'hidden field absent');
  t.equal((await app.rest(u, 'GET', `/v1/customers/${colleague.id}`)).status, 404, 'OWN: the colleague’s customer is invisible');

  await app.rest(admin, 'PATCH', `/v1/roles/${r.id}`, { scope: 'UNIT', hiddenFields: [] });
  const seen = await app.rest(u, 'GET', `/v1/customers/${colleague.id}`);
  t.equal(seen.status, 200, 'UNIT: now visible');
  t.equal(seen.body.registrationId, colleague.registrationId, 'field shown again');

  await app.rest(admin, 'PATCH', `/v1/roles/${r.id}`, { permissions: ['users:read'] });
  t.equal((await app.rest(u, 'GET', '/v1/org-units')).status, 403, 'revoked: effective at once');
  t.equal((await app.rest(u, 'GET', `/v1/customers/${own.id}`)).status, 403, 'no customers:read at all: 403');
  const me = (await app.rest(u, 'GET', '/v1/me')).body;
  t.same(me.effectiveScopes, [{ permission: 'users:read', scope: 'UNIT' }]);
});

t.test('scope ALL is refused while partner users hold the role', async (t) => {
  const c = await company(app);
  const admin = c.users.admin;
  const r = await customRole(app, 'SUBTREE', ['customers:read']);
  await app.user(c.partnerASub, [r.name]);
  const res = await app.rest(admin, 'PATCH', `/v1/roles/${r.id}`, { scope: 'ALL' });
  t.equal(problemOf(res, 422, ['scope']), null);
  t.match((await app.rest(admin, 'GET', `/v1/roles/${r.id}`)).body, { scope: 'SUBTREE', version: 1 }, 'unchanged');
  const g = await app.gql(admin, UPDATE, { id: r.id, input: { scope: 'ALL' } });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(g), ['scope']);

  const staffOnly = await customRole(app, 'SUBTREE', ['customers:read']);
  await app.user(c.branch, [staffOnly.name]);
  t.equal((await app.rest(admin, 'PATCH', `/v1/roles/${staffOnly.id}`, { scope: 'ALL' })).status, 200, 'company staff only: allowed');
  // And now that it is ALL, it cannot be handed to a partner user.
  const give = await app.rest(admin, 'PATCH', `/v1/users/${c.users.partnerBSales.id}`, { roles: ['partner_sales', staffOnly.name] });
  t.equal(problemOf(give, 422, ['roles']), null);
});

t.test('only admins manage roles', async (t) => {
  const c = await company(app);
  const r = await customRole(app, 'OWN', ['customers:read']);
  for (const who of [c.users.branchManager, c.users.executive, c.users.sales, c.users.partnerAManager, c.users.integration]) {
    const name = `nope_${tag()}`;
    t.equal(problemOf(await app.rest(who, 'POST', '/v1/roles', { name, scope: 'OWN', permissions: [] }), 403), null, 'POST: 403');
    t.equal(await rolesNamed(app, name), 0);
    t.equal(problemOf(await app.rest(who, 'PATCH', `/v1/roles/${r.id}`, { permissions: ['*:*'] }), 403), null, 'PATCH: 403');
  }
  t.same((await app.gql(c.users.branchManager, CREATE, { input: { name: `nope_${tag()}`, scope: 'OWN', permissions: [] } })).codes, ['FORBIDDEN']);
  t.same((await app.gql(c.users.branchManager, UPDATE, { id: r.id, input: { permissions: ['*:*'] } })).codes, ['FORBIDDEN']);
  t.match((await app.rest(c.users.admin, 'GET', `/v1/roles/${r.id}`)).body, { permissions: ['customers:read'], version: 1 });
});

t.test("a partner's users never edit roles, whatever a custom role grants them", async (t) => {
  const c = await company(app);
  const admin = await app.admin();
  const name = `partner_role_admin_${randomUUID().slice(0, 8)}`;
  const made = await app.rest(admin, 'POST', '/v1/roles', { name, scope: 'SUBTREE', permissions: ['roles:*', 'customers:read'] });
  t.equal(made.status, 201);
  const partnerAdmin = await app.user(c.partnerA, [name]);
  const sales = await builtIn('sales');
  const patch = await app.rest(partnerAdmin, 'PATCH', `/v1/roles/${sales.id}`, { permissions: ['*:*'] });
  t.equal(problemOf(patch, 403), null, 'PATCH of a role from inside a partner: 403');
  t.equal(problemOf(await app.rest(partnerAdmin, 'POST', '/v1/roles', { name: `x_${randomUUID().slice(0, 8)}`, scope: 'OWN', permissions: [] }), 403), null);
  t.same((await app.gql(partnerAdmin, UPDATE, { id: sales.id, input: { permissions: ['*:*'] } })).codes, ['FORBIDDEN']);
  t.same((await builtIn('sales')).permissions, sales.permissions, 'the built-in role is unchanged');
});
