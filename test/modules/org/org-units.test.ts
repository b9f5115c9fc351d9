import { randomUUID } from 'node:crypto';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { partnerAdmin, UNIT_FIELDS, unitRow, unitsNamed } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const CREATE = `mutation($input: CreateOrgUnitInput!) { createOrgUnit(input: $input) { ${UNIT_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateOrgUnitInput!, $v: Int) { updateOrgUnit(id: $id, input: $input, expectedVersion: $v) { ${UNIT_FIELDS} } }`;
const ids = (res: { body: any }) => (res.body.data as { id: string }[]).map((u) => u.id);

t.test('list: each principal sees its part of the tree and the units above it', async (t) => {
  const c = await company(app);
  const root = await app.root();
  const mine = [c.region.id, c.branch.id, c.otherBranch.id, c.partnerA.id, c.partnerASub.id, c.partnerB.id];

  const all = await app.rest(c.users.admin, 'GET', '/v1/org-units');
  t.equal(all.status, 200);
  for (const id of [root.id, ...mine]) t.ok(ids(all).includes(id), 'admin sees every unit');
  const region = all.body.data.find((u: any) => u.id === c.region.id);
  t.match(region, { kind: 'REGION', parentId: root.id, partnerType: null, version: 1 });
  t.match(all.body.data.find((u: any) => u.id === c.partnerA.id), { kind: 'PARTNER', partnerType: 'RESELLER', parentId: c.region.id });
  t.match(all.body.data.find((u: any) => u.id === root.id), { kind: 'HEADQUARTERS', parentId: null });

  const bm = ids(await app.rest(c.users.branchManager, 'GET', '/v1/org-units'));
  t.ok(bm.includes(c.branch.id) && bm.includes(c.region.id) && bm.includes(root.id), 'branch manager: its branch and the chain above');
  for (const id of [c.otherBranch.id, c.partnerA.id, c.partnerB.id]) t.notOk(bm.includes(id), 'not the siblings');

  const rm = ids(await app.rest(c.users.regionManager, 'GET', '/v1/org-units'));
  for (const id of mine) t.ok(rm.includes(id), 'region manager: the whole region, partners included');

  const pm = ids(await app.rest(c.users.partnerAManager, 'GET', '/v1/org-units'));
  t.ok(pm.includes(c.partnerA.id) && pm.includes(c.partnerASub.id), 'partner manager: its partner subtree');
  for (const id of [c.partnerB.id, c.branch.id, c.otherBranch.id]) t.notOk(pm.includes(id), 'not the other partner, not the company branches');

  const g = await app.gql(c.users.partnerAManager, `{ orgUnits { ${UNIT_FIELDS} } }`);
  t.same(g.data.orgUnits.map((u: any) => u.id), pm, 'GraphQL lists the same units');
});

t.test('GET one unit: ETag, 404 for another partner’s unit on both doors', async (t) => {
  const c = await company(app);
  const res = await app.rest(c.users.partnerAManager, 'GET', `/v1/org-units/${c.partnerASub.id}`);
  t.equal(res.status, 200);
  t.equal(res.headers.etag, '"1"');
  t.match(res.body, { id: c.partnerASub.id, kind: 'DEPARTMENT', parentId: c.partnerA.id });
  t.equal(problemOf(await app.rest(c.users.partnerAManager, 'GET', `/v1/org-units/${c.partnerB.id}`), 404), null, 'another partner: 404');
  t.equal(problemOf(await app.rest(c.users.partnerAManager, 'GET', `/v1/org-units/${randomUUID()}`), 404), null, 'nonexistent: 404');
  t.equal(problemOf(await app.rest(c.users.partnerAManager, 'GET', '/v1/org-units/nope'), 400, ['id']), null);
  const g = await app.gql(c.users.partnerAManager, 'query($id: ID!) { orgUnit(id: $id) { id } }', { id: c.partnerB.id });
  t.same(g.codes, ['NOT_FOUND']);
  const ok = await app.gql(c.users.partnerAManager, 'query($id: ID!) { orgUnit(id: $id) { id kind } }', { id: c.partnerASub.id });
  t.same(ok.data.orgUnit, { id: c.partnerASub.id, kind: 'DEPARTMENT' });
});

