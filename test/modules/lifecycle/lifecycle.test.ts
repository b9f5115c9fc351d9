import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp } from '../../helpers/app.js';
import { count } from '../../helpers/records.js';
import { inHours } from '../../helpers/time.js';
import { handoffWorld, pooledLead } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const w = await handoffWorld(app);
const u = w.users;

const TRANSITION = 'mutation($id: ID!, $input: LifecycleTransitionInput!, $v: Int) { transitionLifecycle(customerId: $id, input: $input, expectedVersion: $v) { id customerId from to reason cause actorId onBehalfOfId at } }';
const HAND_OFF = 'mutation($id: ID!, $input: HandoffInput!) { handOffCustomer(customerId: $id, input: $input) { id customerId fromUserId fromUnitId toUserId toUnitId status dueAt } }';
const transitionsOf = (id: string) => count(app, sql`SELECT count(*) AS n FROM lifecycle_transitions WHERE customer_id = ${id}`);
const handoffsOf = (id: string) => count(app, sql`SELECT count(*) AS n FROM handoffs WHERE customer_id = ${id}`);

t.test('lifecycle transitions through REST', async (t) => {
  const c = await app.customer(u.seller);
  const fwd = await app.rest(u.seller, 'POST', `/v1/customers/${c.id}/lifecycle-transitions`, { to: 'prospect' });
  t.equal(fwd.status, 201, 'a forward move needs no reason');
  t.match(fwd.body, { customerId: c.id, from: 'SUSPECT', to: 'PROSPECT', reason: null, cause: 'MANUAL', actorId: u.seller.id, onBehalfOfId: null });
  t.equal((await app.rest(u.seller, 'GET', `/v1/customers/${c.id}`)).body.lifecycleStage, 'PROSPECT');

  const back = await app.rest(u.seller, 'POST', `/v1/customers/${c.id}/lifecycle-transitions`, { to: 'SUSPECT' });
  t.equal(back.status, 400, 'a move back without a reason');
  t.equal(back.body.errors[0].path, 'reason');
  const same = await app.rest(u.seller, 'POST', `/v1/customers/${c.id}/lifecycle-transitions`, { to: 'PROSPECT' });
  t.equal(same.status, 422, 'a move to the current stage');
  t.equal(same.body.errors[0].path, 'to');
  for (const [body, path] of [[{ to: 'LEAD' }, 'to'], [{}, 'to'], [{ to: 'USER', extra: 1 }, ''], [{ to: 'USER', reason: 5 }, 'reason']] as const) {
    const r = await app.rest(u.seller, 'POST', `/v1/customers/${c.id}/lifecycle-transitions`, body);
    t.equal(r.status, 400, `bad body ${JSON.stringify(body)}`);
    if (path) t.equal(r.body.errors[0].path, path);
  }
  t.equal(await transitionsOf(c.id), 1, 'nothing written by refused requests');

  const stale = await app.rest(u.seller, 'POST', `/v1/customers/${c.id}/lifecycle-transitions`, { to: 'OPPORTUNITY' }, { 'if-match': '"1"' });
  t.equal(stale.status, 412, 'If-Match against the customer version');
  const cur = await app.rest(u.seller, 'GET', `/v1/customers/${c.id}`);
  const ok = await app.rest(u.seller, 'POST', `/v1/customers/${c.id}/lifecycle-transitions`, { to: 'SUSPECT', reason: 'not qualified after all' }, { 'if-match': cur.headers.etag as string });
  t.equal(ok.status, 201, 'a move back with a reason and a matching If-Match');
  t.equal(ok.body.reason, 'not qualified after all');

  const list = await app.rest(u.seller, 'GET', `/v1/customers/${c.id}/lifecycle-transitions?limit=1`);
  t.equal(list.status, 200);
  t.same(list.body.data.map((x: { to: string }) => x.to), ['SUSPECT'], 'newest first');
  const next = await app.rest(u.seller, 'GET', `/v1/customers/${c.id}/lifecycle-transitions?limit=1&cursor=${encodeURIComponent(list.body.nextCursor)}`);
  t.same(next.body.data.map((x: { to: string }) => x.to), ['PROSPECT'], 'then the older one');
  t.equal(next.body.nextCursor, null);
  t.equal((await app.rest(u.seller, 'GET', `/v1/customers/${c.id}/lifecycle-transitions?cursor=junk`)).status, 400, 'a forged cursor');

  await app.rest(u.branchManager, 'POST', `/v1/customers/${c.id}/freeze`, {});
  t.equal((await app.rest(u.seller, 'POST', `/v1/customers/${c.id}/lifecycle-transitions`, { to: 'PROSPECT' })).status, 409, 'a frozen customer refuses transitions');
});

