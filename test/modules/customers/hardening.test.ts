import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { digits, opportunity, share, tag } from '../../helpers/factories.js';
import { auditFor, count } from '../../helpers/records.js';

// Issue 10 items 1–6: a share grants reading only; generated text names no hidden record; partners do
// not see the company's system fields; ERP-owned fields need integration:write; the duplicate check
// is no unlimited existence oracle; every id given is checked the same way.

t.test('a share grants reading only: no opportunity on a shared customer, through either door', async (t) => {
  const app = await buildTestApp();
  t.teardown(() => app.close());
  const { users } = await company(app);
  const c = await app.customer(users.sales);
  await share(app, c.id, { toUserId: users.partnerASales.id });
  t.equal((await app.rest(users.partnerASales, 'GET', `/v1/customers/${c.id}`)).status, 200, 'the share lets the partner read');
  const rest = await app.rest(users.partnerASales, 'POST', '/v1/opportunities', { customerId: c.id, name: `Deal ${tag()}` });
  t.equal(rest.status, 403);
  t.same(rest.body.errors?.map((e: { path: string }) => e.path), ['customerId']);
  const g = await app.gql(users.partnerASales, 'mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id } }', { i: { customerId: c.id, name: `Deal ${tag()}` } });
  t.same(g.codes, ['FORBIDDEN']);
  const after = await app.rest(users.sales, 'GET', `/v1/customers/${c.id}`);
  t.equal(after.body.lifecycleStage, 'SUSPECT', "the owner's customer did not move");
  t.equal(await count(app, sql`SELECT count(*) AS n FROM opportunities WHERE customer_id = ${c.id}::uuid`), 0, 'nothing written');
});

t.test('a generated lifecycle reason names the opportunity by id, never by its name', async (t) => {
  const app = await buildTestApp();
  t.teardown(() => app.close());
  const { users } = await company(app);
  const c = await app.customer(users.sales);
  const secret = `SECRET HQ deal ${tag()}`;
  const o = await opportunity(app, users.sales, c.id, { name: secret });
  await share(app, c.id, { toUserId: users.partnerASales.id });
  t.equal((await app.rest(users.partnerASales, 'GET', `/v1/opportunities/${o.id}`)).status, 404, 'the opportunity is invisible to the partner');
  const tl = await app.rest(users.partnerASales, 'GET', `/v1/customers/${c.id}/timeline`);
  t.equal(tl.status, 200);
  t.notMatch(JSON.stringify(tl.body), secret, 'the name appears nowhere on the timeline');
  const moves = await app.rest(users.partnerASales, 'GET', `/v1/customers/${c.id}/lifecycle-transitions`);
  t.notMatch(JSON.stringify(moves.body), secret);
});

t.test("partner roles do not see the company's system fields, and cannot write them", async (t) => {
  const app = await buildTestApp();
  t.teardown(() => app.close());
  const { users } = await company(app);
  const erp = `E${digits()}`;
  const created = await app.rest(users.integration, 'POST', '/v1/customers', { name: `Shared ${tag()}`, kind: 'ORGANIZATION', externalIds: { erp }, creditStatus: 'GOOD' });
  t.equal(created.status, 201);
  await share(app, created.body.id, { toUserId: users.partnerASales.id });
  for (const who of [users.partnerASales]) {
    const r = await app.rest(who, 'GET', `/v1/customers/${created.body.id}`);
    t.equal(r.status, 200);
    t.notOk('externalIds' in r.body, 'externalIds hidden');
    t.notOk('creditStatus' in r.body, 'creditStatus hidden');
    t.notOk('valueClass' in r.body, 'valueClass hidden');
    t.notMatch(r.raw, erp, 'the ERP id appears nowhere');
  }
  const g = await app.gql(users.partnerASales, 'query($id: ID!) { customer(id: $id) { id externalIds } }', { id: created.body.id });
  t.notMatch(JSON.stringify(g), erp, 'nor through GraphQL');
});