t.test('create REGION, BRANCH, DEPARTMENT and PARTNER units', async (t) => {
  const admin = await app.admin();
  const root = await app.root();
  const region = await app.rest(admin, 'POST', '/v1/org-units', { name: `Region ${tag()}`, kind: 'REGION', parentId: root.id });
  t.equal(region.status, 201, region.raw);
  t.match(region.body, { kind: 'REGION', partnerType: null, parentId: root.id, version: 1 });
  t.equal(region.headers.location, `/v1/org-units/${region.body.id}`);
  t.equal(region.headers.etag, '"1"');
  const branch = await app.rest(admin, 'POST', '/v1/org-units', { name: `Branch ${tag()}`, kind: 'branch', parentId: region.body.id });
  t.equal(branch.status, 201);
  t.equal(branch.body.kind, 'BRANCH', 'kind is case-insensitive');
  const dept = await app.rest(admin, 'POST', '/v1/org-units', { name: `Dept ${tag()}`, kind: 'DEPARTMENT', parentId: branch.body.id });
  t.equal(dept.status, 201);
  for (const partnerType of ['AGENT', 'DISTRIBUTOR', 'RESELLER', 'SERVICE_PROVIDER']) {
    const p = await app.rest(admin, 'POST', '/v1/org-units', { name: `Partner ${tag()}`, kind: 'PARTNER', partnerType, parentId: region.body.id });
    t.equal(p.status, 201);
    t.match(p.body, { kind: 'PARTNER', partnerType, parentId: region.body.id });
  }
  const p = await app.rest(admin, 'POST', '/v1/org-units', { name: `Partner ${tag()}`, kind: 'PARTNER', partnerType: 'distributor', parentId: region.body.id });
  t.equal(p.body.partnerType, 'DISTRIBUTOR');
  const sub = await app.rest(admin, 'POST', '/v1/org-units', { name: `Sub ${tag()}`, kind: 'PARTNER', partnerType: 'AGENT', parentId: p.body.id });
  t.equal(sub.status, 201, 'a partner may have partner sub-units');
  const subDept = await app.rest(admin, 'POST', '/v1/org-units', { name: `Sub ${tag()}`, kind: 'DEPARTMENT', parentId: p.body.id });
  t.equal(subDept.status, 201, 'and departments');
  const read = await app.rest(admin, 'GET', `/v1/org-units/${dept.body.id}`);
  t.same(read.body, dept.body, 'reads back as created');
});

t.test('create: bad input answers 400 naming the field and writes nothing', async (t) => {
  const admin = await app.admin();
  const root = await app.root();
  const cases: [string, Record<string, unknown>, string[], number?][] = [
    ['partner without partnerType', { kind: 'PARTNER' }, ['partnerType']],
    ['partnerType on a branch', { kind: 'BRANCH', partnerType: 'AGENT' }, ['partnerType']],
    ['a second HEADQUARTERS', { kind: 'HEADQUARTERS' }, ['kind']],
    ['unknown kind', { kind: 'CASTLE' }, ['kind']],
    ['unknown partnerType', { kind: 'PARTNER', partnerType: 'FRANCHISE' }, ['partnerType']],
    ['missing parentId', { kind: 'REGION', parentId: undefined }, ['parentId']],
    ['bad parentId', { kind: 'REGION', parentId: 'root' }, ['parentId']],
    ['nonexistent parent', { kind: 'REGION', parentId: randomUUID() }, ['parentId']],
    ['unknown field', { kind: 'REGION', colour: 'red' }, ['colour']],
  ];
  for (const [what, patch, paths] of cases) {
    const name = `Bad ${tag()}`;
    const body = JSON.parse(JSON.stringify({ name, parentId: root.id, ...patch }));
    const res = await app.rest(admin, 'POST', '/v1/org-units', body);
    t.equal(problemOf(res, 400, paths), null, what);
    t.equal(await unitsNamed(app, name), 0, `${what}: nothing written`);
  }
  for (const name of ['', '   ', 'x'.repeat(201)]) {
    const res = await app.rest(admin, 'POST', '/v1/org-units', { name, kind: 'REGION', parentId: root.id });
    t.equal(problemOf(res, 400, ['name']), null, `name ${JSON.stringify(name.slice(0, 5))}`);
  }
  const g = await app.gql(admin, CREATE, { input: { name: `Bad ${tag()}`, kind: 'PARTNER', parentId: root.id } });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(g), ['input.partnerType']);
  const hq = await app.gql(admin, CREATE, { input: { name: `Bad ${tag()}`, kind: 'HEADQUARTERS', parentId: root.id } });
  t.same(gqlPaths(hq), ['input.kind'], 'GraphQL: no second HEADQUARTERS');
});