t.test('lifecycle transitions: visibility and rights', async (t) => {
  const c = await app.customer(u.seller);
  t.equal((await app.rest(u.seller2, 'POST', `/v1/customers/${c.id}/lifecycle-transitions`, { to: 'PROSPECT' })).status, 404, "a colleague's customer is invisible to a salesperson");
  const theirs = await app.customer(u.otherPartnerSales);
  const r = await app.rest(u.partnerManager, 'POST', `/v1/customers/${theirs.id}/lifecycle-transitions`, { to: 'PROSPECT' });
  t.equal(r.status, 404, "another partner's customer does not exist");
  t.notMatch(r.raw, theirs.name, 'nothing leaked');
  t.equal((await app.rest(u.partnerManager, 'GET', `/v1/customers/${theirs.id}/lifecycle-transitions`)).status, 404, 'nor its transitions');
  const exec = await app.user(w.region, ['executive']);
  t.equal((await app.rest(exec, 'POST', `/v1/customers/${c.id}/lifecycle-transitions`, { to: 'PROSPECT' })).status, 403, 'visible without customers:update');
  t.equal(await transitionsOf(theirs.id), 0);
});

t.test('lifecycle transitions through GraphQL', async (t) => {
  const c = await app.customer(u.seller);
  const r = await app.gql(u.seller, TRANSITION, { id: c.id, input: { to: 'OPPORTUNITY' }, v: c.version });
  t.same(r.errors, undefined);
  t.match(r.data.transitionLifecycle, { customerId: c.id, from: 'SUSPECT', to: 'OPPORTUNITY', cause: 'MANUAL', actorId: u.seller.id });
  const back = await app.gql(u.seller, TRANSITION, { id: c.id, input: { to: 'PROSPECT' } });
  t.same(back.codes, ['BAD_USER_INPUT'], 'a move back needs a reason');
  t.match(back.errors?.[0]?.message, /reason/);
  t.same((await app.gql(u.seller, TRANSITION, { id: c.id, input: { to: 'OPPORTUNITY' } })).codes, ['BAD_USER_INPUT'], 'the current stage (422 in REST)');
  t.same((await app.gql(u.seller, TRANSITION, { id: c.id, input: { to: 'CUSTOMER' }, v: 1 })).codes, ['PRECONDITION_FAILED'], 'expectedVersion');
  t.same((await app.gql(u.seller, TRANSITION, { id: 'nope', input: { to: 'CUSTOMER' } })).codes, ['BAD_USER_INPUT'], 'a malformed id');
  const theirs = await app.customer(u.otherPartnerSales);
  t.same((await app.gql(u.partnerManager, TRANSITION, { id: theirs.id, input: { to: 'PROSPECT' } })).codes, ['NOT_FOUND'], "another partner's customer");
  t.equal(await transitionsOf(c.id), 1, 'only the accepted move was recorded');

  // Nested and batched: one statement for the transitions of a whole page.
  const others = await Promise.all([1, 2, 3].map(() => app.customer(u.seller)));
  for (const o of others) await app.rest(u.seller, 'POST', `/v1/customers/${o.id}/lifecycle-transitions`, { to: 'PROSPECT' });
  const q = 'query($ids: [ID!]) { a: customer(id: $ids) { id } }';
  void q;
  const nested = await app.countStatements(() =>
    app.gql(u.seller, `{ customers(first: 50, filter: { lifecycleStage: PROSPECT }) { edges { node { id lifecycleTransitions { from to actorId } handoffs { id } } } } }`),
  );
  const got = nested.result.data.customers.edges.filter((e: { node: { id: string } }) => others.some((o) => o.id === e.node.id));
  t.equal(got.length, 3);
  for (const e of got) t.match(e.node.lifecycleTransitions, [{ from: 'SUSPECT', to: 'PROSPECT', actorId: u.seller.id }]);
  const fewer = await app.countStatements(() => app.gql(u.seller, `{ customers(first: 50, filter: { lifecycleStage: PROSPECT }) { edges { node { id } } } }`));
  t.ok(nested.statements - fewer.statements <= 2, `nested fields cost one statement each (${nested.statements} vs ${fewer.statements})`);
});

