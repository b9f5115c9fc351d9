import t from 'tap';
import { ACTIONS, PARTNER_HIDDEN, RESOURCES } from '../../../src/modules/org/built-in-roles.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { customRole, delegation } from '../../helpers/factories.js';
import { hour } from '../../helpers/time.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const ME = `{ me {
  user { id email name unitId roles kind active version unit { id } }
  unit { id name kind partnerType parentId version }
  roles { id name scope permissions hiddenFields builtIn }
  effectiveScopes { permission scope }
  hiddenFields
  activeDelegations { id fromUserId toUserId startsAt endsAt }
} }`;

const scopeOf = (me: any, permission: string) => me.effectiveScopes.find((s: any) => s.permission === permission)?.scope;

t.test('GET /v1/me: user, unit, roles, effective scopes, hidden fields', async (t) => {
  const c = await company(app);
  const res = await app.rest(c.users.sales, 'GET', '/v1/me');
  t.equal(res.status, 200);
  const me = res.body;
  t.match(me.user, { id: c.users.sales.id, email: c.users.sales.email, unitId: c.branch.id, roles: ['sales'], kind: 'HUMAN', active: true, version: 1 });
  t.match(me.unit, { id: c.branch.id, kind: 'BRANCH', parentId: c.region.id, partnerType: null });
  t.same(me.roles.map((r: any) => [r.name, r.scope, r.builtIn]), [['sales', 'OWN', true]]);
  t.equal(scopeOf(me, 'customers:read'), 'OWN');
  t.equal(scopeOf(me, 'customers:update'), 'OWN');
  t.equal(scopeOf(me, 'org-units:create'), undefined, 'no scope for what the role does not permit');
  t.equal(scopeOf(me, 'roles:read'), undefined);
  t.same(me.hiddenFields, []);
  t.same(me.activeDelegations, []);
  t.notOk(me.user.password ?? me.user.path ?? me.unit.path, 'no internal columns');
});

t.test('effective scopes per built-in role, and the partner clamp', async (t) => {
  const c = await company(app);
  const me = async (u: typeof c.users.sales) => (await app.rest(u, 'GET', '/v1/me')).body;

  const admin = await me(c.users.admin);
  t.equal(admin.effectiveScopes.length, RESOURCES.length * ACTIONS.length, 'admin: every resource:action');
  t.ok(admin.effectiveScopes.every((s: any) => s.scope === 'ALL'));

  const exec = await me(c.users.executive);
  t.equal(scopeOf(exec, 'customers:read'), 'ALL');
  t.equal(scopeOf(exec, 'customers:update'), undefined, 'executive writes nothing');

  t.equal(scopeOf(await me(c.users.branchManager), 'customers:update'), 'SUBTREE');
  t.equal(scopeOf(await me(c.users.service), 'customers:read'), 'UNIT');
  t.equal(scopeOf(await me(c.users.integration), 'customers:read'), 'ALL');

  const pm = await me(c.users.partnerAManager);
  t.equal(scopeOf(pm, 'customers:read'), 'SUBTREE');
  t.same(pm.hiddenFields, [...PARTNER_HIDDEN].sort(), 'partners do not see the company\'s system fields');
  t.match(pm.unit, { id: c.partnerA.id, kind: 'PARTNER', partnerType: 'RESELLER' });

  const ps = await me(c.users.partnerASubSales);
  t.equal(scopeOf(ps, 'customers:read'), 'OWN');
  t.same(ps.hiddenFields, [...PARTNER_HIDDEN].sort());

  // A partner user holding an ALL role (the API refuses it; written directly here) still gets no more than its partner.
  const smuggled = await app.user(c.partnerASub, ['executive']);
  const sm = await me(smuggled);
  t.equal(scopeOf(sm, 'customers:read'), 'SUBTREE', 'ALL is clamped for a partner user');
  t.ok(sm.effectiveScopes.every((s: any) => s.scope !== 'ALL'), 'no ALL anywhere');
});

t.test('several roles: widest scope wins, a field is hidden only when every role hides it', async (t) => {
  const c = await company(app);
  const both = await app.user(c.region, ['marketing', 'sales']);
  const me = (await app.rest(both, 'GET', '/v1/me')).body;
  t.same(me.user.roles, ['marketing', 'sales']);
  t.equal(scopeOf(me, 'customers:read'), 'SUBTREE');
  t.same(me.hiddenFields, [], 'sales shows what marketing hides');

  const r = await customRole(app, 'OWN', ['customers:read'], ['customer.valueClass', 'customer.externalIds']);
  const u = await app.user(c.branch, ['service', r.name]);
  const me2 = (await app.rest(u, 'GET', '/v1/me')).body;
  t.same(me2.hiddenFields, ['customer.valueClass'], 'the intersection');
  t.equal(scopeOf(me2, 'customers:read'), 'UNIT');
  t.match(me2.roles.find((x: any) => x.name === r.name), { scope: 'OWN', builtIn: false, permissions: ['customers:read'] });
});

t.test('a user without roles still knows who it is', async (t) => {
  const c = await company(app);
  const bare = await app.user(c.branch, []);
  const res = await app.rest(bare, 'GET', '/v1/me');
  t.equal(res.status, 200);
  t.same(res.body.roles, []);
  t.same(res.body.effectiveScopes, []);
  t.same(res.body.user.roles, []);
});

t.test('active delegations: current ones only, seen by both sides', async (t) => {
  const c = await company(app);
  const active = await delegation(app, c.users.sales2, c.users.sales, { startsAt: new Date(Date.now() - hour), endsAt: new Date(Date.now() + hour) });
  // The admin arranges the others: a service user may not delegate its own work.
  const admin = c.users.admin;
  await delegation(app, c.users.otherSales, c.users.sales, { startsAt: new Date(Date.now() - 3 * hour), endsAt: new Date(Date.now() - hour), by: admin });
  await delegation(app, c.users.service, c.users.sales, { startsAt: new Date(Date.now() + hour), endsAt: new Date(Date.now() + 2 * hour), by: admin });
  await delegation(app, c.users.branchManager, c.users.sales, { startsAt: new Date(Date.now() - hour), endsAt: new Date(Date.now() + hour), revoked: true, by: admin });
  const me = (await app.rest(c.users.sales, 'GET', '/v1/me')).body;
  t.same(me.activeDelegations.map((d: any) => d.id), [active.id], 'expired, future and revoked ones are left out');
  t.match(me.activeDelegations[0], { fromUserId: c.users.sales2.id, toUserId: c.users.sales.id, startsAt: active.startsAt, endsAt: active.endsAt });
  const from = (await app.rest(c.users.sales2, 'GET', '/v1/me')).body;
  t.same(from.activeDelegations.map((d: any) => d.id), [active.id], 'the delegator sees it too');
  const g = await app.gql(c.users.sales, ME);
  t.same(g.data.me.activeDelegations.map((d: any) => d.id), [active.id], 'GraphQL too');
});

t.test('GraphQL me answers what REST answers', async (t) => {
  const c = await company(app);
  for (const u of [c.users.sales, c.users.partnerAManager, c.users.admin]) {
    const rest = (await app.rest(u, 'GET', '/v1/me')).body;
    const g = await app.gql(u, ME);
    t.equal(g.errors, undefined, JSON.stringify(g.errors));
    const me = g.data.me;
    t.equal(me.user.id, rest.user.id);
    t.same(me.user.roles, rest.user.roles);
    t.equal(me.user.unit.id, rest.unit.id, 'nested unit');
    t.same(me.unit, { id: rest.unit.id, name: rest.unit.name, kind: rest.unit.kind, partnerType: rest.unit.partnerType, parentId: rest.unit.parentId, version: rest.unit.version });
    t.same(me.roles.map((r: any) => r.name), rest.roles.map((r: any) => r.name));
    t.same(me.effectiveScopes, rest.effectiveScopes);
    t.same(me.hiddenFields, rest.hiddenFields);
  }
});

t.test('without a token: 401 on both doors', async (t) => {
  const res = await app.rest(null, 'GET', '/v1/me');
  t.equal(res.status, 401);
  const g = await app.gql(null, '{ me { user { id } } }');
  t.same(g.codes, ['UNAUTHENTICATED']);
});