t.test('ERP-owned fields are written only with integration:write', async (t) => {
  const app = await buildTestApp();
  t.teardown(() => app.close());
  const { users } = await company(app);
  const c = await app.customer(users.sales);
  const credit = await app.rest(users.sales, 'PATCH', `/v1/customers/${c.id}`, { creditStatus: 'BLOCKED' });
  t.equal(credit.status, 403);
  t.same(credit.body.errors?.map((e: { path: string }) => e.path), ['creditStatus']);
  const ids = await app.rest(users.sales, 'PATCH', `/v1/customers/${c.id}`, { externalIds: { erp: 'X1' } });
  t.equal(ids.status, 403);
  t.same(ids.body.errors?.map((e: { path: string }) => e.path), ['externalIds']);
  const onCreate = await app.rest(users.sales, 'POST', '/v1/customers', { name: `C ${tag()}`, kind: 'ORGANIZATION', creditStatus: 'GOOD' });
  t.equal(onCreate.status, 403, 'nor on create');
  const g = await app.gql(users.sales, 'mutation($id: ID!) { updateCustomer(id: $id, input: { creditStatus: "BLOCKED" }) { id } }', { id: c.id });
  t.same(g.codes, ['FORBIDDEN']);
  t.equal((await app.rest(users.sales, 'GET', `/v1/customers/${c.id}`)).body.version, c.version, 'nothing written');
  const byErp = await app.rest(users.integration, 'PATCH', `/v1/customers/${c.id}`, { creditStatus: 'BLOCKED', externalIds: { erp: `E${digits()}` } });
  t.equal(byErp.status, 200, 'the integration writes them');
});

t.test('the duplicate check: protected matches audited, limited per hour, never overridden by a partner', async (t) => {
  const app = await buildTestApp({ DUPLICATE_PROBE_LIMIT_PER_HOUR: '2' });
  t.teardown(() => app.close());
  const { users } = await company(app);
  const phone = `+49 40 ${digits()}`;
  const hidden = await app.customer(users.sales, { phones: [phone] });
  const probe = () => app.rest(users.partnerASales, 'POST', '/v1/customers', { name: `Probe ${tag()}`, kind: 'ORGANIZATION', phones: [phone] });
  const first = await probe();
  t.equal(first.status, 409);
  t.equal(first.body.protectedMatches.length, 1);
  t.notMatch(first.raw, hidden.id, 'the protected id is not in the answer');
  const override = await app.rest(users.partnerASales, 'POST', '/v1/customers?allowDuplicate=true', { name: `Probe ${tag()}`, kind: 'ORGANIZATION', phones: [phone] });
  t.equal(override.status, 409, 'a partner cannot override a protected match');
  t.equal(override.body.code, 'DUPLICATE_CUSTOMER');
  const third = await probe();
  t.equal(third.status, 429, 'past the limit');
  t.equal(third.body.code, 'RATE_LIMITED');
  t.ok(third.headers['retry-after'], 'Retry-After');
  const probes = (await auditFor(app, hidden.id)).filter((a) => a.action === 'duplicate_probe');
  t.equal(probes.length, 2, 'each answer naming the protected customer is audited');
  t.equal(probes[0]?.actor_id, users.partnerASales.id);
  const staff = await app.rest(users.otherSales, 'POST', '/v1/customers?allowDuplicate=true', { name: `Staff ${tag()}`, kind: 'ORGANIZATION', phones: [phone] });
  t.equal(staff.status, 201, "the company's own staff may still override, knowingly");
});

t.test('PATCH checks a referrer exactly as POST does', async (t) => {
  const app = await buildTestApp();
  t.teardown(() => app.close());
  const { users } = await company(app);
  const c = await app.customer(users.partnerASales);
  const other = await app.customer(users.partnerBSales);
  for (const id of [other.id, '7d0f1c2e-5b7a-4c1e-9f3a-2b6d8e4a1c00']) {
    const r = await app.rest(users.partnerASales, 'PATCH', `/v1/customers/${c.id}`, { source: { channel: 'REFERRAL', referrerCustomerId: id } });
    t.equal(r.status, 400);
    t.same(r.body.errors?.map((e: { path: string }) => e.path), ['source.referrerCustomerId']);
  }
  const mine = await app.customer(users.partnerASales);
  t.equal((await app.rest(users.partnerASales, 'PATCH', `/v1/customers/${c.id}`, { source: { channel: 'REFERRAL', referrerCustomerId: mine.id } })).status, 200);
});
