import { sql } from 'drizzle-orm';
import t from 'tap';
import { AppError } from '../../../src/lib/errors.js';
import { loadPrincipal } from '../../../src/modules/org/principal.repository.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { delegation, handoff, opportunity } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const GQL = `query($userId: ID, $resourceType: ExplainResourceType!, $resourceId: ID!) {
  accessExplain(userId: $userId, resourceType: $resourceType, resourceId: $resourceId) {
    userId resourceType resourceId visible writable writeBlockedBy hiddenFields
    because { rule grants detail scope roles unitPath { id name kind } shareId expiresAt delegationId startsAt endsAt handoffId dueAt claimId protectedUntil }
  } }`;

const explain = (who: Parameters<typeof app.rest>[0], q: Record<string, string>) => app.rest(who, 'GET', `/v1/access/explain?${new URLSearchParams(q).toString()}`);

t.test('for oneself: the owner sees and may change its customer, by its role scope', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const res = await explain(c.users.sales, { resourceType: 'CUSTOMER', resourceId: customer.id });
  t.equal(res.status, 200, res.raw);
  t.match(res.body, { userId: c.users.sales.id, resourceType: 'CUSTOMER', resourceId: customer.id, visible: true, writable: true, hiddenFields: [] });
  t.equal(res.body.because.length, 1);
  t.match(res.body.because[0], { rule: 'ROLE_SCOPE', grants: ['READ', 'WRITE'], scope: 'OWN', roles: ['sales'] });

  const g = await app.gql(c.users.sales, GQL, { resourceType: 'CUSTOMER', resourceId: customer.id });
  t.same(g.errors, undefined);
  t.same(g.data.accessExplain.visible, true, 'the same answer through GraphQL');
  t.same(g.data.accessExplain.because[0].rule, 'ROLE_SCOPE');
});

t.test('a manager asks about a user below: the unit path from the scope base to the owner unit', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const res = await explain(c.users.regionManager, { userId: c.users.regionManager.id, resourceType: 'customer', resourceId: customer.id });
  t.equal(res.status, 200, res.raw);
  t.match(res.body.because[0], { rule: 'ROLE_SCOPE', scope: 'SUBTREE', grants: ['READ', 'WRITE'] });
  t.same(res.body.because[0].unitPath.map((u: any) => u.id), [c.region.id, c.branch.id], 'region › branch');

  // The region manager asks why the branch's service user sees the customer (UNIT scope).
  const svc = await explain(c.users.regionManager, { userId: c.users.service.id, resourceType: 'CUSTOMER', resourceId: customer.id });
  t.equal(svc.status, 200, svc.raw);
  t.match(svc.body, { visible: true, writable: true, hiddenFields: ['valueClass'] });
  t.match(svc.body.because[0], { rule: 'ROLE_SCOPE', scope: 'UNIT' });
  t.same(svc.body.because[0].unitPath.map((u: any) => u.id), [c.branch.id]);

  // Another salesperson of the branch sees nothing: visible false, no reason.
  const other = await explain(c.users.branchManager, { userId: c.users.sales2.id, resourceType: 'CUSTOMER', resourceId: customer.id });
  t.equal(other.status, 200, other.raw);
  t.match(other.body, { visible: false, writable: false, because: [] });
});

t.test('an admin asks why a partner salesperson sees a shared customer: the share, read only, with its expiry and hidden fields', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
  const made = await app.rest(c.users.admin, 'POST', '/v1/shares', { resourceType: 'CUSTOMER', resourceId: customer.id, toUserId: c.users.partnerASales.id, expiresAt });
  t.equal(made.status, 201, made.raw);
  const res = await explain(c.users.admin, { userId: c.users.partnerASales.id, resourceType: 'CUSTOMER', resourceId: customer.id });
  t.equal(res.status, 200, res.raw);
  t.match(res.body, { visible: true, writable: false });
  t.same(res.body.hiddenFields, ['churnRisk', 'creditCurrency', 'creditLimit', 'creditStatus', 'externalIds', 'valueClass', 'valueScore']);
  t.equal(res.body.because.length, 1);
  t.match(res.body.because[0], { rule: 'SHARE', grants: ['READ'], shareId: made.body.id, expiresAt: made.body.expiresAt });
  t.equal((await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${customer.id}`)).status, 200, 'and the user does read it');

  // Expired: the share stops granting, and explain says so.
  await app.db.execute(sql`UPDATE shares SET expires_at = now() - interval '1 second' WHERE id = ${made.body.id}::uuid`);
  const later = await explain(c.users.admin, { userId: c.users.partnerASales.id, resourceType: 'CUSTOMER', resourceId: customer.id });
  t.match(later.body, { visible: false, because: [] });
  t.equal((await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${customer.id}`)).status, 404);
});

t.test('a delegation with its window, a pending handoff, an opportunity', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const d = await delegation(app, c.users.sales, c.users.sales2);
  const res = await explain(c.users.sales2, { resourceType: 'CUSTOMER', resourceId: customer.id });
  t.equal(res.status, 200, res.raw);
  t.match(res.body, { visible: true, writable: true });
  t.match(res.body.because, [{ rule: 'DELEGATION', grants: ['READ', 'WRITE'], delegationId: d.id, startsAt: d.startsAt, endsAt: d.endsAt }]);

  const lead = await app.customer(c.users.marketing);
  const h = await handoff(app, c.users.marketing, lead.id, { toUserId: c.users.otherSales.id });
  const ho = await explain(c.users.otherSales, { resourceType: 'CUSTOMER', resourceId: lead.id });
  t.match(ho.body, { visible: true, writable: false, because: [{ rule: 'HANDOFF', grants: ['READ'], handoffId: h.id, dueAt: h.dueAt }] });

  const deal = await opportunity(app, c.users.sales, customer.id);
  const op = await explain(c.users.branchManager, { userId: c.users.sales.id, resourceType: 'OPPORTUNITY', resourceId: deal.id });
  t.equal(op.status, 200, op.raw);
  t.match(op.body, { resourceType: 'OPPORTUNITY', visible: true, writable: true, because: [{ rule: 'ROLE_SCOPE', scope: 'OWN' }] });
});

t.test('only for oneself or a user the caller covers; never about a record the caller cannot see', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const partnerCustomer = await app.customer(c.users.partnerBSales);
  const cases: [string, Parameters<typeof app.rest>[0], Record<string, string>][] = [
    ['a salesperson about a colleague', c.users.sales, { userId: c.users.sales2.id, resourceType: 'CUSTOMER', resourceId: customer.id }],
    ['a partner head about another partner’s user', c.users.partnerAManager, { userId: c.users.partnerBSales.id, resourceType: 'CUSTOMER', resourceId: partnerCustomer.id }],
    ['a partner head about its own user, on a record it cannot see', c.users.partnerAManager, { userId: c.users.partnerASales.id, resourceType: 'CUSTOMER', resourceId: customer.id }],
    ['an unknown user', c.users.admin, { userId: '00000000-0000-4000-8000-000000000000', resourceType: 'CUSTOMER', resourceId: customer.id }],
    ['an unknown record', c.users.admin, { resourceType: 'OPPORTUNITY', resourceId: customer.id }],
  ];
  for (const [name, who, q] of cases) {
    t.equal(problemOf(await explain(who, q), 404), null, name);
    const g = await app.gql(who, GQL, q);
    t.same(g.codes, ['NOT_FOUND'], `${name} (GraphQL)`);
  }
});

t.test('bad input is refused naming the field, in both doors', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  t.equal(problemOf(await explain(c.users.sales, { resourceType: 'CUSTOMER' }), 400, ['resourceId']), null);
  t.equal(problemOf(await explain(c.users.sales, { resourceType: 'DEAL', resourceId: customer.id }), 400, ['resourceType']), null);
  t.equal(problemOf(await explain(c.users.sales, { resourceType: 'CUSTOMER', resourceId: customer.id, userId: 'x\u0000' }), 400, ['userId']), null);
  t.equal(problemOf(await explain(c.users.sales, { resourceType: 'CUSTOMER', resourceId: customer.id, id: customer.id }), 400, ['id']), null, 'unknown parameter');
  t.equal(problemOf(await explain(c.users.sales, { resourceType: 'CUSTOMER', resourceId: 'x'.repeat(5000) }), 400, ['resourceId']), null);
  const g = await app.gql(c.users.sales, GQL, { resourceType: 'CUSTOMER', resourceId: 'nope' });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(g), ['resourceId']);
  t.equal((await app.rest(null, 'GET', `/v1/access/explain?resourceType=CUSTOMER&resourceId=${customer.id}`)).status, 401);
});

// What the real update would answer for `userId`, run in a transaction that is always rolled back.
async function realUpdate(userId: string, customerId: string): Promise<string> {
  const p = await loadPrincipal(app.db, userId);
  if (!p) throw new Error('no principal');
  const ROLLBACK = new Error('rollback');
  let outcome = 'OK';
  try {
    await app.db.transaction(async (tx) => {
      try {
        await app.app.services.customers.update(p, customerId, { industry: 'Explained' }, undefined, { tx });
      } catch (err) {
        outcome = err instanceof AppError ? err.code : String(err);
      }
      throw ROLLBACK;
    });
  } catch (err) {
    if (err !== ROLLBACK) throw err;
  }
  return outcome;
}

t.test('writable agrees with the real update for every persona on an active, a frozen and a merged customer (merged is read-only)', async (t) => {
  const c = await company(app);
  const active = await app.customer(c.users.sales);
  const frozen = await app.customer(c.users.sales);
  const merged = await app.customer(c.users.sales);
  await app.rest(c.users.admin, 'POST', '/v1/shares', { resourceType: 'CUSTOMER', resourceId: frozen.id, toUnitId: c.partnerA.id });
  t.equal((await app.rest(c.users.admin, 'POST', `/v1/customers/${frozen.id}/freeze`, { reason: 'credit check' })).status, 200);
  t.equal((await app.rest(c.users.admin, 'POST', `/v1/customers/${active.id}/merge`, { duplicateIds: [merged.id] })).status, 200);
  const expectedBlock: Record<string, string | null> = { [active.id]: null, [frozen.id]: null, [merged.id]: 'CUSTOMER_MERGED' };
  let compared = 0;
  for (const [name, u] of Object.entries(c.users)) {
    for (const id of [active.id, frozen.id, merged.id]) {
      const ex = await explain(c.users.admin, { userId: u.id, resourceType: 'CUSTOMER', resourceId: id });
      t.equal(ex.status, 200, ex.raw);
      const real = await realUpdate(u.id, id);
      if (!ex.body.visible) {
        t.equal(real, 'NOT_FOUND', `${name}: invisible, the update answers as for an unknown id`);
        continue;
      }
      t.equal(ex.body.writable, real === 'OK', `${name} on ${expectedBlock[id] ?? 'ACTIVE'}: writable=${ex.body.writable}, the update answered ${real}`);
      t.equal(ex.body.writeBlockedBy, expectedBlock[id], `${name}: the state that blocks`);
      if (ex.body.writeBlockedBy && ex.body.because.some((b: any) => b.grants.includes('WRITE'))) t.equal(real, ex.body.writeBlockedBy, `${name}: the update is refused with the code explain names`);
      compared++;
    }
  }
  t.ok(compared >= 10, `compared ${compared} visible pairs`);
  t.equal((await app.rest(c.users.sales, 'GET', `/v1/customers/${frozen.id}`)).body.industry, null, 'nothing was written');
  t.equal((await explain(c.users.admin, { userId: c.users.sales.id, resourceType: 'CUSTOMER', resourceId: frozen.id })).body.writable, true, 'a frozen customer still takes corrections from its owner');

  const g = await app.gql(c.users.admin, GQL, { userId: c.users.sales.id, resourceType: 'CUSTOMER', resourceId: merged.id });
  t.same(g.errors, undefined);
  t.match(g.data.accessExplain, { visible: true, writable: false, writeBlockedBy: 'CUSTOMER_MERGED' });
  t.ok(g.data.accessExplain.because.some((b: any) => b.rule === 'ROLE_SCOPE' && b.grants.includes('WRITE')), 'the access reason still grants WRITE');
});
