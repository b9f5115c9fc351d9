import { randomUUID } from 'node:crypto';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { customRole, tag } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { partnerAdmin, USER_FIELDS, usersWithEmail } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { ${USER_FIELDS} unit { id kind } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateUserInput!, $v: Int) { updateUser(id: $id, input: $input, expectedVersion: $v) { ${USER_FIELDS} } }`;
const email = (what = 'user') => `${what}-${tag()}@Test.Example`;

t.test('create a user with role names; it can sign in', async (t) => {
  const c = await company(app);
  const e = email();
  const res = await app.rest(c.users.admin, 'POST', '/v1/users', { email: e, name: 'Ada Lovelace', unitId: c.branch.id, roles: ['sales', 'service', 'sales'] });
  t.equal(res.status, 201, res.raw);
  t.match(res.body, { email: e, name: 'Ada Lovelace', unitId: c.branch.id, roles: ['sales', 'service'], kind: 'HUMAN', active: true, version: 1 });
  t.equal(res.headers.location, `/v1/users/${res.body.id}`);
  t.equal(res.headers.etag, '"1"');
  const read = await app.rest(c.users.admin, 'GET', `/v1/users/${res.body.id}`);
  t.same(read.body, res.body);
  t.equal(read.headers.etag, '"1"');
  const me = await app.rest(app.token(res.body.id), 'GET', '/v1/me');
  t.equal(me.status, 200, 'the new user can use the API');
  t.same(me.body.user.roles, ['sales', 'service']);

  const svc = await app.rest(c.users.admin, 'POST', '/v1/users', { email: email('erp'), name: 'ERP', unitId: (await app.root()).id, roles: ['integration'], kind: 'service' });
  t.equal(svc.status, 201);
  t.match(svc.body, { kind: 'SERVICE', roles: ['integration'] });

  const custom = await customRole(app, 'UNIT', ['customers:read']);
  const withCustom = await app.rest(c.users.admin, 'POST', '/v1/users', { email: email(), name: 'Custom', unitId: c.branch.id, roles: [custom.name] });
  t.same(withCustom.body.roles, [custom.name], 'custom roles by name');
});

t.test('create: bad input and duplicates write nothing', async (t) => {
  const c = await company(app);
  const admin = c.users.admin;
  const ok = { name: 'Someone', unitId: c.branch.id, roles: ['sales'] };
  const cases: [string, Record<string, unknown>, number, string[]][] = [
    ['bad email', { email: 'not-an-email' }, 400, ['email']],
    ['no roles', { roles: [] }, 400, ['roles']],
    ['unknown role', { roles: ['sales', 'wizard'] }, 400, ['roles']],
    ['bad role name', { roles: ['Sales Team'] }, 400, ['roles.0']],
    ['missing unit', { unitId: undefined }, 400, ['unitId']],
    ['bad unit id', { unitId: 'branch' }, 400, ['unitId']],
    ['nonexistent unit', { unitId: randomUUID() }, 400, ['unitId']],
    ['bad kind', { kind: 'ROBOT' }, 400, ['kind']],
    ['empty name', { name: ' ' }, 400, ['name']],
    ['unknown field', { password: 'x' }, 400, ['password']],
  ];
  for (const [what, patch, status, paths] of cases) {
    const e = email('bad');
    const body = JSON.parse(JSON.stringify({ ...ok, email: e, ...patch }));
    t.equal(problemOf(await app.rest(admin, 'POST', '/v1/users', body), status, paths), null, what);
    t.equal(await usersWithEmail(app, e), 0, `${what}: nothing written`);
  }
  const e = email('dup');
  t.equal((await app.rest(admin, 'POST', '/v1/users', { ...ok, email: e })).status, 201);
  const dup = await app.rest(admin, 'POST', '/v1/users', { ...ok, email: e.toUpperCase(), name: 'Twin' });
  t.equal(problemOf(dup, 409, ['email']), null, 'duplicate email, whatever the case');
  t.equal(await usersWithEmail(app, e), 1, 'still one user');
  const g = await app.gql(admin, CREATE, { input: { ...ok, email: e, name: 'Twin' } });
  t.same(g.codes, ['CONFLICT'], 'GraphQL: CONFLICT');
  const gb = await app.gql(admin, CREATE, { input: { ...ok, email: 'nope' } });
  t.same(gb.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(gb), ['input.email']);
});

t.test('a partner unit’s user never gets an ALL-scope role', async (t) => {
  const c = await company(app);
  const admin = c.users.admin;
  const allRole = await customRole(app, 'ALL', ['customers:read']);
  for (const [unit, roles] of [
    [c.partnerA, ['executive']],
    [c.partnerA, ['partner_sales', 'integration']],
    [c.partnerASub, ['admin']],
    [c.partnerB, [allRole.name]],
  ] as const) {
    const e = email('partner');
    const res = await app.rest(admin, 'POST', '/v1/users', { email: e, name: 'P', unitId: unit.id, roles });
    t.equal(problemOf(res, 422, ['roles']), null, `create in a partner with ${roles.join('+')}`);
    t.equal(await usersWithEmail(app, e), 0, 'nothing written');
  }
  const grant = await app.rest(admin, 'PATCH', `/v1/users/${c.users.partnerASales.id}`, { roles: ['partner_sales', 'executive'] });
  t.equal(problemOf(grant, 422, ['roles']), null, 'granting ALL to a partner user');
  const moveIn = await app.rest(admin, 'PATCH', `/v1/users/${c.users.executive.id}`, { unitId: c.partnerASub.id });
  t.equal(problemOf(moveIn, 422, ['roles']), null, 'moving an ALL-scope user into a partner');
  t.match((await app.rest(admin, 'GET', `/v1/users/${c.users.executive.id}`)).body, { unitId: c.region.id, version: 1 }, 'not moved');
  t.same((await app.rest(admin, 'GET', `/v1/users/${c.users.partnerASales.id}`)).body.roles, ['partner_sales'], 'roles unchanged');
  const g = await app.gql(admin, UPDATE, { id: c.users.partnerASales.id, input: { roles: ['executive'] } });
  t.same(g.codes, ['BAD_USER_INPUT'], 'GraphQL: refused');
  t.same(gqlPaths(g), ['roles']);
  const fine = await app.rest(admin, 'POST', '/v1/users', { email: email(), name: 'P', unitId: c.partnerA.id, roles: ['partner_manager'] });
  t.equal(fine.status, 201, 'SUBTREE roles are fine');
});

t.test('PATCH: If-Match, 412, email clash, role change effective at once', async (t) => {
  const c = await company(app);
  const admin = c.users.admin;
  const u = c.users.sales;
  const url = `/v1/users/${u.id}`;
  const ok = await app.rest(admin, 'PATCH', url, { name: 'Renamed Seller' }, { 'if-match': '"1"' });
  t.equal(ok.status, 200, ok.raw);
  t.match(ok.body, { name: 'Renamed Seller', version: 2, roles: ['sales'] });
  t.equal(ok.headers.etag, '"2"');
  const stale = await app.rest(admin, 'PATCH', url, { name: 'Stale' }, { 'if-match': '"1"' });
  t.equal(problemOf(stale, 412), null);
  t.equal((await app.rest(admin, 'GET', url)).body.name, 'Renamed Seller', 'nothing written on 412');
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { name: 'x' }, { 'if-match': 'W/"x"' }), 400, ['If-Match']), null);
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { email: c.users.sales2.email.toUpperCase() }), 409, ['email']), null, 'email of another user');
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { roles: [] }), 400, ['roles']), null);
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { roles: ['nope_role'] }), 400, ['roles']), null);
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { unitId: randomUUID() }), 400, ['unitId']), null);
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { id: randomUUID() }), 400, ['id']), null);
  t.equal((await app.rest(admin, 'GET', url)).body.version, 2, 'bad input wrote nothing');
  t.equal(problemOf(await app.rest(admin, 'PATCH', `/v1/users/${randomUUID()}`, { name: 'x' }), 404), null);

  t.equal((await app.rest(u, 'GET', '/v1/org-units')).status, 200);
  t.equal((await app.rest(u, 'GET', '/v1/roles')).status, 403, 'sales cannot read roles');
  const promoted = await app.rest(admin, 'PATCH', url, { roles: ['manager'] }, { 'if-match': '"2"' });
  t.same(promoted.body.roles, ['manager']);
  t.equal((await app.rest(u, 'GET', '/v1/roles')).status, 200, 'the next request runs with the new roles');
  const moved = await app.rest(admin, 'PATCH', url, { unitId: c.otherBranch.id });
  t.equal(moved.body.unitId, c.otherBranch.id);
  t.equal((await app.rest(u, 'GET', '/v1/me')).body.unit.id, c.otherBranch.id);

  const g = await app.gql(admin, UPDATE, { id: u.id, input: { name: 'Via GraphQL' }, v: 1 });
  t.same(g.codes, ['PRECONDITION_FAILED'], 'GraphQL: stale version');
  const g2 = await app.gql(admin, UPDATE, { id: u.id, input: { name: 'Via GraphQL' }, v: moved.body.version });
  t.match(g2.data.updateUser, { name: 'Via GraphQL', version: moved.body.version + 1 });
});

t.test('deactivate: the token stops working; never oneself', async (t) => {
  const c = await company(app);
  const admin = c.users.admin;
  const u = c.users.sales2;
  t.equal((await app.rest(u, 'GET', '/v1/me')).status, 200);
  const off = await app.rest(admin, 'PATCH', `/v1/users/${u.id}`, { active: false });
  t.equal(off.status, 200);
  t.equal(off.body.active, false);
  t.equal(problemOf(await app.rest(u, 'GET', '/v1/me'), 401), null, 'REST: 401');
  t.same((await app.gql(u, '{ me { user { id } } }')).codes, ['UNAUTHENTICATED'], 'GraphQL: 401');
  t.equal((await app.rest(admin, 'GET', `/v1/users/${u.id}`)).status, 200, 'still there: history points at users');
  const inactive = await app.rest(admin, 'GET', `/v1/users?unitId=${c.branch.id}&active=false`);
  t.same(inactive.body.data.map((x: any) => x.id), [u.id], 'filter by active');
  t.equal((await app.rest(admin, 'PATCH', `/v1/users/${u.id}`, { active: true })).status, 200);
  t.equal((await app.rest(u, 'GET', '/v1/me')).status, 200, 'reactivated: the same token works again');

  const self = await app.rest(admin, 'PATCH', `/v1/users/${admin.id}`, { active: false });
  t.equal(problemOf(self, 422, ['active']), null, 'no one deactivates themselves');
  const viaG = await app.gql(admin, UPDATE, { id: c.users.service.id, input: { active: false } });
  t.equal(viaG.data.updateUser.active, false, 'GraphQL deactivates too');
  t.equal((await app.rest(c.users.service, 'GET', '/v1/me')).status, 401);
});

t.test('list and read: each principal sees the users of its reach', async (t) => {
  const c = await company(app);
  const all = Object.values(c.users);
  const list = async (who: typeof c.users.admin, q = '') => {
    const res = await app.rest(who, 'GET', `/v1/users?limit=200${q}`);
    t.equal(res.status, 200, res.raw.slice(0, 200));
    return res.body.data.map((u: any) => u.id) as string[];
  };
  const mine = (seen: string[]) => all.filter((u) => seen.includes(u.id)).map((u) => u.id).sort();
  const idsOf = (...us: (typeof c.users.admin)[]) => us.map((u) => u.id).sort();

  const pm = await list(c.users.partnerAManager);
  t.same(mine(pm), idsOf(c.users.partnerAManager, c.users.partnerASales, c.users.partnerASubSales), 'partner manager: its partner subtree only');
  const bm = await list(c.users.branchManager);
  t.same(mine(bm), idsOf(c.users.branchManager, c.users.sales, c.users.sales2, c.users.service), 'branch manager: its branch');
  const ps = await list(c.users.partnerASubSales);
  t.same(mine(ps), idsOf(c.users.partnerASubSales), 'OWN scope: its own unit (alone there)');
  const byUnit = await list(c.users.admin, `&unitId=${c.partnerA.id}`);
  t.same(byUnit.sort(), idsOf(c.users.partnerAManager, c.users.partnerASales), 'filter by unit');
  const byQ = await app.rest(c.users.admin, 'GET', `/v1/users?q=${encodeURIComponent(c.users.partnerBSales.email.slice(0, 20))}`);
  t.same(byQ.body.data.map((u: any) => u.id), [c.users.partnerBSales.id], 'search by email');

  t.equal((await app.rest(c.users.partnerAManager, 'GET', `/v1/users/${c.users.partnerASubSales.id}`)).status, 200);
  for (const other of [c.users.partnerBSales, c.users.partnerBManager, c.users.sales, c.users.regionManager]) {
    t.equal(problemOf(await app.rest(c.users.partnerAManager, 'GET', `/v1/users/${other.id}`), 404), null, 'outside its partner: 404');
  }
  t.equal((await app.rest(c.users.partnerBSales, 'GET', `/v1/users/${c.users.partnerBSales.id}`)).status, 200, 'everyone reads itself');
  const g = await app.gql(c.users.partnerAManager, 'query($id: ID!) { user(id: $id) { id } }', { id: c.users.partnerBSales.id });
  t.same(g.codes, ['NOT_FOUND'], 'GraphQL: NOT_FOUND');
  const gl = await app.gql(c.users.partnerAManager, `{ users(first: 200) { edges { node { ${USER_FIELDS} unit { id name } } cursor } pageInfo { hasNextPage endCursor } } }`);
  t.same(mine(gl.data.users.edges.map((e: any) => e.node.id)), mine(pm), 'GraphQL lists the same users');
  const withUnit = gl.data.users.edges.find((e: any) => e.node.id === c.users.partnerASubSales.id);
  t.equal(withUnit.node.unit.id, c.partnerASub.id, 'nested unit');
});

t.test('list: keyset pages and bad parameters', async (t) => {
  const c = await company(app);
  const unit = await app.unit('DEPARTMENT', c.branch);
  const made = [];
  for (let i = 0; i < 5; i++) made.push((await app.user(unit, ['sales'])).id);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: any = await app.rest(c.users.admin, 'GET', `/v1/users?unitId=${unit.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(res.status, 200);
    t.ok(res.body.data.length <= 2);
    seen.push(...res.body.data.map((u: any) => u.id));
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor && pages < 10);
  t.equal(pages, 3);
  t.same([...seen].sort(), [...made].sort(), 'every user once');
  t.equal(new Set(seen).size, 5);
  const g1 = await app.gql(c.users.admin, '{ users(first: 1) { edges { cursor } pageInfo { hasNextPage endCursor } } }');
  t.equal(g1.data.users.pageInfo.hasNextPage, true);
  for (const [q, path] of <[string, string][]>[
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['cursor=garbage', 'cursor'],
    ['unitId=x', 'unitId'],
    ['active=maybe', 'active'],
    ['colour=red', 'colour'],
  ]) {
    t.equal(problemOf(await app.rest(c.users.admin, 'GET', `/v1/users?${q}`), 400, [path]), null, q);
  }
  const gbad = await app.gql(c.users.admin, '{ users(first: 1, after: "garbage") { edges { cursor } } }');
  t.same(gbad.codes, ['BAD_USER_INPUT']);
});

