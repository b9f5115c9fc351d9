import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { digits, opportunity, share, tag } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';
import { countRows } from '../../helpers/records.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const CUSTOMER = 'query($id: ID!) { customer(id: $id) { id viewerCan { update freeze merge transition share createOpportunity recordInteraction createContact } } }';
const OPPORTUNITY = 'query($id: ID!) { opportunity(id: $id) { id viewerCan { update transition reopen } } }';
const CHECK = `query($input: CreateCustomerInput!) { duplicateCheck(input: $input) {
  candidates { id name lifecycleStage ownerUserId ownerUnitId matchedOn } protectedMatches { matchedOn contactUnitId contactUnitName } claimed { contactUnitId contactUnitName } } }`;

t.test("viewerCan on a customer: the owner may, a partner it is shared with only reads, another partner's record is 404", async (t) => {
  const c = await company(app);
  const owner = c.users.sales;
  const customer = await app.customer(owner);
  await share(app, customer.id, { toUnitId: c.partnerA.id }, c.users.marketing);

  const mine = await app.rest(owner, 'GET', `/v1/customers/${customer.id}?include=viewerCan`);
  t.equal(mine.status, 200, mine.raw);
  t.match(mine.body.viewerCan, { update: true, transition: true, createOpportunity: true, recordInteraction: true, createContact: true });
  t.equal(mine.headers.etag, `"${customer.version}"`, 'the ETag is still the version');

  const shared = await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${customer.id}?include=viewerCan`);
  t.equal(shared.status, 200, shared.raw);
  t.same(shared.body.viewerCan, { update: false, freeze: false, merge: false, transition: false, share: false, createOpportunity: false, recordInteraction: false, createContact: false });
  // What viewerCan says is what the write answers.
  t.equal(problemOf(await app.rest(c.users.partnerASales, 'PATCH', `/v1/customers/${customer.id}`, { industry: 'X' }), 403), null);

  const plain = await app.rest(owner, 'GET', `/v1/customers/${customer.id}`);
  t.notOk('viewerCan' in plain.body, 'absent unless asked for');

  const outsider = c.users.partnerASales;
  const theirs = await app.customer(c.users.partnerBSales);
  t.equal((await app.rest(c.users.partnerBSales, 'GET', `/v1/customers/${theirs.id}?include=viewerCan`)).body.viewerCan?.update, true, 'partner B on its own record');
  t.equal(problemOf(await app.rest(outsider, 'GET', `/v1/customers/${theirs.id}?include=viewerCan`), 404), null, "another partner's record: 404");
  t.equal(problemOf(await app.rest(owner, 'GET', `/v1/customers/${customer.id}?include=nope`), 400), null, 'an unknown include: 400');
  t.equal(problemOf(await app.rest(owner, 'GET', `/v1/customers/${customer.id}?include=viewerCan,nope`), 400), null);

  const g = await app.gql(c.users.partnerASales, CUSTOMER, { id: customer.id });
  t.same(g.errors, undefined);
  t.equal(g.data.customer.viewerCan.update, false, 'GraphQL: read-only through the share');
  t.equal((await app.gql(owner, CUSTOMER, { id: customer.id })).data.customer.viewerCan.update, true, 'GraphQL: the owner may');
  t.same((await app.gql(outsider, CUSTOMER, { id: theirs.id })).codes, ['NOT_FOUND']);
});

t.test('viewerCan on an opportunity: update and transition for its owner and its manager, no reopen while open', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const o = await opportunity(app, c.users.sales, customer.id);
  const mine = await app.rest(c.users.sales, 'GET', `/v1/opportunities/${o.id}?include=viewerCan`);
  t.equal(mine.status, 200, mine.raw);
  t.same(mine.body.viewerCan, { update: true, transition: true, reopen: false });
  const other = await app.rest(c.users.otherSales, 'GET', `/v1/opportunities/${o.id}?include=viewerCan`);
  t.equal(problemOf(other, 404), null, 'invisible: 404');
  t.equal(problemOf(await app.rest(c.users.sales, 'GET', `/v1/opportunities/${o.id}?include=everything`), 400), null, 'an unknown include: 400');
  const g = await app.gql(c.users.branchManager, OPPORTUNITY, { id: o.id });
  t.same(g.errors, undefined);
  t.same(g.data.opportunity.viewerCan, { update: true, transition: true, reopen: false });
});

t.test('duplicate-check answers what a refused create would, creating nothing', async (t) => {
  const c = await company(app);
  const phone = `+4930${digits()}`;
  const name = `Dup ${tag()}`;
  const existing = await app.customer(c.users.sales, { name, phones: [phone] });
  const hidden = await app.customer(c.users.otherSales, { name: `Other ${tag()}`, phones: [phone] });
  t.ok(existing.id && hidden.id);
  const body = { kind: 'ORGANIZATION', name, phones: [phone] };

  const before = await countRows(app, 'customers');
  const preview = await app.rest(c.users.sales, 'POST', '/v1/customers/duplicate-check', body);
  t.equal(preview.status, 200, preview.raw);
  t.equal(await countRows(app, 'customers'), before, 'nothing created');
  const refused = await app.rest(c.users.sales, 'POST', '/v1/customers', body);
  t.equal(problemOf(refused, 409), null);
  t.same(preview.body, { candidates: refused.body.candidates, protectedMatches: refused.body.protectedMatches, claimed: null }, 'the same answer as the refused create');
  t.equal(preview.body.candidates.length, 1);
  t.equal(preview.body.protectedMatches.length, 1, 'the other branch’s record only as a protected match');

  const fresh = await app.rest(c.users.sales, 'POST', '/v1/customers/duplicate-check', { kind: 'ORGANIZATION', name: `Unique ${tag()}` });
  t.same(fresh.body, { candidates: [], protectedMatches: [], claimed: null });
  t.equal(problemOf(await app.rest(c.users.sales, 'POST', '/v1/customers/duplicate-check', { kind: 'ORGANIZATION' }), 400), null, 'a bad body: 400');

  const g = await app.gql(c.users.sales, CHECK, { input: body });
  t.same(g.errors, undefined);
  t.same(g.data.duplicateCheck, preview.body, 'GraphQL answers the same');
  t.equal(await countRows(app, 'customers'), before, 'still nothing created');
});
