import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company, type TestApp, type User } from '../../helpers/app.js';
import { action, handoff, interaction, lifecycleMove, opportunity, testPipeline } from '../../helpers/factories.js';
import { errorPaths, isProblem } from '../../helpers/problems.js';
import { ownershipOf, row } from '../../helpers/records.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const pl = await testPipeline(app);

const UPDATE = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id ownerUserId ownerUnitId } }';
const MERGE = 'mutation($id: ID!, $ids: [ID!]!) { mergeCustomers(id: $id, duplicateIds: $ids) { id status } }';

/**
 * A customer's history, made through the API by `actor`: a lifecycle move, a pending handoff to
 * `unitId`, an opportunity moved on one stage, an interaction and an action on the opportunity.
 */
async function history(app: TestApp, customerId: string, actor: User, unitId: string) {
  const lifecycle = await lifecycleMove(app, actor, customerId, 'PROSPECT');
  const pending = await handoff(app, actor, customerId, { toUnitId: unitId });
  const opp = await opportunity(app, actor, customerId, { pipelineId: pl.id, stage: 'ACCEPTANCE' });
  const [st] = await queryRows<{ id: string }>(app.db, sql`SELECT id FROM stage_transitions WHERE opportunity_id = ${opp.id}::uuid`);
  if (!st) throw new Error('no stage transition');
  const touch = await interaction(app, actor, customerId);
  const act = await action(app, actor, { opportunityId: opp.id });
  return { opp: opp.id, interaction: touch.id, stageTransition: st.id, lifecycle: lifecycle.id, action: act.id, handoff: pending.id };
}

t.test('a PATCH that changes the owner writes ownership history (REST and GraphQL); other PATCHes do not', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales);
  const res = await app.rest(c.users.branchManager, 'PATCH', `/v1/customers/${cust.id}`, { ownerUserId: c.users.sales2.id });
  t.equal(res.status, 200, res.raw);
  t.match(await ownershipOf(app, cust.id), [
    { entity_type: 'customer', customer_id: cust.id, from_user_id: c.users.sales.id, from_unit_id: c.branch.id, to_user_id: c.users.sales2.id, to_unit_id: c.branch.id, cause: 'REASSIGNMENT', transfer_id: null, actor_id: c.users.branchManager.id, on_behalf_of_id: null },
  ]);
  t.equal((await app.rest(c.users.branchManager, 'PATCH', `/v1/customers/${cust.id}`, { industry: 'Tools' })).status, 200);
  t.equal((await app.rest(c.users.branchManager, 'PATCH', `/v1/customers/${cust.id}`, { ownerUserId: c.users.sales2.id })).status, 200, 'the same owner again');
  t.equal((await ownershipOf(app, cust.id)).length, 1, 'no row when the owner does not change');

  const g = await app.gql(c.users.branchManager, UPDATE, { id: cust.id, input: { ownerUserId: null, ownerUnitId: c.branch.id } });
  t.same(g.errors, undefined);
  const rows = await ownershipOf(app, cust.id);
  t.equal(rows.length, 2);
  t.match(rows[1], { from_user_id: c.users.sales2.id, to_user_id: null, to_unit_id: c.branch.id, cause: 'REASSIGNMENT' });

  const bad = await app.rest(c.users.branchManager, 'PATCH', `/v1/customers/${cust.id}`, { ownerUserId: c.users.partnerBSales.id });
  t.equal(bad.status, 400);
  t.ok(isProblem(bad.headers));
  t.same(errorPaths(bad.body.errors), ['ownerUserId']);
  t.equal((await ownershipOf(app, cust.id)).length, 2, 'a refused PATCH writes no history');
  t.equal((await app.rest(c.users.partnerAManager, 'PATCH', `/v1/customers/${cust.id}`, { ownerUserId: c.users.partnerAManager.id })).status, 404, 'another partner: 404');
  t.equal((await ownershipOf(app, cust.id)).length, 2);
});

