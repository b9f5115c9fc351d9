import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, defaultPipeline, opportunity, stageOf, tag } from '../../helpers/factories.js';
import { errorPaths } from '../../helpers/problems.js';
import { findRow } from '../../helpers/records.js';
import { opportunitiesNamed, OPPORTUNITY_FIELDS, TRANSITION_FIELDS } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const { sales, sales2, branchManager, partnerBSales, executive } = c.users;
const pl = await defaultPipeline(app, sales);

const CREATE = `mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { ${OPPORTUNITY_FIELDS} stage { key probability } } }`;
const UPDATE = `mutation($id: ID!, $i: UpdateOpportunityInput!, $v: Int) { updateOpportunity(id: $id, input: $i, expectedVersion: $v) { ${OPPORTUNITY_FIELDS} } }`;
const MOVE = `mutation($id: ID!, $i: StageTransitionInput!, $v: Int) { transitionOpportunity(id: $id, input: $i, expectedVersion: $v) { ${TRANSITION_FIELDS} } }`;

t.test('createOpportunity, opportunity, updateOpportunity: same rules as REST', async (t) => {
  const cust = await app.customer(sales);
  const r = await app.gql(sales, CREATE, { i: { customerId: cust.id, name: 'Graph deal', amount: '10.5', currency: 'CHF', qualification: { needDefined: true, paymentCapability: 'HIGH' } } });
  t.same(r.errors, undefined);
  const o = r.data.createOpportunity;
  t.match(o, { stageKey: 'QUALIFICATION', amount: '10.50', currency: 'CHF', status: 'OPEN', ownerUserId: sales.id, stage: { key: 'QUALIFICATION', probability: 10 } });
  t.equal((await findRow(app, 'customers', cust.id))?.lifecycle_stage, 'OPPORTUNITY');

  const read = await app.gql(sales, `query($id: ID!) { opportunity(id: $id) { ${OPPORTUNITY_FIELDS} } }`, { id: o.id });
  t.same(read.data.opportunity.qualification, { needDefined: true, decisionMakerKnown: null, budgetKnown: null, timingKnown: null, purchaseMotive: null, paymentCapability: 'HIGH', judgement: null });

  const up = await app.gql(sales, UPDATE, { id: o.id, i: { qualification: { budgetKnown: true, paymentCapability: null } }, v: 1 });
  t.same(up.errors, undefined);
  t.match(up.data.updateOpportunity.qualification, { needDefined: true, budgetKnown: true, paymentCapability: null });
  const stale = await app.gql(sales, UPDATE, { id: o.id, i: { name: 'late' }, v: 1 });
  t.same(stale.codes, ['PRECONDITION_FAILED']);
  const stage = await app.gql(sales, UPDATE, { id: o.id, i: { stageId: stageOf(pl, 'WON').id } });
  t.same(stage.codes, ['BAD_USER_INPUT']);
  t.same(errorPaths(stage.errors?.[0]?.extensions?.errors), ['input.stageId']);
  t.same((await app.gql(executive, UPDATE, { id: o.id, i: { name: 'x' } })).codes, ['FORBIDDEN']);
  t.same((await app.gql(sales2, `query($id: ID!) { opportunity(id: $id) { id } }`, { id: o.id })).codes, ['NOT_FOUND']);
});

t.test('bad input through GraphQL: BAD_USER_INPUT naming the field, nothing written', async (t) => {
  const cust = await app.customer(sales);
  const other = await app.customer(partnerBSales);
  for (const [label, extra, path] of [
    ['3 decimals', { amount: '12.345', currency: 'EUR' }, 'input.amount'],
    ['negative', { amount: '-5', currency: 'EUR' }, 'input.amount'],
    ['exponent', { amount: '1e3', currency: 'EUR' }, 'input.amount'],
    ['lower-case currency', { amount: '1', currency: 'eur' }, 'input.currency'],
    ['no currency', { amount: '1' }, 'currency'],
    ['invisible customer', { customerId: other.id }, 'customerId'],
  ] as const) {
    const name = `g-bad-${tag()}`;
    const r = await app.gql(sales, CREATE, { i: { customerId: cust.id, name, ...extra } });
    t.same(r.codes, ['BAD_USER_INPUT'], label);
    t.ok(errorPaths(r.errors?.[0]?.extensions?.errors).includes(path), `${label}: ${JSON.stringify(r.errors?.[0]?.extensions?.errors)}`);
    t.equal(await opportunitiesNamed(app, name), 0);
  }
  const asNumber = await app.gql(sales, CREATE, { i: { customerId: cust.id, name: 'n', amount: 12.5, currency: 'EUR' } });
  t.same(asNumber.codes, ['BAD_USER_INPUT'], 'an amount as a number is refused by the schema (String)');
});