t.test('handoff: the full flow through REST, accepted', async (t) => {
  const lead = await pooledLead(app, u.marketer, w.pool);
  t.equal((await app.rest(u.seller, 'GET', `/v1/customers/${lead.id}`)).status, 404, 'before: the seller does not see the pool');
  const res = await app.rest(u.marketer, 'POST', `/v1/customers/${lead.id}/handoffs`, { toUserId: u.seller.id, dueAt: inHours(48), note: 'hot lead' });
  t.equal(res.status, 201);
  t.equal(res.headers.location, `/v1/handoffs/${res.body.id}`);
  t.match(res.body, { customerId: lead.id, fromUserId: u.marketer.id, fromUnitId: w.pool.id, toUserId: u.seller.id, toUnitId: w.branch.id, status: 'PENDING', note: 'hot lead', reason: null });
  const id = res.body.id as string;

  const again = await app.rest(u.marketer, 'POST', `/v1/customers/${lead.id}/handoffs`, { toUnitId: w.branch.id, dueAt: inHours(48) });
  t.equal(again.status, 409, 'one pending handoff per customer');

  const inbox = await app.rest(u.seller, 'GET', '/v1/handoffs');
  t.ok(inbox.body.data.some((h: { id: string }) => h.id === id), "in the receiver's inbox");
  t.notOk((await app.rest(u.seller2, 'GET', '/v1/handoffs')).body.data.some((h: { id: string }) => h.id === id), "not in a colleague's (addressed to a user)");
  t.ok((await app.rest(u.branchManager, 'GET', '/v1/handoffs?status=pending')).body.data.some((h: { id: string }) => h.id === id), "in the branch manager's (a unit below)");
  t.ok((await app.rest(u.marketer, 'GET', '/v1/handoffs?box=sent')).body.data.some((h: { id: string }) => h.id === id), "in the sender's sent box");
  t.notOk((await app.rest(u.marketer, 'GET', '/v1/handoffs')).body.data.some((h: { id: string }) => h.id === id), "not in the sender's received box");
  t.equal((await app.rest(u.seller, 'GET', `/v1/handoffs/${id}`)).status, 200);

  t.equal((await app.rest(u.seller, 'GET', `/v1/customers/${lead.id}`)).status, 200, 'pending: the receiver reads the customer');
  t.equal((await app.rest(u.seller, 'GET', `/v1/customers/${lead.id}/contacts`)).status, 200, 'and its contacts');
  t.ok((await app.rest(u.seller, 'GET', `/v1/customers?q=${encodeURIComponent(lead.name)}`)).body.data.some((c: { id: string }) => c.id === lead.id), 'and finds it in searches');
  t.equal((await app.rest(u.seller, 'PATCH', `/v1/customers/${lead.id}`, { industry: 'x' })).status, 403, 'but may not write it');
  t.equal((await app.rest(u.seller2, 'GET', `/v1/customers/${lead.id}`)).status, 404, 'a colleague still does not see it');

  t.equal((await app.rest(u.seller2, 'POST', `/v1/handoffs/${id}/accept`)).status, 404, 'only the receiver decides (others do not even see it)');
  t.equal((await app.rest(u.marketer, 'POST', `/v1/handoffs/${id}/accept`)).status, 403, 'the sender sees it but does not decide');
  const acc = await app.rest(u.seller, 'POST', `/v1/handoffs/${id}/accept`);
  t.equal(acc.status, 200, acc.raw);
  t.match(acc.body, { status: 'ACCEPTED', decidedBy: u.seller.id });
  t.ok(acc.body.decidedAt);
  const c = (await app.rest(u.seller, 'GET', `/v1/customers/${lead.id}`)).body;
  t.match(c, { lifecycleStage: 'OPPORTUNITY', ownerUserId: u.seller.id, ownerUnitId: w.branch.id }, 'an OPPORTUNITY owned by the receiver');
  t.equal((await app.rest(u.seller, 'PATCH', `/v1/customers/${lead.id}`, { industry: 'Logistics' })).status, 200, 'now writable by its owner');
  t.equal((await app.rest(u.seller, 'POST', `/v1/handoffs/${id}/accept`)).status, 409, 'decided once');
  t.equal((await app.rest(u.seller, 'POST', `/v1/handoffs/${id}/reject`, { reason: 'changed my mind' })).status, 409);

  const timeline = await queryRows<{ from_stage: string; to_stage: string; cause: string; actor_id: string }>(app.db, sql`SELECT from_stage, to_stage, cause, actor_id FROM lifecycle_transitions WHERE customer_id = ${lead.id}`);
  t.same(timeline, [{ from_stage: 'PROSPECT', to_stage: 'OPPORTUNITY', cause: 'HANDOFF', actor_id: u.seller.id }], 'the lifecycle transition, caused by the handoff');
  const owners = await queryRows<Record<string, unknown>>(app.db, sql`SELECT entity_type, from_user_id, from_unit_id, to_user_id, to_unit_id, cause, actor_id FROM ownership_changes WHERE customer_id = ${lead.id}`);
  t.same(owners, [{ entity_type: 'customer', from_user_id: null, from_unit_id: w.pool.id, to_user_id: u.seller.id, to_unit_id: w.branch.id, cause: 'HANDOFF', actor_id: u.seller.id }], 'the ownership change');
  t.equal(await count(app, sql`SELECT count(*) AS n FROM events WHERE entity_id = ${id} AND type IN ('handoff.created', 'handoff.accepted')`), 2, 'events for the handoff');
});

