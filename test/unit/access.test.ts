import t from 'tap';
import { Placeholder } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { customers } from '../../src/db/schema/index.js';
import {
  accessPredicate,
  can,
  hiddenFields,
  onBehalfOf,
  preparedAccessPredicate,
  type Principal,
  type PrincipalRole,
  requirePermission,
  scopeFor,
} from '../../src/lib/access.js';
import { AppError } from '../../src/lib/errors.js';
import { BUILT_IN_ROLES, permits, type Scope } from '../../src/modules/org/built-in-roles.js';

const ROOT = '/00000000-0000-4000-8000-000000000000/';
const PARTNER = `${ROOT}11111111-1111-4111-8111-111111111111/`;
const PARTNER_SUB = `${PARTNER}22222222-2222-4222-8222-222222222222/`;

function role(name: string, scope: Scope, permissions: string[], hidden: string[] = []): PrincipalRole {
  return { id: `${name}-id`, name, scope, permissions, hiddenFields: hidden };
}

function builtIn(name: string): PrincipalRole {
  const r = BUILT_IN_ROLES.find((x) => x.name === name);
  if (!r) throw new Error(`no built-in role ${name}`);
  return role(r.name, r.scope, r.permissions, r.hiddenFields);
}

function principal(roles: PrincipalRole[], o: Partial<Principal> = {}): Principal {
  return {
    userId: 'u-1',
    email: 'u@example.com',
    name: 'U',
    kind: 'HUMAN',
    unitId: 'unit-1',
    unitPath: `${ROOT}aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa/`,
    partnerPath: null,
    roles,
    delegatorIds: [],
    ...o,
  };
}

t.test('permits: exact, resource wildcard, action wildcard, both', async (t) => {
  t.ok(permits(['customers:read'], 'customers:read'));
  t.notOk(permits(['customers:read'], 'customers:update'));
  t.notOk(permits(['customers:read'], 'contacts:read'));
  t.ok(permits(['customers:*'], 'customers:merge'));
  t.notOk(permits(['customers:*'], 'users:read'));
  t.ok(permits(['*:read'], 'users:read'));
  t.notOk(permits(['*:read'], 'users:create'));
  t.ok(permits(['*:*'], 'anything:at-all'));
  t.ok(permits(['users:read', 'integration:*'], 'integration:upsert'));
  t.notOk(permits([], 'customers:read'), 'no grants, nothing permitted');
  t.notOk(permits(['customers'], 'customers:read'), 'a grant without an action permits nothing');
  t.notOk(permits(['customers:read-all'], 'customers:read'), 'no prefix matching');
});

t.test('scopeFor: the widest scope among roles granting the permission', async (t) => {
  const p = principal([role('a', 'OWN', ['customers:read', 'customers:update']), role('b', 'SUBTREE', ['customers:read'])]);
  t.same(scopeFor(p, 'customers:read'), { scope: 'SUBTREE', basePath: p.unitPath });
  t.same(scopeFor(p, 'customers:update'), { scope: 'OWN', basePath: p.unitPath }, 'a wide role without the permission does not widen it');
  t.equal(scopeFor(p, 'customers:delete'), null);
  t.equal(scopeFor(principal([]), 'customers:read'), null, 'no roles, no scope');
  t.same(scopeFor(principal([builtIn('service')]), 'customers:read')?.scope, 'UNIT');
  t.same(scopeFor(principal([builtIn('executive')]), 'users:read')?.scope, 'ALL');
  t.equal(scopeFor(principal([builtIn('executive')]), 'customers:update'), null, 'executive writes nothing');
  t.same(scopeFor(principal([builtIn('admin')]), 'roles:update')?.scope, 'ALL');
  t.same(scopeFor(principal([role('x', 'UNIT', ['*:read']), role('y', 'ALL', ['*:*'])]), 'customers:read')?.scope, 'ALL');
});

t.test('partner clamp: ALL becomes SUBTREE of the outermost partner unit', async (t) => {
  const p = principal([builtIn('executive')], { unitPath: PARTNER_SUB, partnerPath: PARTNER });
  t.same(scopeFor(p, 'customers:read'), { scope: 'SUBTREE', basePath: PARTNER }, 'based on the partner, not the sub-unit');
  const own = principal([builtIn('partner_sales')], { unitPath: PARTNER_SUB, partnerPath: PARTNER });
  t.same(scopeFor(own, 'customers:read'), { scope: 'OWN', basePath: PARTNER_SUB }, 'narrower scopes are untouched');
  const mgr = principal([builtIn('partner_manager')], { unitPath: PARTNER_SUB, partnerPath: PARTNER });
  t.same(scopeFor(mgr, 'customers:read'), { scope: 'SUBTREE', basePath: PARTNER_SUB }, 'SUBTREE stays at the own unit');
  const staff = principal([builtIn('executive')]);
  t.same(scopeFor(staff, 'customers:read'), { scope: 'ALL', basePath: staff.unitPath }, 'company staff keep ALL');
});

t.test('can / requirePermission', async (t) => {
  const p = principal([builtIn('sales')]);
  t.ok(can(p, 'customers:create'));
  t.notOk(can(p, 'org-units:create'));
  t.doesNotThrow(() => requirePermission(p, 'customers:read'));
  try {
    requirePermission(p, 'users:create');
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof AppError);
    t.equal((err as AppError).code, 'FORBIDDEN');
    t.equal((err as AppError).status, 403);
    t.match((err as AppError).message, /users:create/);
  }
});