t.test('transitionOpportunity: gates answer with the unmet list in extensions', async (t) => {
  const cust = await app.customer(sales);
  const o = await opportunity(app, sales, cust.id, { qualification: { budgetKnown: true } });
  const gated = await app.gql(sales, MOVE, { id: o.id, i: { toStageKey: 'NEGOTIATION' } });
  t.same(gated.codes, ['BAD_USER_INPUT']);
  t.equal(gated.errors?.[0]?.extensions?.status, 422);
  t.same(gated.errors?.[0]?.extensions?.unmet.map((u: { criterion: string }) => u.criterion), [
    'needDefined',
    'decisionMakerKnown',
    'purchaseMotive',
    'paymentCapability',
    'judgement',
    'timingKnown',
    'action:SOLUTION_ACCEPTED',
  ]);
  const rest = await app.rest(sales, 'POST', `/v1/opportunities/${o.id}/transitions`, { toStageKey: 'NEGOTIATION' });
  t.same(rest.body.unmet, gated.errors?.[0]?.extensions?.unmet, 'the same list through both doors');

  await app.gql(sales, UPDATE, { id: o.id, i: { qualification: { judgement: 'Long-standing buyer', timingKnown: true } } });
  await action(app, sales, { opportunityId: o.id }, { title: 'Solution accepted by the customer', key: 'SOLUTION_ACCEPTED', status: 'DONE' });
  const moved = await app.gql(sales, MOVE, { id: o.id, i: { toStageId: stageOf(pl, 'NEGOTIATION').id }, v: 2 });
  t.same(moved.errors, undefined);
  t.match(moved.data.transitionOpportunity, { opportunityId: o.id, fromStageId: stageOf(pl, 'QUALIFICATION').id, toStageId: stageOf(pl, 'NEGOTIATION').id, actorId: sales.id });
  t.same((await app.gql(sales, MOVE, { id: o.id, i: { toStageKey: 'NEGOTIATION' } })).codes, ['CONFLICT'], 'the same move again: conflict');
  const lost = await app.gql(sales, MOVE, { id: o.id, i: { toStageKey: 'LOST' } });
  t.same(errorPaths(lost.errors?.[0]?.extensions?.errors), ['lostReason']);
  t.same((await app.gql(partnerBSales, MOVE, { id: o.id, i: { toStageKey: 'LOST', lostReason: 'x' } })).codes, ['NOT_FOUND']);
  t.equal((await findRow(app, 'opportunities', o.id))?.stage_id, stageOf(pl, 'NEGOTIATION').id);
});

t.test('lists and nested fields are batched', async (t) => {
  const owner = await app.user(c.branch, ['sales']);
  const customers = [];
  for (let i = 0; i < 6; i++) customers.push(await app.customer(owner));
  for (const cu of customers) {
    const o = await opportunity(app, owner, cu.id);
    await app.rest(owner, 'POST', `/v1/opportunities/${o.id}/transitions`, { toStageKey: 'LOST', lostReason: 'timing' });
    await opportunity(app, owner, cu.id);
  }
  const q = `query($f: OpportunityFilter, $n: Int) { opportunities(filter: $f, first: $n) { edges { cursor node { id stageKey stage { key } customer { id name } transitions { toStageId } } } pageInfo { hasNextPage endCursor } } }`;
  const small = await app.countStatements(() => app.gql(owner, q, { f: { ownerUserId: owner.id }, n: 2 }));
  const big = await app.countStatements(() => app.gql(owner, q, { f: { ownerUserId: owner.id }, n: 12 }));
  t.same(big.result.errors, undefined);
  t.equal(big.result.data.opportunities.edges.length, 12);
  t.ok(big.result.data.opportunities.edges.every((e: { node: { customer: unknown; stage: { key: string }; stageKey: string } }) => e.node.customer && e.node.stage.key === e.node.stageKey));
  t.equal(big.statements, small.statements, `statements do not grow with the page (${small.statements} vs ${big.statements})`);
  t.equal(small.result.data.opportunities.pageInfo.hasNextPage, true);
  const page2 = await app.gql(owner, q, { f: { ownerUserId: owner.id }, n: 2 });
  t.same(page2.data.opportunities.edges.map((e: { node: { id: string } }) => e.node.id), small.result.data.opportunities.edges.map((e: { node: { id: string } }) => e.node.id));

  const cq = `query($n: Int, $f: CustomerFilter) { customers(first: $n, filter: $f) { edges { node { id opportunities(first: 1) { edges { node { id status } } pageInfo { hasNextPage } } } } } }`;
  const c2 = await app.countStatements(() => app.gql(owner, cq, { n: 2, f: { ownerUserId: owner.id } }));
  const c6 = await app.countStatements(() => app.gql(owner, cq, { n: 6, f: { ownerUserId: owner.id } }));
  t.same(c6.result.errors, undefined);
  t.equal(c6.statements, c2.statements, 'Customer.opportunities is batched');
  for (const e of c6.result.data.customers.edges) {
    t.equal(e.node.opportunities.edges.length, 1);
    t.equal(e.node.opportunities.pageInfo.hasNextPage, true);
    t.equal(e.node.opportunities.edges[0].node.status, 'OPEN', 'newest first');
  }
  const invisible = await app.gql(partnerBSales, `query($f: OpportunityFilter) { opportunities(filter: $f) { edges { node { id } } } }`, { f: { ownerUserId: owner.id } });
  t.same(invisible.data.opportunities.edges, [], "another partner's opportunities are absent");
  const badFilter = await app.gql(owner, `query { opportunities(filter: { amountMin: "1e3" }) { edges { node { id } } } }`);
  t.same(errorPaths(badFilter.errors?.[0]?.extensions?.errors), ['filter.amountMin']);
  t.same((await app.gql(branchManager, `query($f: OpportunityFilter) { opportunities(filter: $f) { edges { node { id } } } }`, { f: { ownerUserId: owner.id } })).data.opportunities.edges.length, 12, 'the manager sees them all');
});