t.test('handoff: rejected, the customer goes back to the pool and the receiver loses it', async (t) => {
  const lead = await pooledLead(app, u.marketer, w.pool, 'SUSPECT');
  const res = await app.rest(u.marketer, 'POST', `/v1/customers/${lead.id}/handoffs`, { toUnitId: w.branch.id, dueAt: inHours(24) });
  t.equal(res.status, 201);
  t.equal(res.body.toUserId, null);
  const id = res.body.id as string;
  t.equal((await app.rest(u.seller2, 'GET', `/v1/customers/${lead.id}`)).status, 200, 'addressed to the unit: every member reads it');
  t.ok((await app.rest(u.seller2, 'GET', '/v1/handoffs')).body.data.some((h: { id: string }) => h.id === id), 'and has it in the inbox');

  const noReason = await app.rest(u.seller2, 'POST', `/v1/handoffs/${id}/reject`, {});
  t.equal(noReason.status, 400);
  t.equal(noReason.body.errors[0].path, 'reason');
  t.equal((await app.rest(u.seller2, 'POST', `/v1/handoffs/${id}/reject`, { reason: '   ' })).status, 400, 'a blank reason');
  t.equal((await app.rest(u.seller2, 'GET', `/v1/handoffs/${id}`)).body.status, 'PENDING', 'nothing written');

  const rej = await app.rest(u.seller2, 'POST', `/v1/handoffs/${id}/reject`, { reason: 'no budget this year' });
  t.equal(rej.status, 200, rej.raw);
  t.match(rej.body, { status: 'REJECTED', reason: 'no budget this year', decidedBy: u.seller2.id });
  t.equal((await app.rest(u.seller2, 'GET', `/v1/customers/${lead.id}`)).status, 404, 'the receiver loses access');
  t.equal((await app.rest(u.seller, 'GET', `/v1/customers/${lead.id}`)).status, 404, 'every member of the unit does');
  const c = (await app.rest(u.marketer, 'GET', `/v1/customers/${lead.id}`)).body;
  t.match(c, { lifecycleStage: 'PROSPECT', ownerUserId: null, ownerUnitId: w.pool.id }, "a PROSPECT in the sender's pool");
  const timeline = await queryRows<{ from_stage: string; to_stage: string; cause: string; reason: string }>(app.db, sql`SELECT from_stage, to_stage, cause, reason FROM lifecycle_transitions WHERE customer_id = ${lead.id}`);
  t.same(timeline, [{ from_stage: 'SUSPECT', to_stage: 'PROSPECT', cause: 'HANDOFF', reason: 'no budget this year' }]);
  t.equal(await count(app, sql`SELECT count(*) AS n FROM ownership_changes WHERE customer_id = ${lead.id}`), 0, 'the owner did not change: no ownership row');

  const again = await app.rest(u.marketer, 'POST', `/v1/customers/${lead.id}/handoffs`, { toUserId: u.seller.id, dueAt: inHours(24) });
  t.equal(again.status, 201, 'a decided handoff leaves room for a new one');
});

