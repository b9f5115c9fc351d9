import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { opportunity, tag } from '../../helpers/factories.js';
import { gqlPaths } from '../../helpers/problems.js';
import { eventsFor } from '../../helpers/records.js';
import { lifecycleOf, ORDER_FIELDS, order } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const { integration, sales, partnerASales, partnerBSales, branchManager } = c.users;

const CREATE = `mutation($i: CreateOrderInput!) { createOrder(input: $i) { ${ORDER_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $i: UpdateOrderInput!, $v: Int) { updateOrder(id: $id, input: $i, expectedVersion: $v) { ${ORDER_FIELDS} } }`;

t.test('createOrder and order(id): the same rules and answers as REST', async (t) => {
  const cust = await app.customer(sales);
  const opp = await opportunity(app, sales, cust.id);
  const r = await app.gql(integration, CREATE, {
    i: { customerId: cust.id, opportunityId: opp.id, currency: 'USD', status: 'PAID', lines: [{ product: 'Pump', productLine: 'pumps', quantity: '1.5', unitPrice: '99.99' }] },
  });
  t.same(r.errors, undefined, JSON.stringify(r.errors));
  const o = r.data.createOrder;
  t.match(o, { customerId: cust.id, opportunityId: opp.id, status: 'PAID', amount: '149.99', currency: 'USD', ownerUserId: sales.id, version: 1 });
  t.same(o.lines, [{ product: 'Pump', productLine: 'pumps', quantity: '1.5', unitPrice: '99.99', amount: '149.99' }]);
  const rest = await app.rest(sales, 'GET', `/v1/orders/${o.id}`);
  const g = await app.gql(sales, `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} customer { id name } opportunity { id } } }`, { id: o.id });
  const { customer, opportunity: oppField, ...plain } = g.data.order;
  t.same(plain, { ...rest.body }, 'GraphQL answers what REST answers');
  t.same([customer.id, oppField.id], [cust.id, opp.id], 'relations followed');
  t.same((await lifecycleOf(app, cust.id)).map((x) => x[1]), ['OPPORTUNITY', 'CUSTOMER'], 'cause ORDER after the opportunity');
  t.same((await lifecycleOf(app, cust.id))[1], ['OPPORTUNITY', 'CUSTOMER', 'ORDER']);
});

t.test('updateOrder: forward only, expectedVersion, bad input naming the field', async (t) => {
  const cust = await app.customer(sales);
  const o = await order(app, integration, cust.id);
  const stale = await app.gql(integration, UPDATE, { id: o.id, i: { status: 'SHIPPED' }, v: 5 });
  t.same(stale.codes, ['PRECONDITION_FAILED']);
  const ok = await app.gql(integration, UPDATE, { id: o.id, i: { status: 'CONFIRMED' }, v: 1 });
  t.same(ok.errors, undefined, JSON.stringify(ok.errors));
  t.match(ok.data.updateOrder, { status: 'CONFIRMED', version: 2 });
  t.same((await lifecycleOf(app, cust.id)).map((x) => x[1]), ['CUSTOMER', 'USER']);
  const back = await app.gql(integration, UPDATE, { id: o.id, i: { status: 'PAID' } });
  t.same(back.codes, ['CONFLICT']);
  t.equal(back.errors?.[0]?.extensions?.reason, 'ORDER_STATUS_BACKWARD');
  const bad = await app.gql(integration, UPDATE, { id: o.id, i: { amount: '1.234' } });
  t.same(bad.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(bad), ['input.amount']);
  const badCreate = await app.gql(integration, CREATE, { i: { customerId: cust.id, currency: 'euro' } });
  t.same(gqlPaths(badCreate), ['input.currency']);
  const noCustomer = await app.gql(integration, CREATE, { i: { currency: 'EUR' } });
  t.same(gqlPaths(noCustomer), ['input.customerId']);
  t.same((await eventsFor(app, o.id)).map((e) => e.type), ['order.created', 'order.updated', 'order.status_changed']);
});

