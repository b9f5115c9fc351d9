/**
 * The story of the issue: a salesperson qualifies an opportunity, is stopped by a gate with the list
 * of what is missing, records the facts, moves on to NEGOTIATION, and loses another deal to a competitor.
 */
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action } from '../../helpers/factories.js';
import { eventsFor, findRow } from '../../helpers/records.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const anna = c.users.sales;

t.test('qualify, get stopped, record the facts, negotiate; lose another one to a competitor', async (t) => {
  const customer = await app.customer(anna, { lifecycleStage: 'PROSPECT', name: `Hanse Bakeries ${Date.now()}` });
  const created = await app.rest(anna, 'POST', '/v1/opportunities', { customerId: customer.id, name: 'Ovens for three shops', amount: '84000.00', currency: 'EUR', expectedCloseDate: '2031-03-31' });
  t.equal(created.status, 201);
  const opp = created.body;
  t.equal(opp.stageKey, 'QUALIFICATION');
  t.equal((await findRow(app, 'customers', customer.id))?.lifecycle_stage, 'OPPORTUNITY', 'the prospect is now an opportunity');

  const early = await app.rest(anna, 'POST', `/v1/opportunities/${opp.id}/transitions`, { toStageKey: 'ACCEPTANCE' });
  t.equal(early.status, 422, 'stopped at the gate');
  t.same(early.body.unmet.map((u: { criterion: string }) => u.criterion), ['needDefined', 'decisionMakerKnown', 'purchaseMotive', 'paymentCapability', 'judgement'], 'with every missing criterion by name');

  const facts = await app.rest(anna, 'PATCH', `/v1/opportunities/${opp.id}`, { qualification: { needDefined: true, decisionMakerKnown: true } });
  t.equal(facts.status, 200);
  const accepted = await app.rest(anna, 'POST', `/v1/opportunities/${opp.id}/transitions`, { toStageKey: 'ACCEPTANCE' });
  t.equal(accepted.status, 201, 'ACCEPTANCE once the need and the decision maker are known');

  const tooSoon = await app.rest(anna, 'POST', `/v1/opportunities/${opp.id}/transitions`, { toStageKey: 'NEGOTIATION' });
  t.equal(tooSoon.status, 422);
  t.same(tooSoon.body.unmet.map((u: { criterion: string }) => u.criterion), ['budgetKnown', 'timingKnown', 'action:SOLUTION_ACCEPTED']);
  await app.rest(anna, 'PATCH', `/v1/opportunities/${opp.id}`, { qualification: { budgetKnown: true, timingKnown: true } });
  await action(app, anna, { opportunityId: opp.id }, { title: 'Solution accepted by the customer', key: 'SOLUTION_ACCEPTED', status: 'DONE' });
  const negotiating = await app.rest(anna, 'POST', `/v1/opportunities/${opp.id}/transitions`, { toStageKey: 'NEGOTIATION' });
  t.equal(negotiating.status, 201, 'NEGOTIATION');
  t.equal((await app.rest(anna, 'GET', `/v1/opportunities/${opp.id}`)).body.stageKey, 'NEGOTIATION');
  const history = await app.rest(anna, 'GET', `/v1/opportunities/${opp.id}/transitions`);
  t.same(history.body.data.map((h: { toStageId: string }) => h.toStageId), [accepted.body.toStageId, negotiating.body.toStageId]);

  // Another deal of the same customer goes to a competitor.
  const other = await app.rest(anna, 'POST', '/v1/opportunities', { customerId: customer.id, name: 'Service contract' });
  const lost = await app.rest(anna, 'POST', `/v1/opportunities/${other.body.id}/transitions`, { toStageKey: 'LOST', lostReason: 'Cheaper offer', competitor: 'Ovenmaster GmbH' });
  t.equal(lost.status, 201);
  t.match(lost.body, { lostReason: 'Cheaper offer', competitor: 'Ovenmaster GmbH' });
  const after = await app.rest(anna, 'GET', `/v1/opportunities/${other.body.id}`);
  t.match(after.body, { status: 'LOST', lostReason: 'Cheaper offer', competitor: 'Ovenmaster GmbH' });
  t.ok(after.body.closedAt);
  t.ok((await eventsFor(app, other.body.id)).some((e) => e.type === 'opportunity.lost'));
  const lostList = await app.rest(anna, 'GET', `/v1/opportunities?customerId=${customer.id}&status=LOST`);
  t.same(lostList.body.data.map((o: { id: string }) => o.id), [other.body.id]);
});