t.test('handoff: bad input writes nothing', async (t) => {
  const lead = await pooledLead(app, u.marketer, w.pool);
  const ghost = '00000000-0000-4000-8000-000000000000';
  const cases: [Record<string, unknown>, string][] = [
    [{ dueAt: inHours(1) }, 'toUnitId'],
    [{ toUnitId: w.branch.id, toUserId: u.seller.id, dueAt: inHours(1) }, 'toUserId'],
    [{ toUnitId: w.branch.id }, 'dueAt'],
    [{ toUnitId: w.branch.id, dueAt: new Date(Date.now() - 60_000).toISOString() }, 'dueAt'],
    [{ toUnitId: w.branch.id, dueAt: 'tomorrow' }, 'dueAt'],
    [{ toUnitId: 'x', dueAt: inHours(1) }, 'toUnitId'],
    [{ toUnitId: ghost, dueAt: inHours(1) }, 'toUnitId'],
    [{ toUserId: ghost, dueAt: inHours(1) }, 'toUserId'],
    [{ toUnitId: w.otherPartner.id, dueAt: inHours(1) }, 'toUnitId'],
    [{ toUserId: u.otherPartnerSales.id, dueAt: inHours(1) }, 'toUserId'],
    [{ toUnitId: w.branch.id, dueAt: inHours(1), extra: true }, ''],
  ];
  // The partner's manager hands off within its own partner; the other partner does not exist for it.
  const partnerLead = await app.customer(u.partnerManager, { ownerUnitId: w.partner.id, lifecycleStage: 'PROSPECT' });
  for (const [body, path] of cases) {
    const r = await app.rest(u.partnerManager, 'POST', `/v1/customers/${partnerLead.id}/handoffs`, body);
    t.equal(r.status, 400, `${JSON.stringify(body)} → 400 ${r.raw.slice(0, 200)}`);
    if (path) t.equal(r.body.errors?.[0]?.path, path, `names ${path}`);
    const g = await app.gql(u.partnerManager, HAND_OFF, { id: partnerLead.id, input: body });
    t.same(g.codes, ['BAD_USER_INPUT'], `GraphQL: ${JSON.stringify(body)}`);
  }
  t.equal(await handoffsOf(partnerLead.id), 0, 'nothing written');
  const inactive = await app.user(w.branch, ['sales'], { active: false });
  const r = await app.rest(u.marketer, 'POST', `/v1/customers/${lead.id}/handoffs`, { toUserId: inactive.id, dueAt: inHours(1) });
  t.equal(r.status, 400, 'an inactive receiver');
  const late = await app.customer(u.seller, { lifecycleStage: 'OPPORTUNITY' });
  const op = await app.rest(u.seller, 'POST', `/v1/customers/${late.id}/handoffs`, { toUnitId: w.branch.id, dueAt: inHours(1) });
  t.equal(op.status, 422, 'an OPPORTUNITY is not handed off');
  t.equal(await handoffsOf(lead.id) + await handoffsOf(late.id), 0);
});

