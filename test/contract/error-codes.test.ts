import { readFileSync } from 'node:fs';
import t from 'tap';
import { ERROR_MAP } from '../../src/lib/errors.js';
import { buildTestApp, company } from '../helpers/app.js';

// Every code the service can answer with is listed in the README's table, with the same HTTP status
// and GraphQL class, and nothing else is listed there.
t.test("the README's table of error codes is ERROR_MAP", async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = [...readme.matchAll(/^\s*\| `([A-Z_]+)` \| (\d{3}) \| `([A-Z_]+)` \|/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
  t.same(
    rows.sort(),
    Object.entries(ERROR_MAP)
      .map(([code, m]) => [code, m.status, m.graphql])
      .sort(),
  );
});

// Refusals of domain rules answer with their own code (REST `code`, GraphQL `extensions.reason`),
// never a shared CONFLICT / UNPROCESSABLE that clients would have to tell apart by their text.
t.test('domain refusals carry specific codes through both doors', async (t) => {
  const app = await buildTestApp();
  t.teardown(() => app.close());
  const { users } = await company(app);

  const c = await app.customer(users.marketing);
  const moved = await app.rest(users.marketing, 'POST', `/v1/customers/${c.id}/lifecycle-transitions`, { to: 'SUSPECT' });
  t.equal(moved.status, 422);
  t.equal(moved.body.code, 'LIFECYCLE_UNCHANGED');
  const g = await app.gql(users.marketing, 'mutation($id: ID!) { transitionLifecycle(customerId: $id, input: { to: SUSPECT }) { id } }', { id: c.id });
  t.same(g.errors?.map((e) => [e.extensions?.code, e.extensions?.reason]), [['BAD_USER_INPUT', 'LIFECYCLE_UNCHANGED']]);

  const due = new Date(Date.now() + 48 * 3600_000).toISOString();
  const h = await app.rest(users.marketing, 'POST', `/v1/customers/${c.id}/handoffs`, { toUserId: users.sales.id, dueAt: due });
  t.equal(h.status, 201);
  const again = await app.rest(users.marketing, 'POST', `/v1/customers/${c.id}/handoffs`, { toUserId: users.sales.id, dueAt: due });
  t.equal(again.body.code, 'HANDOFF_ALREADY_PENDING');
  const byOther = await app.rest(users.sales2, 'POST', `/v1/handoffs/${h.body.id}/accept`);
  t.ok(byOther.status === 403 || byOther.status === 404, 'only the receiver decides');
  t.equal((await app.rest(users.sales, 'POST', `/v1/handoffs/${h.body.id}/accept`)).status, 200);
  const twice = await app.rest(users.sales, 'POST', `/v1/handoffs/${h.body.id}/accept`);
  t.equal(twice.status, 409);
  t.equal(twice.body.code, 'HANDOFF_NOT_PENDING');
  const g2 = await app.gql(users.sales, 'mutation($id: ID!) { acceptHandoff(id: $id) { id } }', { id: h.body.id });
  t.same(g2.errors?.map((e) => [e.extensions?.code, e.extensions?.reason]), [['CONFLICT', 'HANDOFF_NOT_PENDING']]);

  const lead = await app.customer(users.sales, { lifecycleStage: 'OPPORTUNITY' });
  const notLead = await app.rest(users.sales, 'POST', `/v1/customers/${lead.id}/handoffs`, { toUserId: users.sales2.id, dueAt: due });
  t.equal(notLead.body.code, 'NOT_A_LEAD');

  const frozen = await app.customer(users.branchManager);
  t.equal((await app.rest(users.branchManager, 'POST', `/v1/customers/${frozen.id}/freeze`, { reason: 'dormant' })).status, 200);
  const onFrozen = await app.rest(users.branchManager, 'POST', `/v1/customers/${frozen.id}/lifecycle-transitions`, { to: 'PROSPECT' });
  t.equal(onFrozen.status, 409);
  t.equal(onFrozen.body.code, 'CUSTOMER_FROZEN');
});
