import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, delegation, opportunity, testPipeline } from '../../helpers/factories.js';
import { auditFor } from '../../helpers/records.js';
import { actionCount } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const co = await company(app);
const u = co.users;
const pipeline = await testPipeline(app);

const CREATE = 'mutation($input: CreateActionInput!) { createAction(input: $input) { id customerId opportunityId title value urgency status kind assigneeId priority key stageKey opportunityName customerName version } }';
const UPDATE = 'mutation($id: ID!, $input: UpdateActionInput!, $v: Int) { updateAction(id: $id, input: $input, expectedVersion: $v) { id status completedAt version title } }';

t.test('createAction on a customer or an opportunity; action(id); the REST door sees the same', async (t) => {
  const c = await app.customer(u.sales);
  const o = await opportunity(app, u.sales, c.id, { pipelineId: pipeline.id, stage: 'ACCEPTANCE' });
  const onCustomer = await app.gql(u.sales, CREATE, { input: { customerId: c.id, title: 'Call', value: 4, urgency: 4 } });
  t.same(onCustomer.errors, undefined);
  t.match(onCustomer.data.createAction, { customerId: c.id, opportunityId: null, value: 4, urgency: 4, status: 'OPEN', kind: 'PLANNED', assigneeId: u.sales.id, priority: 16, customerName: c.name });
  const onDeal = await app.gql(u.sales, CREATE, { input: { opportunityId: o.id, title: 'Demo', key: 'SOLUTION_ACCEPTED' } });
  t.match(onDeal.data.createAction, { customerId: c.id, opportunityId: o.id, key: 'SOLUTION_ACCEPTED', stageKey: 'ACCEPTANCE', opportunityName: o.name });
  const viaRest = await app.rest(u.sales, 'GET', `/v1/actions/${onDeal.data.createAction.id}`);
  t.equal(viaRest.body.title, 'Demo');
  const read = await app.gql(u.sales, 'query($id: ID!) { action(id: $id) { id title } }', { id: onCustomer.data.createAction.id });
  t.equal(read.data.action.title, 'Call');
  t.same((await auditFor(app, onDeal.data.createAction.id)).map((a) => a.action), ['created']);
});

t.test('updateAction: expectedVersion, DONE, 403 and 404', async (t) => {
  const c = await app.customer(u.sales);
  const a = (await app.rest(u.sales, 'POST', `/v1/customers/${c.id}/actions`, { title: 'Quote' })).body;
  const stale = await app.gql(u.sales, UPDATE, { id: a.id, input: { title: 'y' }, v: 5 });
  t.same(stale.codes, ['PRECONDITION_FAILED']);
  const done = await app.gql(u.sales, UPDATE, { id: a.id, input: { status: 'DONE' }, v: 1 });
  t.match(done.data.updateAction, { status: 'DONE', version: 2 });
  t.ok(done.data.updateAction.completedAt);
  t.same((await app.gql(u.executive, UPDATE, { id: a.id, input: { title: 'z' } })).codes, ['FORBIDDEN']);
  t.same((await app.gql(u.partnerBSales, UPDATE, { id: a.id, input: { title: 'z' } })).codes, ['NOT_FOUND']);
  t.same((await app.gql(u.partnerBSales, 'query($id: ID!) { action(id: $id) { id } }', { id: a.id })).codes, ['NOT_FOUND']);
});

t.test('bad input: BAD_USER_INPUT naming the field, nothing written', async (t) => {
  const c = await app.customer(u.sales);
  const o = await opportunity(app, u.sales, c.id, { pipelineId: pipeline.id });
  const cases: [Record<string, unknown>, string][] = [
    [{ title: 'x' }, 'input.customerId'],
    [{ title: 'x', customerId: c.id, opportunityId: o.id }, 'input.opportunityId'],
    [{ title: 'x', customerId: c.id, value: 9 }, 'input.value'],
    [{ title: 'x', customerId: c.id, urgency: 0 }, 'input.urgency'],
    [{ title: 'x', customerId: c.id, dueAt: 'soon' }, 'input.dueAt'],
    [{ title: 'x', customerId: c.id, key: 'not-a-key' }, 'input.key'],
    [{ title: 'x', customerId: c.id, assigneeId: u.partnerBSales.id }, 'assigneeId'],
  ];
  for (const [input, path] of cases) {
    const r = await app.gql(u.sales, CREATE, { input });
    t.same(r.codes, ['BAD_USER_INPUT'], JSON.stringify(input));
    t.ok(r.errors?.[0]?.extensions?.errors?.some((e: { path: string }) => e.path === path), `${JSON.stringify(input)} names ${path}: ${JSON.stringify(r.errors)}`);
  }
  t.equal(await actionCount(app, { customerId: c.id }), 0, 'nothing written');
  const a = await action(app, u.sales, { customerId: c.id });
  const bad = await app.gql(u.sales, UPDATE, { id: a.id, input: { value: 6 } });
  t.same(bad.codes, ['BAD_USER_INPUT']);
  t.ok(bad.errors?.[0]?.extensions?.errors?.some((e: { path: string }) => e.path === 'input.value'));
  t.same((await app.gql(u.sales, UPDATE, { id: a.id, input: { status: 'LATER' } })).codes, ['BAD_USER_INPUT'], 'unknown enum value');
});

