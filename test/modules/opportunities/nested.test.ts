// An opportunity's contact history and advancement plan through GraphQL: batched, and visible by the same rule.
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { opportunity } from '../../helpers/factories.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const co = await company(app);
const seller = co.users.partnerASales;
const stranger = co.users.partnerBSales;

async function withHistory(n: number) {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await app.customer(seller);
    const opp = await opportunity(app, seller, c.id);
    for (const subject of ['First call', 'Follow-up']) {
      const r = await app.rest(seller, 'POST', `/v1/customers/${c.id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND', subject, opportunityId: opp.id });
      t.equal(r.status, 201, r.raw);
    }
    const a = await app.rest(seller, 'POST', `/v1/opportunities/${opp.id}/actions`, { title: 'Send the quote', value: 4, urgency: 3 });
    t.equal(a.status, 201, a.raw);
    out.push(opp.id);
  }
  return out;
}

const QUERY = `query($first: Int) { opportunities(first: $first, filter: { ownerUserId: "${seller.id}" }) { edges { node { id
  interactions(first: 5) { edges { node { id subject opportunityId } } }
  actions(first: 5) { edges { node { id title opportunityId } } } } } } }`;

t.test('each opportunity lists its own interactions and actions', async (t) => {
  const ids = await withHistory(2);
  const r = await app.gql(seller, QUERY, { first: 50 });
  t.same(r.errors, undefined);
  const nodes = r.data.opportunities.edges.map((e: any) => e.node).filter((n: any) => ids.includes(n.id));
  t.equal(nodes.length, 2);
  for (const n of nodes) {
    t.same(n.interactions.edges.map((e: any) => e.node.subject).sort(), ['First call', 'Follow-up']);
    t.ok(n.interactions.edges.every((e: any) => e.node.opportunityId === n.id));
    t.same(n.actions.edges.map((e: any) => [e.node.title, e.node.opportunityId]), [['Send the quote', n.id]]);
  }
});

t.test('the statement count does not grow with the number of opportunities', async (t) => {
  const few = await app.countStatements(() => app.gql(seller, QUERY, { first: 2 }));
  await withHistory(3);
  const many = await app.countStatements(() => app.gql(seller, QUERY, { first: 50 }));
  t.ok(many.result.data.opportunities.edges.length >= 5);
  t.equal(many.statements, few.statements, `${few.statements} statements for 2, ${many.statements} for ${many.result.data.opportunities.edges.length}`);
});

t.test("another partner's opportunity does not exist for the caller, nor do its nested lists", async (t) => {
  const [id] = await withHistory(1);
  const r = await app.gql(stranger, `query($id: ID!) { opportunity(id: $id) { id interactions { edges { node { id } } } actions { edges { node { id } } } } }`, { id });
  t.same(r.codes, ['NOT_FOUND']);
  t.equal(r.data?.opportunity ?? null, null);
});