t.test("handoff: another partner's customers and handoffs do not exist", async (t) => {
  const theirs = await app.customer(u.otherPartnerManager, { ownerUnitId: w.otherPartner.id, lifecycleStage: 'PROSPECT' });
  const h = await app.rest(u.otherPartnerManager, 'POST', `/v1/customers/${theirs.id}/handoffs`, { toUserId: u.otherPartnerSales.id, dueAt: inHours(5) });
  t.equal(h.status, 201, h.raw);
  const r = await app.rest(u.partnerManager, 'POST', `/v1/customers/${theirs.id}/handoffs`, { toUnitId: w.partner.id, dueAt: inHours(5) });
  t.equal(r.status, 404);
  t.notMatch(r.raw, theirs.name);
  for (const [method, path, body] of [['GET', `/v1/handoffs/${h.body.id}`, undefined], ['POST', `/v1/handoffs/${h.body.id}/accept`, undefined], ['POST', `/v1/handoffs/${h.body.id}/reject`, { reason: 'x' }]] as const) {
    const x = await app.rest(u.partnerManager, method, path, body);
    t.equal(x.status, 404, `${method} ${path}`);
    t.notMatch(x.raw, theirs.id);
  }
  t.notOk((await app.rest(u.partnerManager, 'GET', '/v1/handoffs')).body.data.some((x: { id: string }) => x.id === h.body.id), 'not in lists');
  t.same((await app.gql(u.partnerManager, 'query($id: ID!) { handoff(id: $id) { id } }', { id: h.body.id })).codes, ['NOT_FOUND']);
  t.same((await app.gql(u.partnerManager, 'mutation($id: ID!) { acceptHandoff(id: $id) { id } }', { id: h.body.id })).codes, ['NOT_FOUND']);
  t.same((await app.gql(u.partnerManager, HAND_OFF, { id: theirs.id, input: { toUnitId: w.partner.id, dueAt: inHours(5) } })).codes, ['NOT_FOUND']);
  t.equal((await app.rest(u.otherPartnerSales, 'GET', `/v1/customers/${theirs.id}`)).status, 200, 'its own receiver reads it');
  t.equal(await handoffsOf(theirs.id), 1);
});