t.test('hiddenFields: hidden only when every role hides it', async (t) => {
  t.same([...hiddenFields(principal([]))], [], 'no roles, nothing hidden');
  t.same([...hiddenFields(principal([builtIn('partner_sales')]))], ['customer.creditStatus', 'customer.creditLimit', 'customer.creditCurrency', 'customer.externalIds', 'customer.valueClass', 'contact.externalIds', 'opportunity.externalIds', 'customer.valueScore', 'customer.churnRisk'], 'partners do not see the company\'s system fields');
  t.same([...hiddenFields(principal([builtIn('marketing'), builtIn('sales')]))], [], 'a second role that shows the field wins');
  const both = principal([
    role('a', 'OWN', [], ['customer.creditStatus', 'customer.valueClass']),
    role('b', 'OWN', [], ['customer.valueClass', 'customer.externalIds']),
  ]);
  t.same([...hiddenFields(both)], ['customer.valueClass'], 'the intersection');
  t.same([...hiddenFields(principal([role('a', 'OWN', [], ['customer.registrationId'])]))], ['customer.registrationId']);
});

t.test('onBehalfOf: only for a delegator who owns the record', async (t) => {
  const p = principal([builtIn('sales')], { delegatorIds: ['boss-1', 'boss-2'] });
  t.equal(onBehalfOf(p, 'boss-2'), 'boss-2');
  t.equal(onBehalfOf(p, 'u-1'), null, 'own record: no one else');
  t.equal(onBehalfOf(p, 'stranger'), null, 'not a delegator');
  t.equal(onBehalfOf(p, null), null, 'unowned record');
  t.equal(onBehalfOf(principal([builtIn('sales')]), 'boss-1'), null, 'no delegations');
});

t.test('built-in roles: the table of domain.md §1', async (t) => {
  const scopes = Object.fromEntries(BUILT_IN_ROLES.map((r) => [r.name, r.scope]));
  t.same(scopes, {
    admin: 'ALL',
    executive: 'ALL',
    manager: 'SUBTREE',
    marketing: 'SUBTREE',
    sales: 'OWN',
    service: 'UNIT',
    partner_manager: 'SUBTREE',
    partner_sales: 'OWN',
    integration: 'ALL',
  });
  for (const r of BUILT_IN_ROLES.filter((x) => x.name !== 'admin')) {
    t.notOk(permits(r.permissions, 'roles:update'), `${r.name} cannot edit roles`);
    t.notOk(permits(r.permissions, 'org-units:create'), `${r.name} cannot create units`);
  }
  const exec = builtIn('executive');
  for (const w of ['customers:create', 'customers:update', 'users:create', 'shares:create']) t.notOk(permits(exec.permissions, w), `executive: no ${w}`);
});

t.test('database conditions a caller can retry map to 409, wherever drizzle nests them', async (t) => {
  const { fromDatabaseError } = await import('../../src/lib/errors.js');
  const wrapped = (code: string) => Object.assign(new Error('Failed query'), { cause: Object.assign(new Error('pg'), { code }) });
  for (const code of ['40001', '40P01', '55P03', '23505']) {
    t.equal(fromDatabaseError(wrapped(code))?.code, 'CONFLICT', `${code} nested`);
    t.equal(fromDatabaseError(Object.assign(new Error('x'), { code }))?.status, 409, `${code} direct`);
  }
  t.equal(fromDatabaseError(wrapped('42P01')), null, 'a missing table is the server’s fault: stays a 500');
  t.equal(fromDatabaseError(new Error('plain')), null);
});

t.test('prepared predicate: the SQL text follows the shape, never whose principal it is', async (t) => {
  const cols = { id: customers.id, ownerUserId: customers.ownerUserId, ownerUnitId: customers.ownerUnitId };
  const dialect = new PgDialect();
  const render = (p: Principal) => {
    const prepared = preparedAccessPredicate(p, 'customers:read', 'customer', cols);
    const query = dialect.sqlToQuery(prepared.predicate());
    // Every placeholder of the text has its value.
    const names = query.params.filter((x) => x instanceof Placeholder).map((x) => x.name);
    if (names.some((n) => !(n in prepared.values))) throw new Error(`a placeholder without a value: ${names.join(', ')}`);
    return { ...prepared, text: query.sql };
  };
  const sales = builtIn('sales');
  const a = render(principal([sales]));
  const b = render(principal([sales], { userId: 'u-2', unitId: 'unit-2' }));
  t.equal(a.shape, b.shape);
  t.equal(a.text, b.text, 'one text for one shape');
  t.same(b.values, { own0: 'u-2', userId: 'u-2', unitId: 'unit-2', basePath: `${ROOT}aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa/%` }, 'the values are the principal’s own');

  const delegated = render(principal([sales], { delegatorIds: ['u-9'] }));
  t.not(delegated.shape, a.shape, 'a delegation changes the shape');
  t.equal(delegated.values.own1, 'u-9');
  t.not(render(principal([builtIn('manager')])).shape, a.shape, 'so does the scope');
  t.match(render(principal([])).text, /false/i, 'no permission, nothing visible');

  // The inline predicate is the same rule: same text, values bound in place.
  const inline = dialect.sqlToQuery(accessPredicate(principal([sales]), 'customers:read', 'customer', cols));
  t.equal(inline.sql, a.text);
  t.same(inline.params, ['u-1', 'customer', 'u-1', 'unit-1', 'u-1', 'unit-1', 'u-1']);
});