t.test('create and rename through GraphQL', async (t) => {
  const admin = await app.admin();
  const root = await app.root();
  const name = `GQL Region ${tag()}`;
  const g = await app.gql(admin, CREATE, { input: { name, kind: 'REGION', parentId: root.id } });
  t.equal(g.errors, undefined, JSON.stringify(g.errors));
  t.match(g.data.createOrgUnit, { name, kind: 'REGION', parentId: root.id, version: 1, partnerType: null });
  const id = g.data.createOrgUnit.id;
  const p = await app.gql(admin, CREATE, { input: { name: `GQL Partner ${tag()}`, kind: 'PARTNER', partnerType: 'AGENT', parentId: id } });
  t.equal(p.data.createOrgUnit.partnerType, 'AGENT');
  const renamed = await app.gql(admin, UPDATE, { id, input: { name: `${name} (renamed)` }, v: 1 });
  t.match(renamed.data.updateOrgUnit, { name: `${name} (renamed)`, version: 2 });
  const stale = await app.gql(admin, UPDATE, { id, input: { name: 'stale' }, v: 1 });
  t.same(stale.codes, ['PRECONDITION_FAILED']);
  t.equal((await unitRow(app, id))?.name, `${name} (renamed)`, 'the stale write did nothing');
  const bad = await app.gql(admin, UPDATE, { id, input: { name: '' } });
  t.same(gqlPaths(bad), ['input.name']);
});

t.test('PATCH: rename with If-Match, 412 on a stale version, fixed kind', async (t) => {
  const c = await company(app);
  const admin = c.users.admin;
  const url = `/v1/org-units/${c.branch.id}`;
  const name = `Renamed ${tag()}`;
  const ok = await app.rest(admin, 'PATCH', url, { name }, { 'if-match': '"1"' });
  t.equal(ok.status, 200, ok.raw);
  t.match(ok.body, { name, version: 2, kind: 'BRANCH', parentId: c.region.id });
  t.equal(ok.headers.etag, '"2"');
  const stale = await app.rest(admin, 'PATCH', url, { name: 'stale' }, { 'if-match': '"1"' });
  t.equal(problemOf(stale, 412), null);
  t.equal(stale.body.currentVersion, 2);
  t.equal((await unitRow(app, c.branch.id))?.name, name, 'nothing written on 412');
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { name: 'x' }, { 'if-match': 'yesterday' }), 400, ['If-Match']), null);
  t.equal((await app.rest(admin, 'PATCH', url, { name: `${name}!` }, { 'if-match': '*' })).status, 200, 'If-Match * always matches');
  t.equal((await app.rest(admin, 'PATCH', url, { name: `${name}!!` })).body.version, 4, 'no If-Match: last write wins');
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { kind: 'REGION' }), 400, ['kind']), null, 'kind is fixed');
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { partnerType: 'AGENT' }), 400, ['partnerType']), null, 'partnerType on a branch');
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { name: '' }), 400, ['name']), null);
  t.equal(problemOf(await app.rest(admin, 'PATCH', url, { nickname: 'x' }), 400, ['nickname']), null);
  t.equal((await unitRow(app, c.branch.id))?.version, 4, 'no bad input was written');
  const pt = await app.rest(admin, 'PATCH', `/v1/org-units/${c.partnerA.id}`, { partnerType: 'AGENT' });
  t.equal(pt.body.partnerType, 'AGENT', 'a partner may change its partner type');
  t.equal(problemOf(await app.rest(admin, 'PATCH', `/v1/org-units/${randomUUID()}`, { name: 'x' }), 404), null);
});