t.test("another partner's order: not found, null as a relation, never listed", async (t) => {
  const custA = await app.customer(partnerASales);
  const oA = await order(app, integration, custA.id);
  const asB = await app.gql(partnerBSales, `query($id: ID!) { order(id: $id) { id } }`, { id: oA.id });
  t.same(asB.codes, ['NOT_FOUND']);
  const upd = await app.gql(c.users.partnerBManager, UPDATE, { id: oA.id, i: { number: 'x' } });
  t.same(upd.codes, ['NOT_FOUND']);
  const list = await app.gql(partnerBSales, `query($f: OrderFilter) { orders(filter: $f) { edges { node { id } } totalCount } }`, { f: { customerId: custA.id } });
  t.same([list.data.orders.edges, list.data.orders.totalCount], [[], 0]);
  const mine = await app.gql(partnerASales, `query($f: OrderFilter) { orders(filter: $f) { edges { node { id externalIds } } totalCount } }`, { f: { customerId: custA.id } });
  t.same(mine.data.orders.edges, [{ node: { id: oA.id, externalIds: null } }], 'partners do not see the system ids');
  t.equal(mine.data.orders.totalCount, 1);
  // The sales user sees the order but not the partner's customer behind a share-less relation: nothing to see at all.
  t.same((await app.gql(sales, `query($id: ID!) { order(id: $id) { id } }`, { id: oA.id })).codes, ['NOT_FOUND']);
  // Writing is not a salesperson's: FORBIDDEN on its own customer.
  const own = await app.customer(sales);
  const refused = await app.gql(sales, CREATE, { i: { customerId: own.id, currency: 'EUR' } });
  t.same(refused.codes, ['FORBIDDEN']);
});

t.test('Customer.orders is batched; upsertOrder and orderByExternalId', async (t) => {
  const custs = [await app.customer(sales), await app.customer(sales), await app.customer(sales)];
  for (const cu of custs) for (let i = 0; i < 2; i++) await order(app, integration, cu.id);
  const q = `query($f: CustomerFilter, $n: Int) { customers(filter: $f, first: $n) { edges { node { id orders(first: 5) { edges { node { id customerId lines { amount } customer { id } } } totalCount } } } } }`;
  const once = await app.countStatements(() => app.gql(branchManager, q, { f: { ownerUserId: sales.id }, n: 20 }));
  const single = await app.countStatements(() => app.gql(branchManager, q, { f: { ownerUserId: sales.id }, n: 1 }));
  t.equal(once.statements, single.statements, `statements do not grow with the rows (${once.statements})`);
  t.same(once.result.errors, undefined, JSON.stringify(once.result.errors));
  const nodes = once.result.data.customers.edges.map((e: any) => e.node).filter((n: any) => custs.some((cu) => cu.id === n.id));
  t.equal(nodes.length, 3);
  for (const n of nodes) t.equal(n.orders.edges.length, 2);
  const ext = `SO-${tag()}`;
  const up = `mutation($s: String!, $e: String!, $i: UpsertOrderInput!) { upsertOrder(system: $s, externalId: $e, input: $i) { created order { id status externalIds version } } }`;
  const first = await app.gql(integration, up, { s: 'erp', e: ext, i: { customerId: custs[0]?.id, currency: 'EUR' } });
  t.same(first.errors, undefined, JSON.stringify(first.errors));
  t.match(first.data.upsertOrder, { created: true, order: { status: 'ORDERED', externalIds: { erp: ext }, version: 1 } });
  const second = await app.gql(integration, up, { s: 'erp', e: ext, i: { status: 'PAID' } });
  t.match(second.data.upsertOrder, { created: false, order: { status: 'PAID', version: 2 } });
  const read = await app.gql(sales, `query($s: String!, $e: String!) { orderByExternalId(system: $s, externalId: $e) { id } }`, { s: 'erp', e: ext });
  t.equal(read.data.orderByExternalId.id, first.data.upsertOrder.order.id);
  const badSystem = await app.gql(integration, up, { s: 'ERP', e: ext, i: {} });
  t.same(gqlPaths(badSystem), ['system']);
  const asB = await app.gql(partnerBSales, `query($s: String!, $e: String!) { orderByExternalId(system: $s, externalId: $e) { id } }`, { s: 'erp', e: ext });
  t.same(asB.codes, ['NOT_FOUND']);
});
