// Relation fields a client follows instead of bare ids: batched per request, and null where the
// related record is outside the caller's visibility.
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, contact, handoff, interaction, opportunity } from '../../helpers/factories.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const co = await company(app);
const seller = co.users.partnerASales;
const manager = co.users.partnerAManager;

// A customer with a contact, an interaction naming it, an opportunity, an action and a handoff.
async function withRelations(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await app.customer(seller);
    const person = await contact(app, seller, c.id);
    await interaction(app, seller, c.id, { contactId: person.id, subject: 'Call' });
    // Handed off while still a lead: an opportunity makes it one no longer.
    await handoff(app, seller, c.id, { toUserId: manager.id });
    const opp = await opportunity(app, seller, c.id);
    await action(app, seller, { opportunityId: opp.id });
    ids.push(c.id);
  }
  return ids;
}

const QUERY = `query($first: Int) { customers(first: $first, filter: { ownerUserId: "${seller.id}" }) { edges { node { id
  interactions(first: 3) { edges { node { id actor { id } contact { id name } customer { id } } } }
  opportunities(first: 3) { edges { node { id owner { id } } } }
  actions(first: 3) { edges { node { id assignee { id } customer { id } } } }
  handoffs { id customer { id } fromUser { id } toUser { id } toUnit { id } } } } } }`;

t.test('the relation fields answer the related records', async (t) => {
  const [id] = await withRelations(1);
  const r = await app.gql(seller, QUERY, { first: 50 });
  t.same(r.errors, undefined);
  const node = r.data.customers.edges.map((e: any) => e.node).find((n: any) => n.id === id);
  t.ok(node);
  const i = node.interactions.edges[0].node;
  t.equal(i.actor.id, seller.id);
  t.match(i.contact, { id: String, name: /^Contact / });
  t.equal(node.opportunities.edges[0].node.owner.id, seller.id);
  t.same(node.actions.edges.map((e: any) => [e.node.assignee.id, e.node.customer.id]), [[seller.id, id]]);
  t.same(node.handoffs.map((h: any) => h.customer.id), [id]);
});

t.test('the statement count does not grow with the rows', async (t) => {
  await withRelations(2);
  const few = await app.countStatements(() => app.gql(seller, QUERY, { first: 3 }));
  t.same(few.result.errors, undefined);
  await withRelations(7);
  const many = await app.countStatements(() => app.gql(seller, QUERY, { first: 10 }));
  t.same(many.result.errors, undefined);
  t.equal(few.result.data.customers.edges.length, 3);
  t.equal(many.result.data.customers.edges.length, 10);
  t.equal(many.statements, few.statements, `${few.statements} statements for 3 customers, ${many.statements} for 10`);
});

t.test('a related record the caller cannot see resolves to null', async (t) => {
  const c = await app.customer(seller);
  // The admin's call on the partner's customer: the partner sees the call, not the admin.
  const admin = co.users.admin;
  const call = await interaction(app, admin, c.id, { subject: 'From headquarters' });
  const r = await app.gql(seller, `query($id: ID!) { interaction(id: $id) { id actorId actor { id } } }`, { id: call.id });
  t.same(r.errors, undefined);
  t.same(r.data.interaction, { id: call.id, actorId: admin.id, actor: null });
  const own = await app.gql(admin, `query($id: ID!) { interaction(id: $id) { actor { id } } }`, { id: call.id });
  t.equal(own.data.interaction.actor.id, admin.id);
});

t.test("the other relations: a contact's and an interaction's customer, a handoff's people and unit", async (t) => {
  const c = await app.customer(seller);
  const person = await contact(app, seller, c.id);
  const call = await interaction(app, seller, c.id, { contactId: person.id, subject: 'Visit' });
  const h = await handoff(app, seller, c.id, { toUserId: manager.id });
  const r = await app.gql(
    seller,
    `query($contact: ID!, $interaction: ID!, $handoff: ID!) {
      contact(id: $contact) { customer { id } }
      interaction(id: $interaction) { customer { id } contact { id } }
      handoff(id: $handoff) { fromUser { id } toUser { id } toUnit { id } customer { id } } }`,
    { contact: person.id, interaction: call.id, handoff: h.id },
  );
  t.same(r.errors, undefined);
  t.same(r.data, {
    contact: { customer: { id: c.id } },
    interaction: { customer: { id: c.id }, contact: { id: person.id } },
    handoff: { fromUser: { id: seller.id }, toUser: { id: manager.id }, toUnit: { id: manager.unitId }, customer: { id: c.id } },
  });
});