t.test('a merge moves the duplicate’s history to the survivor and cancels its pending handoff', async (t) => {
  const c = await company(app);
  const survivor = await app.customer(c.users.sales);
  const dup = await app.customer(c.users.sales2);
  // The duplicate's earlier reassignment is part of the story too.
  t.equal((await app.rest(c.users.branchManager, 'PATCH', `/v1/customers/${dup.id}`, { ownerUserId: c.users.sales.id })).status, 200);
  const reassigned = (await ownershipOf(app, dup.id))[0];
  const h = await history(app, dup.id, c.users.sales, c.branch.id);
  const own = await history(app, survivor.id, c.users.sales, c.branch.id);
  const before = { opp: await row(app, 'opportunities', h.opp), interaction: await row(app, 'interactions', h.interaction), action: await row(app, 'actions', h.action) };

  const res = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${survivor.id}/merge`, { duplicateIds: [dup.id] });
  t.equal(res.status, 200, res.raw);

  for (const [table, id] of [['interactions', h.interaction], ['opportunities', h.opp], ['stage_transitions', h.stageTransition], ['actions', h.action], ['handoffs', h.handoff]] as const) {
    t.equal((await row(app, table, id)).customer_id, survivor.id, `${table} moved to the survivor`);
  }
  t.equal((await row(app, 'lifecycle_transitions', h.lifecycle)).customer_id, dup.id, 'lifecycle transitions stay with the duplicate');
  t.equal((await row(app, 'opportunities', h.opp)).version, before.opp.version + 1, 'opportunity version bumped');
  t.equal((await row(app, 'interactions', h.interaction)).version, before.interaction.version + 1);
  t.equal((await row(app, 'actions', h.action)).version, before.action.version + 1);
  const handoff = await row(app, 'handoffs', h.handoff);
  t.same([handoff.status, handoff.decided_by], ['CANCELLED', c.users.branchManager.id], 'the duplicate’s pending handoff is cancelled');
  t.match(handoff.reason, survivor.id);
  t.equal((await row(app, 'handoffs', own.handoff)).status, 'PENDING', 'the survivor’s own handoff stands');

  const moved = await queryRows<{ customer_id: string }>(app.db, sql`SELECT customer_id FROM ownership_changes WHERE id = ${(reassigned as unknown as { id: string }).id}::uuid`);
  t.same(moved.map((m) => m.customer_id), [survivor.id], 'earlier ownership history follows');
  const mergeRows = (await ownershipOf(app, dup.id)).filter((r) => r.cause === 'MERGE');
  t.match(mergeRows, [{ entity_type: 'customer', entity_id: dup.id, customer_id: survivor.id, from_user_id: c.users.sales.id, to_user_id: c.users.sales.id, actor_id: c.users.branchManager.id }], 'the merge itself is ownership history');
  const [ev] = await queryRows<{ n: string }>(app.db, sql`SELECT count(*) AS n FROM events WHERE type LIKE '%.moved_by_merge' AND entity_id IN (${h.opp}::uuid, ${h.interaction}::uuid, ${h.action}::uuid, ${h.handoff}::uuid)`);
  t.equal(Number(ev?.n), 4, 'one event per moved record');
  const [audit] = await queryRows<{ after: any }>(app.db, sql`SELECT after FROM audit_log WHERE entity_id = ${survivor.id}::uuid AND action = 'merge_survived'`);
  t.match(audit?.after.movedHistory, [{ customerId: dup.id, interactions: 1, opportunities: 1, stageTransitions: 1, actions: 1, handoffs: 1, cancelledHandoffs: [h.handoff] }]);
});

t.test('merge through GraphQL; another partner’s duplicate is refused and nothing moves', async (t) => {
  const c = await company(app);
  const survivor = await app.customer(c.users.partnerASales);
  const dup = await app.customer(c.users.partnerASales);
  const foreign = await app.customer(c.users.partnerBSales);
  const fh = await history(app, foreign.id, c.users.partnerBSales, c.partnerB.id);
  const refused = await app.gql(c.users.partnerAManager, MERGE, { id: survivor.id, ids: [foreign.id] });
  t.same(refused.codes, ['NOT_FOUND']);
  const rest = await app.rest(c.users.partnerAManager, 'POST', `/v1/customers/${survivor.id}/merge`, { duplicateIds: [foreign.id] });
  t.equal(rest.status, 404);
  t.equal((await row(app, 'opportunities', fh.opp)).customer_id, foreign.id, 'nothing moved');
  t.equal((await row(app, 'handoffs', fh.handoff)).status, 'PENDING', 'nothing cancelled');
  const bad = await app.rest(c.users.partnerAManager, 'POST', `/v1/customers/${survivor.id}/merge`, { duplicateIds: [survivor.id] });
  t.same([bad.status, errorPaths(bad.body.errors)], [400, ['duplicateIds']]);

  const h = await history(app, dup.id, c.users.partnerASales, c.partnerA.id);
  const ok = await app.gql(c.users.partnerAManager, MERGE, { id: survivor.id, ids: [dup.id] });
  t.same(ok.errors, undefined);
  t.equal(ok.data.mergeCustomers.status, 'ACTIVE');
  t.equal((await row(app, 'actions', h.action)).customer_id, survivor.id);
  t.equal((await row(app, 'handoffs', h.handoff)).status, 'CANCELLED');
});