t.test('move a unit: its subtree follows, and so does visibility', async (t) => {
  const c = await company(app);
  const admin = c.users.admin;
  const dept = await app.unit('DEPARTMENT', c.branch);
  const team = await app.unit('DEPARTMENT', dept);
  const seller = await app.user(team, ['sales']);
  const customer = await app.customer(seller);
  const otherRegion = await app.unit('REGION');
  const otherManager = await app.user(otherRegion, ['manager']);
  const sees = async (who: typeof otherManager) => ({
    unit: (await app.rest(who, 'GET', `/v1/org-units/${team.id}`)).status,
    user: (await app.rest(who, 'GET', `/v1/users/${seller.id}`)).status,
    customer: (await app.rest(who, 'GET', `/v1/customers/${customer.id}`)).status,
  });

  t.same(await sees(otherManager), { unit: 404, user: 404, customer: 404 }, 'before: the other region sees nothing');
  t.same(await sees(c.users.regionManager), { unit: 200, user: 200, customer: 200 }, 'before: the old region sees all');

  const moved = await app.rest(admin, 'PATCH', `/v1/org-units/${dept.id}`, { parentId: otherRegion.id }, { 'if-match': '"1"' });
  t.equal(moved.status, 200, moved.raw);
  t.match(moved.body, { id: dept.id, parentId: otherRegion.id, version: 2 });
  const after = await unitRow(app, team.id);
  t.equal(after?.path, `${otherRegion.path}${dept.id}/${team.id}/`, 'descendant path rewritten');
  t.equal(after?.parent_id, dept.id, 'descendant keeps its parent');

  t.same(await sees(otherManager), { unit: 200, user: 200, customer: 200 }, 'after: the new region sees the subtree');
  t.same(await sees(c.users.regionManager), { unit: 404, user: 404, customer: 404 }, 'after: the old region no longer does');
  t.same(await sees(c.users.branchManager), { unit: 404, user: 404, customer: 404 }, 'nor the old branch');
  const list = ids(await app.rest(otherManager, 'GET', '/v1/org-units'));
  t.ok(list.includes(dept.id) && list.includes(team.id), 'listed under the new parent');
  const customers = await app.rest(otherManager, 'GET', `/v1/customers?ownerUnitId=${team.id}`);
  t.same(customers.body.data.map((x: any) => x.id), [customer.id], 'lists follow too');
  t.equal((await app.rest(seller, 'GET', `/v1/customers/${customer.id}`)).status, 200, 'the owner still sees its customer');
});

t.test('move: refused below itself, for the root, and across partners with ALL-scope users', async (t) => {
  const c = await company(app);
  const admin = c.users.admin;
  const root = await app.root();
  const dept = await app.unit('DEPARTMENT', c.branch);
  const child = await app.unit('DEPARTMENT', dept);

  t.equal(problemOf(await app.rest(admin, 'PATCH', `/v1/org-units/${dept.id}`, { parentId: dept.id }), 422, ['parentId']), null, 'below itself');
  t.equal(problemOf(await app.rest(admin, 'PATCH', `/v1/org-units/${dept.id}`, { parentId: child.id }), 422, ['parentId']), null, 'below its own child');
  t.equal(problemOf(await app.rest(admin, 'PATCH', `/v1/org-units/${c.region.id}`, { parentId: child.id }), 422, ['parentId']), null, 'below a grandchild');
  t.equal(problemOf(await app.rest(admin, 'PATCH', `/v1/org-units/${root.id}`, { parentId: c.region.id }), 422, ['parentId']), null, 'the root stays the root');
  t.equal(problemOf(await app.rest(admin, 'PATCH', `/v1/org-units/${dept.id}`, { parentId: randomUUID() }), 400, ['parentId']), null, 'nonexistent parent');
  t.equal((await unitRow(app, dept.id))?.parent_id, c.branch.id, 'nothing moved');

  // An executive (scope ALL) somewhere below: the subtree may not go under a partner.
  const execDept = await app.unit('DEPARTMENT', c.branch);
  const deep = await app.unit('DEPARTMENT', execDept);
  await app.user(deep, ['executive']);
  await app.user(execDept, ['sales']);
  for (const target of [c.partnerA, c.partnerASub]) {
    const res = await app.rest(admin, 'PATCH', `/v1/org-units/${execDept.id}`, { parentId: target.id });
    t.equal(problemOf(res, 422, ['parentId']), null, 'ALL-scope user below: refused under a partner');
  }
  const before = await unitRow(app, execDept.id);
  t.equal(before?.parent_id, c.branch.id, 'nothing moved');
  t.equal((await unitRow(app, deep.id))?.path, `${before?.path}${deep.id}/`, 'descendants untouched');
  const g = await app.gql(admin, UPDATE, { id: execDept.id, input: { parentId: c.partnerA.id } });
  t.same(g.codes, ['BAD_USER_INPUT'], 'GraphQL: refused too');
  t.same(gqlPaths(g), ['parentId']);
  t.equal((await app.rest(admin, 'PATCH', `/v1/org-units/${execDept.id}`, { parentId: c.otherBranch.id })).status, 200, 'within the company it may move');

  // Without ALL-scope users it may become part of a partner, and its users become partner users.
  const plain = await app.unit('DEPARTMENT', c.branch);
  const seller = await app.user(plain, ['sales']);
  t.equal((await app.rest(admin, 'PATCH', `/v1/org-units/${plain.id}`, { parentId: c.partnerA.id })).status, 200);
  t.equal((await app.rest(c.users.partnerAManager, 'GET', `/v1/users/${seller.id}`)).status, 200, 'the partner manager now sees its new user');
  t.equal(problemOf(await app.rest(admin, 'PATCH', `/v1/users/${seller.id}`, { roles: ['executive'] }), 422, ['roles']), null, 'and that user cannot get ALL');
});