t.test('people and units outside the caller’s sight resolve to null on records it does see', async (t) => {
  // A company customer shared with partner A: the partner reads the customer, not its owner or the owner's branch.
  const owner = co.users.sales;
  const shared = await app.customer(owner);
  await app.rest(co.users.admin, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: shared.id, toUnitId: co.partnerA.id });
  const q = `query($id: ID!) { customer(id: $id) { id ownerUserId owner { id } ownerUnitId ownerUnit { id } } }`;
  const seen = await app.gql(seller, q, { id: shared.id });
  t.same(seen.errors, undefined);
  t.same(seen.data.customer, { id: shared.id, ownerUserId: owner.id, owner: null, ownerUnitId: owner.unitId, ownerUnit: null });
  const byOwner = await app.gql(owner, q, { id: shared.id });
  t.same(byOwner.data.customer.owner, { id: owner.id }, 'the owner sees itself');

  // A lead marketing hands to partner A's unit: its receiver sees the handoff and its own unit, not the sender.
  const lead = await app.customer(co.users.marketing);
  const h = await handoff(app, co.users.marketing, lead.id, { toUnitId: co.partnerA.id });
  const got = await app.gql(manager, `query($id: ID!) { handoff(id: $id) { fromUserId fromUser { id } toUnit { id } toUser { id } } }`, { id: h.id });
  t.same(got.errors, undefined);
  t.same(got.data.handoff, { fromUserId: co.users.marketing.id, fromUser: null, toUnit: { id: co.partnerA.id }, toUser: null });
  const other = await app.gql(co.users.partnerBManager, `query($id: ID!) { handoff(id: $id) { id } }`, { id: h.id });
  t.same(other.codes, ['NOT_FOUND'], "another partner's manager: the handoff itself is not found");
});

t.test("an action's and an interaction's opportunity: the deal when visible, null when not", async (t) => {
  const c = await app.customer(seller);
  const deal = await opportunity(app, seller, c.id);
  const todo = await action(app, seller, { opportunityId: deal.id });
  const call = await interaction(app, seller, c.id, { opportunityId: deal.id, subject: 'Pricing' });
  const q = `query($a: ID!, $i: ID!) { action(id: $a) { opportunity { id name } } interaction(id: $i) { opportunity { id } } }`;
  const r = await app.gql(seller, q, { a: todo.id, i: call.id });
  t.same(r.errors, undefined);
  t.same(r.data, { action: { opportunity: { id: deal.id, name: deal.name } }, interaction: { opportunity: { id: deal.id } } });

  // A company deal on a customer shared with partner A: the partner reads the call about it, never the deal.
  const owner = co.users.sales;
  const shared = await app.customer(owner);
  await app.rest(co.users.admin, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: shared.id, toUnitId: co.partnerA.id });
  const secret = await opportunity(app, owner, shared.id, { name: 'SECRET HQ deal' });
  const hqCall = await interaction(app, owner, shared.id, { opportunityId: secret.id, subject: 'Margin talk' });
  const seen = await app.gql(seller, `query($i: ID!) { interaction(id: $i) { id opportunity { id name } } }`, { i: hqCall.id });
  t.same(seen.errors, undefined);
  t.same(seen.data.interaction, { id: hqCall.id, opportunity: null }, 'the call is readable through the share, the deal behind it is not');
  t.notMatch(JSON.stringify(seen), /SECRET/, 'nothing of the deal reaches the partner');
});

t.test("a decided handoff's customer: null for a receiver who rejected it and so lost the customer", async (t) => {
  const lead = await app.customer(co.users.marketing);
  const h = await handoff(app, co.users.marketing, lead.id, { toUnitId: co.partnerA.id });
  const q = `query($id: ID!) { handoff(id: $id) { status customerId customer { id name } } }`;
  const pending = await app.gql(manager, q, { id: h.id });
  t.same(pending.errors, undefined);
  t.same(pending.data.handoff.customer, { id: lead.id, name: lead.name }, 'a pending handoff lets the receiver read the lead');
  const rejected = await app.rest(manager, 'POST', `/v1/handoffs/${h.id}/reject`, { reason: 'Not our region' });
  t.equal(rejected.status, 200);
  const after = await app.gql(manager, q, { id: h.id });
  t.same(after.errors, undefined);
  t.same(after.data.handoff, { status: 'REJECTED', customerId: lead.id, customer: null }, 'the receiver keeps the handoff, not the customer');
  t.notMatch(JSON.stringify(after), new RegExp(lead.name), 'nothing of the customer reaches the former receiver');
  const sender = await app.gql(co.users.marketing, q, { id: h.id });
  t.same(sender.data.handoff.customer, { id: lead.id, name: lead.name }, 'the sender, whose pool it is again, sees it');
});
