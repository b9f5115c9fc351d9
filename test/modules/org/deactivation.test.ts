import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, delegation, opportunity, testPipeline } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';
import { count, row } from '../../helpers/records.js';
import { day, hour } from '../../helpers/time.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const pl = await testPipeline(app);

const UPDATE_USER = 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id active } }';

t.test('a user who still holds work cannot be deactivated (both doors); after a transfer it can', async (t) => {
  const c = await company(app);
  const leaver = c.users.sales;
  const c1 = await app.customer(leaver);
  await app.customer(leaver);
  await opportunity(app, leaver, c1.id, { pipelineId: pl.id });
  await opportunity(app, leaver, c1.id, { pipelineId: pl.id, stage: 'LOST' });
  await action(app, leaver, { customerId: c1.id });
  const version = (await row(app, 'users', leaver.id)).version;

  const res = await app.rest(c.users.admin, 'PATCH', `/v1/users/${leaver.id}`, { active: false });
  t.equal(problemOf(res, 409), null, res.raw);
  t.same(res.body.owned, { customers: 2, opportunities: 1, actions: 1 }, 'how many, by kind');
  t.equal(res.body.transferWith, 'POST /v1/transfers');
  t.match(res.body.detail, /2 customer\(s\).*1 open opportunity.*1 open action/);
  t.match(res.body.detail, /POST \/v1\/transfers/);
  const g = await app.gql(c.users.admin, UPDATE_USER, { id: leaver.id, input: { active: false } });
  t.same(g.codes, ['CONFLICT']);
  t.same(g.errors?.[0]?.extensions?.owned, { customers: 2, opportunities: 1, actions: 1 });
  const still = await row(app, 'users', leaver.id);
  t.same([still.active, still.version], [true, version], 'nothing written');
  t.equal((await app.rest(c.users.admin, 'PATCH', `/v1/users/${leaver.id}`, { name: 'Still here' })).status, 200, 'other edits are not blocked');

  t.equal((await app.rest(c.users.branchManager, 'POST', '/v1/transfers', { fromUserId: leaver.id, toUserId: c.users.sales2.id })).status, 201);
  const g2 = await app.gql(c.users.admin, UPDATE_USER, { id: leaver.id, input: { active: false } });
  t.same(g2.errors, undefined);
  t.equal(g2.data.updateUser.active, false, 'deactivated after the transfer');
  t.equal((await app.rest(leaver, 'GET', '/v1/me')).status, 401, 'and locked out');
});

t.test('a deactivated user’s delegations, given or received, end with it', async (t) => {
  const c = await company(app);
  const leaver = await app.user(c.branch, ['sales']);
  const given = (await delegation(app, leaver, c.users.sales, { startsAt: new Date(Date.now() - hour), endsAt: new Date(Date.now() + day) })).id;
  const received = (await delegation(app, c.users.sales2, leaver, { startsAt: new Date(Date.now() - hour), endsAt: new Date(Date.now() + day) })).id;
  const future = (await delegation(app, leaver, c.users.sales2, { startsAt: new Date(Date.now() + day), endsAt: new Date(Date.now() + 2 * day) })).id;
  const past = (await delegation(app, leaver, c.users.sales2, { startsAt: new Date(Date.now() - 2 * day), endsAt: new Date(Date.now() - day) })).id;
  const unrelated = (await delegation(app, c.users.sales, c.users.sales2, { startsAt: new Date(Date.now() - hour), endsAt: new Date(Date.now() + day) })).id;
  t.equal((await app.rest(c.users.sales, 'GET', '/v1/me')).body.activeDelegations.length, 2, 'running before');

  const res = await app.rest(c.users.admin, 'PATCH', `/v1/users/${leaver.id}`, { active: false });
  t.equal(res.status, 200, res.raw);
  for (const id of [given, received, future]) t.ok((await row(app, 'delegations', id)).revoked_at, 'ended');
  t.equal((await row(app, 'delegations', past)).revoked_at, null, 'an expired one is left as it was');
  t.equal((await row(app, 'delegations', unrelated)).revoked_at, null, 'others untouched');
  t.same((await app.rest(c.users.sales, 'GET', '/v1/me')).body.activeDelegations.map((d: any) => d.id), [unrelated]);
  t.equal(await count(app, sql`SELECT count(*) AS n FROM audit_log WHERE entity_id IN (${given}::uuid, ${received}::uuid, ${future}::uuid) AND action = 'revoked'`), 3, 'each end audited');
  const reactivated = await app.rest(c.users.admin, 'PATCH', `/v1/users/${leaver.id}`, { active: true });
  t.equal(reactivated.status, 200);
  t.ok((await row(app, 'delegations', given)).revoked_at, 'reactivation does not bring delegations back');
});

t.test('another partner’s user cannot even be named', async (t) => {
  const c = await company(app);
  await app.customer(c.users.partnerBSales);
  const res = await app.rest(c.users.sales, 'PATCH', `/v1/users/${c.users.partnerBSales.id}`, { active: false });
  t.not(res.status, 409, 'no holdings are revealed');
  t.notOk(res.body.owned);
  t.equal((await row(app, 'users', c.users.partnerBSales.id)).active, true);
});