t.test("another partner's customer and opportunity: NOT_FOUND", async (t) => {
  const theirs = await app.customer(u.partnerBSales);
  const deal = await opportunity(app, u.partnerBSales, theirs.id, { pipelineId: pipeline.id });
  t.same((await app.gql(u.partnerASales, CREATE, { input: { customerId: theirs.id, title: 'x' } })).codes, ['NOT_FOUND']);
  t.same((await app.gql(u.partnerASales, CREATE, { input: { opportunityId: deal.id, title: 'x' } })).codes, ['NOT_FOUND']);
  t.equal(await actionCount(app, { customerId: theirs.id }), 0);
});

t.test('delegation through GraphQL: on behalf of the delegator', async (t) => {
  const delegator = await app.user(co.branch, ['sales']);
  const d = await app.user(co.branch, ['sales']);
  const c = await app.customer(delegator);
  await delegation(app, delegator, d);
  const r = await app.gql(d, CREATE, { input: { customerId: c.id, title: 'For them', assigneeId: delegator.id } });
  t.equal(r.data.createAction.assigneeId, delegator.id);
  t.same((await auditFor(app, r.data.createAction.id)).map((a) => [a.actor_id, a.on_behalf_of_id]), [[d.id, delegator.id]]);
});

t.test('Customer.actions: batched (statements do not grow with customers), visible actions only, paged', async (t) => {
  const owner = await app.user(co.branch, ['sales']);
  const customers = [];
  for (let i = 0; i < 6; i++) customers.push(await app.customer(owner, { name: `Batch ${i} ${owner.id.slice(0, 6)}` }));
  for (const [i, c] of customers.entries()) for (let k = 0; k <= i % 3; k++) await action(app, owner, { customerId: c.id });
  const q = 'query($f: CustomerFilter, $n: Int) { customers(filter: $f, first: $n) { edges { node { id actions(first: 2) { edges { node { id customerId } } pageInfo { hasNextPage endCursor } } } } } }';
  const small = await app.countStatements(() => app.gql(owner, q, { f: { ownerUserId: owner.id }, n: 2 }));
  const large = await app.countStatements(() => app.gql(owner, q, { f: { ownerUserId: owner.id }, n: 6 }));
  t.same(large.result.errors, undefined);
  t.equal(large.statements, small.statements, `${small.statements} statements for 2 customers, ${large.statements} for 6`);
  const byId = new Map(large.result.data.customers.edges.map((e: { node: { id: string; actions: unknown } }) => [e.node.id, e.node.actions]));
  for (const [i, c] of customers.entries()) {
    const conn = byId.get(c.id) as { edges: { node: { customerId: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
    t.equal(conn.edges.length, Math.min(2, (i % 3) + 1), `customer ${i}`);
    t.equal(conn.pageInfo.hasNextPage, (i % 3) + 1 > 2);
    t.ok(conn.edges.every((e) => e.node.customerId === c.id));
  }
  const third = customers[2];
  const firstPage = byId.get(third?.id) as { pageInfo: { endCursor: string } };
  const next = await app.gql(owner, 'query($id: ID!, $after: String) { customer(id: $id) { actions(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage } } } }', { id: third?.id, after: firstPage.pageInfo.endCursor });
  t.equal(next.data.customer.actions.edges.length, 1, 'the next page');
  t.equal(next.data.customer.actions.pageInfo.hasNextPage, false);
});