t.test('handoff: the full flow through GraphQL', async (t) => {
  const lead = await pooledLead(app, u.marketer, w.pool);
  const made = await app.gql(u.marketer, HAND_OFF, { id: lead.id, input: { toUserId: u.seller.id, dueAt: inHours(10) } });
  t.same(made.errors, undefined);
  const id = made.data.handOffCustomer.id as string;
  t.match(made.data.handOffCustomer, { customerId: lead.id, toUserId: u.seller.id, toUnitId: w.branch.id, status: 'PENDING' });
  const inbox = await app.gql(u.seller, '{ handoffs(filter: { status: PENDING }, first: 50) { edges { node { id customerId } cursor } pageInfo { hasNextPage } } }');
  t.ok(inbox.data.handoffs.edges.some((e: { node: { id: string } }) => e.node.id === id), 'the inbox');
  const sent = await app.gql(u.marketer, '{ handoffs(filter: { box: SENT }) { edges { node { id } } } }');
  t.ok(sent.data.handoffs.edges.some((e: { node: { id: string } }) => e.node.id === id), 'the sent box');
  const read = await app.gql(u.seller, 'query($id: ID!) { customer(id: $id) { id name handoffs { id status } } }', { id: lead.id });
  t.same(read.data.customer.handoffs, [{ id, status: 'PENDING' }], 'the receiver reads the customer and its handoffs');
  t.same((await app.gql(u.seller, 'mutation($id: ID!) { rejectHandoff(id: $id, reason: "") { id } }', { id })).codes, ['BAD_USER_INPUT'], 'a reason is required');
  const acc = await app.gql(u.seller, 'mutation($id: ID!) { acceptHandoff(id: $id) { id status decidedBy } }', { id });
  t.same(acc.data.acceptHandoff, { id, status: 'ACCEPTED', decidedBy: u.seller.id });
  const after = await app.gql(u.seller, 'query($id: ID!) { customer(id: $id) { lifecycleStage ownerUserId lifecycleTransitions { from to cause } } }', { id: lead.id });
  t.match(after.data.customer, { lifecycleStage: 'OPPORTUNITY', ownerUserId: u.seller.id, lifecycleTransitions: [{ from: 'PROSPECT', to: 'OPPORTUNITY', cause: 'HANDOFF' }] });

  const lead2 = await pooledLead(app, u.marketer, w.pool);
  const m2 = await app.gql(u.marketer, HAND_OFF, { id: lead2.id, input: { toUnitId: w.branch.id, dueAt: inHours(10) } });
  const rej = await app.gql(u.seller2, 'mutation($id: ID!) { rejectHandoff(id: $id, reason: "not ours") { status reason } }', { id: m2.data.handOffCustomer.id });
  t.same(rej.data.rejectHandoff, { status: 'REJECTED', reason: 'not ours' });
  t.same((await app.gql(u.seller2, 'query($id: ID!) { customer(id: $id) { id } }', { id: lead2.id })).codes, ['NOT_FOUND'], 'after rejecting, the customer is gone for the receiver');
});

t.test('handoff: a marketing department hands a lead to a branch outside its own subtree, and to a partner', async (t) => {
  // Marketing sits in a department of its own; the sales branch and the partner are elsewhere in the tree.
  const hq = await app.root();
  const marketingDept = await app.unit('DEPARTMENT', hq);
  const marketer = await app.user(marketingDept, ['marketing']);
  const region = await app.unit('REGION', hq);
  const branch = await app.unit('BRANCH', region);
  const seller = await app.user(branch, ['sales']);
  const partner = await app.unit('PARTNER', region);
  const lead = await pooledLead(app, marketer, marketingDept);
  const toSeller = await app.rest(marketer, 'POST', `/v1/customers/${lead.id}/handoffs`, { toUserId: seller.id, dueAt: inHours(48) });
  t.equal(toSeller.status, 201, toSeller.raw);
  t.equal(toSeller.body.toUnitId, branch.id);
  t.equal((await app.rest(seller, 'GET', `/v1/customers/${lead.id}`)).status, 200, 'the receiver reads the lead while it is pending');
  const rejected = await app.rest(seller, 'POST', `/v1/handoffs/${toSeller.body.id}/reject`, { reason: 'Outside our region' });
  t.equal(rejected.status, 200, rejected.raw);
  const g = await app.gql(marketer, HAND_OFF, { id: lead.id, input: { toUnitId: partner.id, dueAt: inHours(48) } });
  t.same(g.errors, undefined, 'allocation to a partner unit through the other door');
  t.equal(g.data.handOffCustomer.toUnitId, partner.id);
  // A partner's users stay inside their partner: the company's branch does not exist for them.
  const partnerLead = await app.customer(u.partnerManager, { ownerUnitId: w.partner.id, lifecycleStage: 'PROSPECT' });
  const out = await app.rest(u.partnerManager, 'POST', `/v1/customers/${partnerLead.id}/handoffs`, { toUserId: seller.id, dueAt: inHours(48) });
  t.equal(out.status, 400);
  t.equal(out.body.errors?.[0]?.path, 'toUserId');
  t.equal(await handoffsOf(partnerLead.id), 0);
});