t.test('a partner administers its own tree and never another partner’s', async (t) => {
  const c = await company(app);
  const pa = await partnerAdmin(app, c.partnerA);

  const created = await app.rest(pa, 'POST', '/v1/org-units', { name: `A team ${tag()}`, kind: 'DEPARTMENT', parentId: c.partnerASub.id });
  t.equal(created.status, 201, created.raw);
  const renamed = await app.rest(pa, 'PATCH', `/v1/org-units/${c.partnerASub.id}`, { name: `A sub ${tag()}` });
  t.equal(renamed.status, 200);
  t.equal((await app.rest(pa, 'PATCH', `/v1/org-units/${created.body.id}`, { parentId: c.partnerA.id })).status, 200, 'moves inside its partner');

  const name = `B intruder ${tag()}`;
  t.equal(problemOf(await app.rest(pa, 'GET', `/v1/org-units/${c.partnerB.id}`), 404), null, 'read: 404');
  t.equal(problemOf(await app.rest(pa, 'PATCH', `/v1/org-units/${c.partnerB.id}`, { name }), 404), null, 'rename: 404');
  t.equal(problemOf(await app.rest(pa, 'PATCH', `/v1/org-units/${c.branch.id}`, { name }), 404), null, 'company branch: 404');
  const under = await app.rest(pa, 'POST', '/v1/org-units', { name, kind: 'DEPARTMENT', parentId: c.partnerB.id });
  t.equal(problemOf(under, 400, ['parentId']), null, 'another partner as parent: as if it did not exist');
  const moveOut = await app.rest(pa, 'PATCH', `/v1/org-units/${created.body.id}`, { parentId: c.partnerB.id });
  t.equal(problemOf(moveOut, 400, ['parentId']), null, 'moving into another partner: as if it did not exist');
  t.equal(problemOf(await app.rest(pa, 'PATCH', `/v1/org-units/${created.body.id}`, { parentId: c.region.id }), 403, ['parentId']), null, 'a visible unit above: 403');
  t.equal((await app.rest(pa, 'PATCH', `/v1/org-units/${c.partnerA.id}`, { name: `A ${tag()}` })).status, 200, 'its own partner unit');
  t.equal(await unitsNamed(app, name), 0, 'nothing of the intruder written');
  t.equal((await unitRow(app, c.partnerB.id))?.version, 1, 'partner B untouched');

  const g1 = await app.gql(pa, UPDATE, { id: c.partnerB.id, input: { name } });
  t.same(g1.codes, ['NOT_FOUND'], 'GraphQL update: NOT_FOUND');
  const g2 = await app.gql(pa, CREATE, { input: { name, kind: 'DEPARTMENT', parentId: c.partnerB.id } });
  t.same(g2.codes, ['BAD_USER_INPUT'], 'GraphQL create under another partner');
  t.same(gqlPaths(g2), ['parentId'], 'names the field');
});
