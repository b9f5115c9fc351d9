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
  interactions(first: 3) { edges { node { id actor { id } contact { id name } } } }
  opportunities(first: 3) { edges { node { id owner { id } } } }
  actions(first: 3) { edges { node { id assignee { id } customer { id } } } }
  handoffs { id customer { id } } } } } }`;

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
