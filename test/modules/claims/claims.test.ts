import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { auditFor, eventsFor } from '../../helpers/records.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const DAY = 86_400_000;
const CLAIM_FIELDS = 'id customerId opportunityId claimantUserId claimantUnitId status protectedUntil reason note decidedBy decidedAt version';
const CREATE = `mutation($input: CreateClaimInput!) { createClaim(input: $input) { ${CLAIM_FIELDS} } }`;
const APPROVE = `mutation($id: ID!, $reason: String!) { approveClaim(id: $id, reason: $reason) { ${CLAIM_FIELDS} } }`;
const REJECT = `mutation($id: ID!, $reason: String!) { rejectClaim(id: $id, reason: $reason) { ${CLAIM_FIELDS} } }`;
const READ = `query($id: ID!) { claim(id: $id) { ${CLAIM_FIELDS} } }`;

t.test('a partner claims its prospect, its head approves: protected for 90 days; another partner cannot create it and learns only whom to ask', async (t) => {
  const c = await company(app);
  const name = `Fairground ${tag()} GmbH`;
  const customer = await app.customer(c.users.partnerASales, { name, lifecycleStage: 'PROSPECT' });

  const made = await app.rest(c.users.partnerASales, 'POST', '/v1/claims', { customerId: customer.id, note: 'met them at the fair' });
  t.equal(made.status, 201, made.raw);
  t.equal(made.headers.location, `/v1/claims/${made.body.id}`);
  t.match(made.body, { customerId: customer.id, opportunityId: null, claimantUserId: c.users.partnerASales.id, claimantUnitId: c.partnerA.id, status: 'PENDING', protectedUntil: null, note: 'met them at the fair' });
  t.equal(problemOf(await app.rest(c.users.partnerASales, 'POST', '/v1/claims', { customerId: customer.id }), 409), null, 'a second pending claim of the same unit: 409');
  t.equal((await app.rest(c.users.partnerASales, 'POST', '/v1/claims', { customerId: customer.id })).body.code, 'CLAIM_EXISTS');

  // Before approval nothing is protected: the other partner is only told of a protected duplicate.
  const early = await app.rest(c.users.partnerBSales, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name });
  t.equal(early.body.code, 'DUPLICATE_CUSTOMER', 'pending: the ordinary duplicate rule');

  t.equal(problemOf(await app.rest(c.users.partnerASales, 'POST', `/v1/claims/${made.body.id}/approve`, { reason: 'me' }), 403), null, 'a salesperson approves nothing');
  t.equal(problemOf(await app.rest(c.users.partnerBManager, 'POST', `/v1/claims/${made.body.id}/approve`, { reason: 'x' }), 404), null, "another partner's head does not see the claim");
  t.equal(problemOf(await app.rest(c.users.partnerAManager, 'POST', `/v1/claims/${made.body.id}/approve`, {}), 400, ['reason']), null, 'reason required');
  t.equal(problemOf(await app.rest(c.users.partnerAManager, 'POST', `/v1/claims/${made.body.id}/approve`, { reason: '   ' }), 400, ['reason']), null, 'a blank reason is none');

  const approved = await app.rest(c.users.partnerAManager, 'POST', `/v1/claims/${made.body.id}/approve`, { reason: 'first contact documented' });
  t.equal(approved.status, 200, approved.raw);
  t.match(approved.body, { status: 'APPROVED', reason: 'first contact documented', decidedBy: c.users.partnerAManager.id, version: 2 });
  const until = Date.parse(approved.body.protectedUntil);
  t.ok(Math.abs(until - (Date.now() + 90 * DAY)) < 60_000, 'protected for CLAIM_PROTECTION_DAYS (90)');
  t.equal(approved.headers.etag, '"2"');
  t.equal(problemOf(await app.rest(c.users.partnerAManager, 'POST', `/v1/claims/${made.body.id}/reject`, { reason: 'late' }), 409), null, 'decided once');

  // The other partner: refused with CLAIMED, naming only the region both partners share.
  for (const allow of ['', '?allowDuplicate=true']) {
    const dup = await app.rest(c.users.partnerBSales, 'POST', `/v1/customers${allow}`, { kind: 'ORGANIZATION', name });
    t.equal(problemOf(dup, 409), null, `duplicate create${allow}`);
    t.equal(dup.body.code, 'CLAIMED');
    t.equal(dup.body.contactUnitId, c.region.id, 'whom to ask: the lowest common unit');
    for (const secret of [c.users.partnerASales.id, c.partnerA.id, customer.id, made.body.id]) t.notOk(dup.raw.includes(secret), 'nothing names the claimant, its unit, the customer or the claim');
  }
  const gdup = await app.gql(c.users.partnerBSales, 'mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }', { input: { kind: 'ORGANIZATION', name } });
  t.same(gdup.codes, ['CONFLICT']);
  t.equal(gdup.errors?.[0]?.extensions?.reason, 'CLAIMED');
  t.notOk(JSON.stringify(gdup.errors).includes(c.users.partnerASales.id));
  // The company's own salesperson is refused too; the claimant's own unit is not (its duplicate rule applies).
  const staff = await app.rest(c.users.sales, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ORGANIZATION', name });
  t.equal(staff.body.code, 'CLAIMED');
  t.equal(staff.body.contactUnitId, c.region.id);
  const own = await app.rest(c.users.partnerASubSales, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name });
  t.equal(own.body.code, 'DUPLICATE_CUSTOMER', 'inside the claimant unit: the ordinary duplicate rule');

  // The claim is an event and an audit trail, addressed to the claimant.
  const events = await eventsFor(app, made.body.id);
  t.same(events.map((e) => e.type), ['claim.created', 'claim.approved']);
  t.ok(events.every((e) => e.owner_user_id === c.users.partnerASales.id && e.owner_unit_id === c.partnerA.id));
  t.same((await auditFor(app, made.body.id)).map((a) => a.action), ['created', 'approved']);

  // On the timeline of the claimant's side; never on another viewer's (a share shows the customer, not the claim).
  const mine = await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${customer.id}/timeline`);
  t.same(mine.body.data.filter((e: any) => e.type.startsWith('CLAIM_')).map((e: any) => e.type), ['CLAIM_APPROVED', 'CLAIM_REGISTERED']);
  await app.rest(c.users.admin, 'POST', '/v1/shares', { resourceType: 'CUSTOMER', resourceId: customer.id, toUserId: c.users.partnerBSales.id });
  const theirs = await app.rest(c.users.partnerBSales, 'GET', `/v1/customers/${customer.id}/timeline`);
  t.equal(theirs.status, 200, theirs.raw);
  t.same(theirs.body.data.filter((e: any) => e.type.startsWith('CLAIM_')), [], 'no claim entries for another partner');
  t.notOk(theirs.raw.includes(made.body.id));
  const gtl = await app.gql(c.users.partnerBSales, 'query($id: ID!) { customer(id: $id) { claims { id } } }', { id: customer.id });
  t.same(gtl.data.customer.claims, [], 'nor through GraphQL Customer.claims');
});

t.test('protection: other units’ claims and other partners’ opportunities are refused; expiry ends it', async (t) => {
  const c = await company(app);
  // A partner B customer, claimed by the region's manager and approved by the admin.
  const customer = await app.customer(c.users.partnerBSales, { name: `Protected ${tag()}` });
  const claim = await app.rest(c.users.regionManager, 'POST', '/v1/claims', { customerId: customer.id });
  t.equal(claim.status, 201, claim.raw);
  t.equal(problemOf(await app.rest(c.users.regionManager, 'POST', `/v1/claims/${claim.body.id}/approve`, { reason: 'mine' }), 403), null, 'nobody approves its own claim');
  t.equal((await app.rest(c.users.admin, 'POST', `/v1/claims/${claim.body.id}/approve`, { reason: 'the region led it' })).status, 200);

  const opp = await app.rest(c.users.partnerBSales, 'POST', '/v1/opportunities', { customerId: customer.id, name: 'their deal' });
  t.equal(problemOf(opp, 409), null, "the other partner's new opportunity");
  t.match(opp.body, { code: 'CLAIMED', contactUnitId: c.region.id });
  const gopp = await app.gql(c.users.partnerBSales, 'mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id } }', { input: { customerId: customer.id, name: 'their deal' } });
  t.equal(gopp.errors?.[0]?.extensions?.reason, 'CLAIMED');
  const rival = await app.rest(c.users.partnerBManager, 'POST', '/v1/claims', { customerId: customer.id });
  t.equal(rival.body.code, 'CLAIMED', "another unit's claim");
  t.equal(rival.body.contactUnitId, c.region.id);
  t.equal((await app.rest(c.users.regionManager, 'POST', '/v1/opportunities', { customerId: customer.id, name: 'ours' })).status, 201, "the claimant's side still works it");

  // The claimant keeps reading the customer while protected (explain names the claim).
  const ex = await app.rest(c.users.regionManager, 'GET', `/v1/access/explain?resourceType=CUSTOMER&resourceId=${customer.id}`);
  t.ok(ex.body.because.some((b: any) => b.rule === 'CLAIM' && b.claimId === claim.body.id), 'explain names the claim');

  // The end of the protection: the job marks it EXPIRED (an event), and the partner works its customer again.
  await app.db.execute(sql`UPDATE claims SET protected_until = now() - interval '1 second' WHERE id = ${claim.body.id}::uuid`);
  t.equal((await app.rest(c.users.partnerBSales, 'POST', '/v1/opportunities', { customerId: customer.id, name: 'after' })).status, 201, 'protection ends by itself');
  t.equal(await app.app.services.claims.expire(claim.body.id), 1);
  t.equal(await app.app.services.claims.expire(claim.body.id), 0, 'idempotent');
  t.match((await app.rest(c.users.regionManager, 'GET', `/v1/claims/${claim.body.id}`)).body, { status: 'EXPIRED', expiredAt: String });
  t.same((await eventsFor(app, claim.body.id)).map((e) => e.type), ['claim.created', 'claim.approved', 'claim.expired']);
  t.equal((await app.rest(c.users.partnerBManager, 'POST', '/v1/claims', { customerId: customer.id })).status, 201, 'a new claim is possible');
});

t.test('reject, lists, GraphQL, and nothing about another partner', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.partnerASales);
  const made = await app.gql(c.users.partnerASales, CREATE, { input: { customerId: customer.id } });
  t.same(made.errors, undefined);
  const id = made.data.createClaim.id;
  t.equal(made.data.createClaim.status, 'PENDING');
  const bad = await app.gql(c.users.partnerAManager, REJECT, { id, reason: '' });
  t.same(gqlPaths(bad), ['reason']);
  const rejected = await app.gql(c.users.partnerAManager, REJECT, { id, reason: 'no evidence' });
  t.match(rejected.data.rejectClaim, { status: 'REJECTED', reason: 'no evidence', protectedUntil: null });
  const again = await app.gql(c.users.partnerAManager, APPROVE, { id, reason: 'changed my mind' });
  t.equal(again.errors?.[0]?.extensions?.reason, 'CLAIM_NOT_PENDING');

  t.equal((await app.gql(c.users.partnerASales, READ, { id })).data.claim.id, id);
  t.same((await app.gql(c.users.partnerBManager, READ, { id })).codes, ['NOT_FOUND']);
  t.same((await app.gql(c.users.sales, READ, { id })).codes, ['NOT_FOUND']);
  t.equal(problemOf(await app.rest(c.users.partnerBManager, 'GET', `/v1/claims/${id}`), 404), null);
  const mine = await app.rest(c.users.partnerAManager, 'GET', `/v1/claims?customerId=${customer.id}&status=rejected`);
  t.same(mine.body.data.map((x: any) => x.id), [id]);
  t.same((await app.rest(c.users.partnerBManager, 'GET', `/v1/claims?customerId=${customer.id}`)).body.data, []);
  const conn = await app.gql(c.users.partnerAManager, 'query($f: ClaimFilter) { claims(filter: $f, first: 5) { edges { node { id } } } }', { f: { customerId: customer.id } });
  t.same(conn.data.claims.edges.map((e: any) => e.node.id), [id]);
  const nested = await app.gql(c.users.partnerASales, 'query($id: ID!) { customer(id: $id) { claims { id status } } }', { id: customer.id });
  t.same(nested.data.customer.claims, [{ id, status: 'REJECTED' }]);
  const adminNested = await app.gql(c.users.sales, 'query($id: ID!) { customer(id: $id) { id } }', { id: customer.id });
  t.same(adminNested.codes, ['NOT_FOUND']);

  // Another partner's customer: 404 naming the field, in both doors.
  const theirs = await app.customer(c.users.partnerBSales);
  const r = await app.rest(c.users.partnerASales, 'POST', '/v1/claims', { customerId: theirs.id });
  t.equal(problemOf(r, 404, ['customerId']), null);
  t.same((await app.gql(c.users.partnerASales, CREATE, { input: { customerId: theirs.id } })).codes, ['NOT_FOUND']);
  // A share grants reading, not claiming.
  await app.rest(c.users.admin, 'POST', '/v1/shares', { resourceType: 'CUSTOMER', resourceId: theirs.id, toUserId: c.users.partnerASales.id });
  t.equal(problemOf(await app.rest(c.users.partnerASales, 'POST', '/v1/claims', { customerId: theirs.id }), 403), null);
});

t.test('bad input: 400 naming the field, never 5xx', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const cases: [unknown, string[]][] = [
    [{}, ['customerId']],
    [{ customerId: 'nope' }, ['customerId']],
    [{ customerId: customer.id, extra: 1 }, ['']],
    [{ customerId: customer.id, note: 'a\u0000b' }, ['note']],
    [{ customerId: customer.id, note: 'x'.repeat(2001) }, ['note']],
    [{ customerId: customer.id, opportunityId: 42 }, ['opportunityId']],
  ];
  for (const [body, paths] of cases) {
    const res = await app.rest(c.users.sales, 'POST', '/v1/claims', body);
    t.equal(res.status, 400, `${JSON.stringify(body).slice(0, 60)}: ${res.raw.slice(0, 200)}`);
    if (paths[0]) t.same(res.body.errors.map((e: any) => e.path), paths);
  }
  t.equal(problemOf(await app.rest(c.users.sales, 'POST', '/v1/claims', { customerId: customer.id, opportunityId: customer.id }), 404, ['opportunityId']), null, 'an opportunity not on the customer');
  t.equal(problemOf(await app.rest(c.users.sales, 'GET', '/v1/claims?status=LOST'), 400, ['status']), null);
  t.equal(problemOf(await app.rest(c.users.sales, 'GET', '/v1/claims?claimant=x'), 400, ['claimant']), null);
  t.equal(problemOf(await app.rest(c.users.sales, 'GET', '/v1/claims/not-a-uuid'), 400), null);
  t.equal(problemOf(await app.rest(c.users.service, 'POST', '/v1/claims', { customerId: customer.id }), 403), null, 'service has no claims:create');
});

t.test('approving one claim closes the other pending claims on the customer as REJECTED by the system, naming only whom to ask', async (t) => {
  const c = await company(app);
  // Partner B's customer; a head office user with company-wide reach sitting in the other branch, and
  // the region's manager, may work it too (write access, so each may claim).
  const customer = await app.customer(c.users.partnerBSales, { name: `Contested ${tag()}` });
  const keyAccount = await app.user(c.otherBranch, ['admin']);
  const a = await app.rest(keyAccount, 'POST', '/v1/claims', { customerId: customer.id, note: 'key account met them' });
  const b = await app.rest(c.users.partnerBSales, 'POST', '/v1/claims', { customerId: customer.id, note: 'B met them' });
  const own = await app.rest(c.users.regionManager, 'POST', '/v1/claims', { customerId: customer.id });
  t.same([a.status, b.status, own.status], [201, 201, 201], 'several units may have pending claims at once');

  const approved = await app.rest(c.users.admin, 'POST', `/v1/claims/${a.body.id}/approve`, { reason: 'first documented contact' });
  t.equal(approved.status, 200, approved.raw);
  t.notOk(approved.raw.includes(b.body.id), 'the approval answer names no other claim');

  const [system] = await queryRows<{ id: string }>(app.db, sql`SELECT id FROM users WHERE lower(email) = 'system@keel.invalid'`);
  const systemId = system?.id;
  const closed = await app.rest(c.users.partnerBManager, 'GET', `/v1/claims/${b.body.id}`);
  t.equal(closed.status, 200, closed.raw);
  t.match(closed.body, { status: 'REJECTED', protectedUntil: null, decidedAt: String });
  if (systemId) t.equal(closed.body.decidedBy, systemId, 'decided by the system user');
  t.not(closed.body.decidedBy, c.users.admin.id, "never the winner's approver");
  t.match(closed.body.reason, /another claim on this customer was approved/);
  t.ok(closed.body.reason.includes(c.region.name), 'names the unit both claimants share');
  for (const secret of [keyAccount.id, c.otherBranch.id, c.otherBranch.name, a.body.id, c.users.admin.id]) t.notOk(closed.raw.includes(secret), 'nothing names the winning claimant');
  t.same((await eventsFor(app, b.body.id)).map((e) => e.type), ['claim.created', 'claim.rejected'], 'the closing is an event, addressed to its claimant');
  t.ok((await eventsFor(app, b.body.id)).every((e) => e.owner_unit_id === c.partnerB.id));

  // The region's pending claim is closed the same way; through GraphQL too it reads REJECTED.
  const ownRead = await app.gql(c.users.regionManager, READ, { id: own.body.id });
  t.match(ownRead.data.claim, { status: 'REJECTED', reason: /another claim on this customer was approved/ });
  t.notOk(JSON.stringify(ownRead.data).includes(c.otherBranch.name));
  t.notOk(JSON.stringify(ownRead.data).includes(keyAccount.id));
  // Closed claims cannot be approved afterwards; a new one is refused while the protection lasts.
  t.equal((await app.rest(c.users.partnerBManager, 'POST', `/v1/claims/${b.body.id}/approve`, { reason: 'late' })).body.code, 'CLAIM_NOT_PENDING');
  const again = await app.rest(c.users.partnerBSales, 'POST', '/v1/claims', { customerId: customer.id });
  t.equal(again.body.code, 'CLAIMED');
  t.equal(again.body.contactUnitId, c.region.id);

  // A rejection closes nothing else.
  const other = await app.customer(c.users.partnerASales);
  const x = await app.rest(c.users.partnerASales, 'POST', '/v1/claims', { customerId: other.id });
  const y = await app.rest(c.users.regionManager, 'POST', '/v1/claims', { customerId: other.id });
  t.same([x.status, y.status], [201, 201]);
  t.equal((await app.rest(c.users.partnerAManager, 'POST', `/v1/claims/${x.body.id}/reject`, { reason: 'no evidence' })).status, 200);
  t.equal((await app.rest(c.users.regionManager, 'GET', `/v1/claims/${y.body.id}`)).body.status, 'PENDING');
});

t.test('duplicate-check previews a claimed match as 200 with `claimed` naming only whom to ask, in both doors', async (t) => {
  const c = await company(app);
  const name = `Preview ${tag()} AG`;
  const customer = await app.customer(c.users.partnerASales, { name });
  const claim = await app.rest(c.users.partnerASales, 'POST', '/v1/claims', { customerId: customer.id });
  t.equal((await app.rest(c.users.partnerAManager, 'POST', `/v1/claims/${claim.body.id}/approve`, { reason: 'fair contact' })).status, 200);
  const body = { kind: 'ORGANIZATION', name };
  const before = await app.rest(c.users.admin, 'GET', '/v1/customers?count=true&limit=1');

  const preview = await app.rest(c.users.partnerBSales, 'POST', '/v1/customers/duplicate-check', body);
  t.equal(preview.status, 200, preview.raw);
  t.same(preview.body.claimed, { contactUnitId: c.region.id, contactUnitName: c.region.name }, 'whom to ask: the lowest common unit');
  t.same(preview.body.candidates, [], 'the claimed customer is not visible to the other partner');
  t.equal(preview.body.protectedMatches.length, 1);
  for (const secret of [c.users.partnerASales.id, c.partnerA.id, c.partnerA.name, customer.id, claim.body.id]) t.notOk(preview.raw.includes(secret), 'nothing names the claimant, its unit, the customer or the claim');
  // What the create does: 409 CLAIMED naming the same unit.
  const create = await app.rest(c.users.partnerBSales, 'POST', '/v1/customers', body);
  t.equal(create.body.code, 'CLAIMED');
  t.equal(create.body.contactUnitId, preview.body.claimed.contactUnitId, 'the preview names whom the create names');
  const after = await app.rest(c.users.admin, 'GET', '/v1/customers?count=true&limit=1');
  t.equal(after.body.totalCount, before.body.totalCount, 'nothing created');

  const g = await app.gql(c.users.partnerBSales, `query($input: CreateCustomerInput!) { duplicateCheck(input: $input) {
    candidates { id } protectedMatches { matchedOn contactUnitId contactUnitName } claimed { contactUnitId contactUnitName } } }`, { input: body });
  t.same(g.errors, undefined);
  t.same(g.data.duplicateCheck, preview.body, 'GraphQL answers the same');

  // Inside the claimant's side: no claim indication; above it (the admin at the root), the root is whom to ask.
  const own = await app.rest(c.users.partnerASubSales, 'POST', '/v1/customers/duplicate-check', body);
  t.equal(own.status, 200, own.raw);
  t.equal(own.body.claimed, null, "inside the claimant's side the ordinary duplicate rule applies");
  t.equal(own.body.candidates.length + own.body.protectedMatches.length, 1);
  const staff = await app.rest(c.users.admin, 'POST', '/v1/customers/duplicate-check', body);
  t.same(staff.body.claimed?.contactUnitId, (await app.root()).id, 'the admin (root) is told to ask the root: it sees the customer anyway');
  t.same(staff.body.candidates.map((x: any) => x.id), [customer.id]);
});