t.test('a partner administers its own users and never another partner’s', async (t) => {
  const c = await company(app);
  const pa = await partnerAdmin(app, c.partnerA);
  const mine = await app.rest(pa, 'POST', '/v1/users', { email: email('pa'), name: 'A new', unitId: c.partnerASub.id, roles: ['partner_sales'] });
  t.equal(mine.status, 201, mine.raw);
  t.equal((await app.rest(pa, 'PATCH', `/v1/users/${mine.body.id}`, { name: 'A renamed' })).status, 200);

  const e = email('intruder');
  const there = await app.rest(pa, 'POST', '/v1/users', { email: e, name: 'B new', unitId: c.partnerB.id, roles: ['partner_sales'] });
  t.equal(problemOf(there, 400, ['unitId']), null, 'another partner’s unit: as if it did not exist');
  const above = await app.rest(pa, 'POST', '/v1/users', { email: e, name: 'HQ new', unitId: c.region.id, roles: ['sales'] });
  t.equal(problemOf(above, 403, ['unitId']), null, 'a visible unit above: 403');
  t.equal(await usersWithEmail(app, e), 0, 'nothing written');
  t.equal(problemOf(await app.rest(pa, 'GET', `/v1/users/${c.users.partnerBSales.id}`), 404), null);
  t.equal(problemOf(await app.rest(pa, 'PATCH', `/v1/users/${c.users.partnerBSales.id}`, { active: false }), 404), null, 'PATCH another partner’s user: 404');
  t.equal(problemOf(await app.rest(pa, 'PATCH', `/v1/users/${c.users.sales.id}`, { active: false }), 404), null, 'PATCH a company user: 404');
  t.equal(problemOf(await app.rest(pa, 'PATCH', `/v1/users/${mine.body.id}`, { unitId: c.partnerB.id }), 400, ['unitId']), null, 'moving a user to another partner');
  t.equal((await app.rest(c.users.partnerBSales, 'GET', '/v1/me')).status, 200, 'B’s user still active');
  const g = await app.gql(pa, UPDATE, { id: c.users.partnerBSales.id, input: { active: false } });
  t.same(g.codes, ['NOT_FOUND'], 'GraphQL: NOT_FOUND');
  const gc = await app.gql(pa, CREATE, { input: { email: e, name: 'B new', unitId: c.partnerB.id, roles: ['partner_sales'] } });
  t.same(gc.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(gc), ['unitId']);
  const all = await app.rest(pa, 'POST', '/v1/users', { email: e, name: 'Exec', unitId: c.partnerA.id, roles: ['executive'] });
  t.equal(problemOf(all, 422, ['roles']), null, 'no ALL role inside its own partner either');
});

t.test('create and read through GraphQL', async (t) => {
  const c = await company(app);
  const e = email('gql');
  const g = await app.gql(c.users.admin, CREATE, { input: { email: e, name: 'Grace', unitId: c.branch.id, roles: ['sales'], kind: 'HUMAN' } });
  t.equal(g.errors, undefined, JSON.stringify(g.errors));
  t.match(g.data.createUser, { email: e, name: 'Grace', unitId: c.branch.id, roles: ['sales'], kind: 'HUMAN', active: true, version: 1, unit: { id: c.branch.id, kind: 'BRANCH' } });
  const one = await app.gql(c.users.branchManager, `query($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`, { id: g.data.createUser.id });
  t.equal(one.data.user.email, e);
  const forbidden = await app.gql(c.users.branchManager, CREATE, { input: { email: email(), name: 'X', unitId: c.branch.id, roles: ['sales'] } });
  t.same(forbidden.codes, ['FORBIDDEN'], 'a manager does not create users');
});
