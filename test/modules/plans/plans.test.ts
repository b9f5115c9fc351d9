import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { moveOpportunity, opportunity, testPipeline } from '../../helpers/factories.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const pipeline = await testPipeline(app);

const today = new Date().toISOString().slice(0, 10);
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

/**
 * The branch's history, made through the API:
 *   D1, D2 won (40 000 and 60 000 EUR), D3 lost in QUALIFICATION, D4 lost in ACCEPTANCE, D5 open in NEGOTIATION;
 *   two customers still SUSPECT and one created as PROSPECT; partner A won one deal of 30 000 EUR.
 * Lifecycle: 7 created as SUSPECT, 5 of them went on (the deals' customers) → 5/7; 6 reached PROSPECT
 * (those 5 and the one created there), 5 went on to OPPORTUNITY → 5/6.
 * Stages: QUALIFICATION 4 advanced, 1 lost → 0.8000; ACCEPTANCE 3 advanced, 1 lost → 0.7500;
 * NEGOTIATION 2 won, none lost (D5 undecided) → 1.0000.
 */
async function history() {
  const c = await company(app);
  const s = c.users.sales;
  const deal = async (who: typeof s, stage: string, amount: string, then?: string) => {
    const customer = await app.customer(who);
    const o = await opportunity(app, who, customer.id, { pipelineId: pipeline.id, amount, currency: 'EUR', stage });
    return then ? moveOpportunity(app, who, o, then) : o;
  };
  await deal(s, 'WON', '40000.00');
  await deal(s, 'WON', '60000.00');
  await deal(s, 'QUALIFICATION', '1000.00', 'LOST');
  await deal(s, 'ACCEPTANCE', '1000.00', 'LOST');
  await deal(s, 'NEGOTIATION', '1000.00');
  await app.customer(s);
  await app.customer(s);
  await app.customer(s, { lifecycleStage: 'PROSPECT' as never });
  await deal(c.users.partnerASales, 'WON', '30000.00');
  return c;
}

const body = (unitId: string, extra: Record<string, unknown> = {}) => ({
  unitId,
  pipelineId: pipeline.id,
  periodStart: inDays(-10),
  periodEnd: inDays(20),
  target: { amount: '200000', currency: 'EUR' },
  ...extra,
});

t.test('POST /v1/plans/decompose: backwards through the unit measured funnel, exact', async (t) => {
  const c = await history();
  const r = await app.rest(c.users.branchManager, 'POST', '/v1/plans/decompose', body(c.branch.id, { minSample: 1 }));
  t.equal(r.status, 200, r.raw);
  t.equal(r.body.averageWonAmount, '50000.00');
  t.equal(r.body.averageWonAmountSampleSize, 2);
  t.equal(r.body.averageWonAmountSource, 'UNIT');
  t.same(r.body.target, { amount: '200000.00', currency: 'EUR' });
  t.same(
    r.body.rates.map((x: Record<string, unknown>) => [x.fromStageKey, x.toStageKey, x.rate, x.sampleSize, x.source, x.sourceUnitId, x.belowMinimumSample]),
    [
      ['SUSPECT', 'PROSPECT', '0.7143', 7, 'UNIT', c.branch.id, false],
      ['PROSPECT', 'QUALIFICATION', '0.8333', 6, 'UNIT', c.branch.id, false],
      ['QUALIFICATION', 'ACCEPTANCE', '0.8000', 5, 'UNIT', c.branch.id, false],
      ['ACCEPTANCE', 'NEGOTIATION', '0.7500', 4, 'UNIT', c.branch.id, false],
      ['NEGOTIATION', 'WON', '1.0000', 2, 'UNIT', c.branch.id, false],
    ],
  );
  // 200 000 ÷ 50 000 = 4 won; ÷ 1 = 4; ÷ 0.75 = 5.33 → 6; ÷ 0.8 = 7.5 → 8; ÷ 0.8333 = 9.6 → 10; ÷ 0.7143 = 14.0 → 14.
  t.same(r.body.required, [
    { stageKey: 'SUSPECT', count: 14 },
    { stageKey: 'PROSPECT', count: 10 },
    { stageKey: 'QUALIFICATION', count: 8 },
    { stageKey: 'ACCEPTANCE', count: 6 },
    { stageKey: 'NEGOTIATION', count: 4 },
    { stageKey: 'WON', count: 4 },
  ]);
  t.equal(r.body.wonNeeded, 4);

  // The same through GraphQL.
  const g = await app.gql(
    c.users.branchManager,
    'query($input: DecomposePlanInput!) { planDecomposition(input: $input) { unitId pipelineId periodStart periodEnd target { amount currency } averageWonAmount averageWonAmountSampleSize averageWonAmountSource wonNeeded required { stageKey count } rates { fromStageKey toStageKey rate sampleSize source sourceUnitId belowMinimumSample } minSample historyMonths measuredFrom measuredTo } }',
    { input: body(c.branch.id, { minSample: 1 }) },
  );
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.planDecomposition.required, r.body.required);
  t.same(g.data.planDecomposition.rates, r.body.rates);

  // Too little history for the default minimum (20) and no wider scope in the branch head's reach:
  // the stage steps fall back to the pipeline's probabilities, the lifecycle steps keep the unit's own.
  const d = await app.rest(c.users.branchManager, 'POST', '/v1/plans/decompose', body(c.branch.id));
  t.same(
    d.body.rates.map((x: Record<string, unknown>) => [x.rate, x.source, x.belowMinimumSample]),
    [
      ['0.7143', 'UNIT', true],
      ['0.8333', 'UNIT', true],
      ['0.2500', 'PIPELINE', true],
      ['0.5714', 'PIPELINE', true],
      ['0.7000', 'PIPELINE', true],
    ],
  );
  t.equal(d.body.minSample, 20);

  // The region's head may fall back to the region: NEGOTIATION has 2 < 3 decided in the branch, 3 in the region.
  const region = await app.rest(c.users.regionManager, 'POST', '/v1/plans/decompose', body(c.branch.id, { minSample: 3 }));
  t.same(
    region.body.rates.map((x: Record<string, unknown>) => [x.fromStageKey, x.rate, x.sampleSize, x.source, x.sourceUnitId]),
    [
      ['SUSPECT', '0.7143', 7, 'UNIT', c.branch.id],
      ['PROSPECT', '0.8333', 6, 'UNIT', c.branch.id],
      ['QUALIFICATION', '0.8000', 5, 'UNIT', c.branch.id],
      ['ACCEPTANCE', '0.7500', 4, 'UNIT', c.branch.id],
      ['NEGOTIATION', '1.0000', 3, 'PARENT', c.region.id],
    ],
  );
  t.equal(region.body.averageWonAmount, '43333.33', 'the region: (40 000 + 60 000 + 30 000) ÷ 3');
  t.equal(region.body.averageWonAmountSource, 'PARENT');
  // ⌈200 000 ÷ 43 333.33⌉ = 5; 5; ⌈5 ÷ 0.75⌉ = 7; ⌈7 ÷ 0.8⌉ = 9; ⌈9 ÷ 0.8333⌉ = 11; ⌈11 ÷ 0.7143⌉ = 16.
  t.same(region.body.required.map((x: { count: number }) => x.count), [16, 11, 9, 7, 5, 5]);

  // A partner's head plans for its partner with its partner's numbers only: no fallback above it.
  const partner = await app.rest(c.users.partnerAManager, 'POST', '/v1/plans/decompose', body(c.partnerA.id, { minSample: 3 }));
  t.equal(partner.status, 200, partner.raw);
  t.same(partner.body.rates.map((x: { source: string; sourceUnitId: string | null }) => [x.source, x.sourceUnitId]).slice(2), [
    ['PIPELINE', null],
    ['PIPELINE', null],
    ['PIPELINE', null],
  ]);
  t.equal(partner.body.averageWonAmount, '30000.00', "the partner's own won deal, below the minimum");
  t.equal(partner.body.averageWonAmountSource, 'UNIT');
  // ... and cannot plan for the company's branch (answered as an unknown unit).
  const foreign = await app.rest(c.users.partnerAManager, 'POST', '/v1/plans/decompose', body(c.branch.id));
  t.equal(foreign.status, 400);
  t.same(foreign.body.errors, [{ path: 'unitId', message: 'no such unit' }]);
  const other = await app.rest(c.users.partnerBManager, 'POST', '/v1/plans/decompose', body(c.partnerA.id));
  t.same(other.body.errors, [{ path: 'unitId', message: 'no such unit' }]);
});

t.test('POST /v1/plans stores a plan; GET reads it; progress compares required and actual', async (t) => {
  const c = await history();
  const made = await app.rest(c.users.branchManager, 'POST', '/v1/plans', body(c.branch.id, { minSample: 1, name: 'Q plan' }));
  t.equal(made.status, 201, made.raw);
  t.equal(made.headers.location, `/v1/plans/${made.body.id}`);
  t.equal(made.headers.etag, '"1"');
  t.equal(made.body.name, 'Q plan');
  t.equal(made.body.createdBy, c.users.branchManager.id);
  t.same(made.body.required.map((x: { count: number }) => x.count), [14, 10, 8, 6, 4, 4]);

  // Idempotency-Key: a replay answers the first plan and stores no second one.
  const key = { 'idempotency-key': `plan-${made.body.id}` };
  const first = await app.rest(c.users.branchManager, 'POST', '/v1/plans', body(c.branch.id, { minSample: 1, name: 'Once' }), key);
  const again = await app.rest(c.users.branchManager, 'POST', '/v1/plans', body(c.branch.id, { minSample: 1, name: 'Once' }), key);
  t.equal(first.status, 201);
  t.equal(again.body.id, first.body.id);
  t.equal(again.headers['idempotent-replayed'], 'true');
  const audit = await app.rest(c.users.admin, 'GET', `/v1/audit?entityType=plan&entityId=${first.body.id}`);
  if (audit.status === 200) t.equal(audit.body.data.length, 1, 'one audit row for the plan');

  const got = await app.rest(c.users.branchManager, 'GET', `/v1/plans/${made.body.id}`);
  t.same(got.body, made.body);
  const list = await app.rest(c.users.regionManager, 'GET', `/v1/plans?unitId=${c.branch.id}`);
  t.same(list.body.data.map((x: { id: string }) => x.id), [first.body.id, made.body.id], 'newest first');
  const paged = await app.rest(c.users.regionManager, 'GET', `/v1/plans?unitId=${c.branch.id}&limit=1`);
  const next = await app.rest(c.users.regionManager, 'GET', `/v1/plans?unitId=${c.branch.id}&limit=1&cursor=${paged.body.nextCursor}`);
  t.same([...paged.body.data, ...next.body.data].map((x: { id: string }) => x.id), [first.body.id, made.body.id], 'keyset pages');
  t.equal(next.body.nextCursor, null);

  const p = await app.rest(c.users.branchManager, 'GET', `/v1/plans/${made.body.id}/progress`);
  t.equal(p.status, 200, p.raw);
  t.same(
    p.body.stages.map((x: Record<string, unknown>) => [x.stageKey, x.required, x.requiredToday, x.actual, x.gap]),
    [
      ['SUSPECT', 14, 14, 7, 7],
      ['PROSPECT', 10, 10, 6, 4],
      ['QUALIFICATION', 8, 8, 5, 3],
      ['ACCEPTANCE', 6, 6, 4, 2],
      ['NEGOTIATION', 4, 4, 3, 1],
      ['WON', 4, 4, 2, 2],
    ],
  );
  t.same(p.body.won, { currency: 'EUR', target: '200000.00', actual: '100000.00', gap: '100000.00' });
  // Ten days and a part of today out of 31.
  const elapsed = Number(p.body.elapsedShare);
  t.ok(elapsed >= 10 / 31 - 0.0001 && elapsed <= 11 / 31 + 0.0001, `elapsed ${p.body.elapsedShare}`);
  t.equal(p.body.stages[0].expectedToDate, 5, '⌈14 × ~0.33⌉');

  // When a rate moves, the plan moves: one more deal lost in NEGOTIATION lowers its rate to 2/3.
  const customer = await app.customer(c.users.sales);
  const o = await opportunity(app, c.users.sales, customer.id, { pipelineId: pipeline.id, amount: '1000.00', currency: 'EUR', stage: 'NEGOTIATION' });
  await moveOpportunity(app, c.users.sales, o, 'LOST');
  const moved = await app.rest(c.users.branchManager, 'GET', `/v1/plans/${made.body.id}/progress`);
  const neg = moved.body.stages.find((x: { stageKey: string }) => x.stageKey === 'NEGOTIATION');
  t.same([neg.required, neg.requiredToday], [4, 6], '⌈4 ÷ 0.6667⌉ = 6 with today’s rate');

  const g = await app.gql(c.users.branchManager, 'query($id: ID!) { plan(id: $id) { id name required { stageKey count } } planProgress(id: $id) { planId stages { stageKey required requiredToday actual gap } won { target actual gap currency } } plans(filter: { unitId: null }, first: 200) { edges { node { id } } } }', { id: made.body.id });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.equal(g.data.plan.name, 'Q plan');
  t.same(g.data.planProgress.stages, moved.body.stages.map(({ expectedToDate: _e, ...rest }: Record<string, unknown>) => rest));
  t.ok(g.data.plans.edges.some((e: { node: { id: string } }) => e.node.id === made.body.id));

  const gm = await app.gql(c.users.regionManager, 'mutation($input: CreatePlanInput!) { createPlan(input: $input) { id unitId required { stageKey count } } }', { input: body(c.branch.id, { minSample: 1 }) });
  t.same(gm.errors, undefined, JSON.stringify(gm.errors));
  t.equal(gm.data.createPlan.unitId, c.branch.id);

  // Another partner, or a partner of the company's branch plan: not found, through both doors.
  for (const who of [c.users.partnerAManager, c.users.partnerBManager]) {
    t.equal((await app.rest(who, 'GET', `/v1/plans/${made.body.id}`)).status, 404);
    t.equal((await app.rest(who, 'GET', `/v1/plans/${made.body.id}/progress`)).status, 404);
    t.notOk((await app.rest(who, 'GET', '/v1/plans?limit=200')).body.data.some((x: { id: string }) => x.id === made.body.id));
    t.same((await app.gql(who, 'query($id: ID!) { plan(id: $id) { id } }', { id: made.body.id })).codes, ['NOT_FOUND']);
  }
  // A salesperson reads no reports and no plans.
  t.equal((await app.rest(c.users.sales, 'GET', `/v1/plans/${made.body.id}`)).status, 403);
  t.equal((await app.rest(c.users.sales, 'POST', '/v1/plans/decompose', body(c.branch.id))).status, 403);
  t.equal((await app.rest(c.users.executive, 'POST', '/v1/plans', body(c.branch.id))).status, 403, 'the executive reads, writes nothing');
  t.equal((await app.rest(c.users.executive, 'GET', `/v1/plans/${made.body.id}/progress`)).status, 200);
});

t.test('plans: bad input through both doors', async (t) => {
  const c = await company(app);
  const m = c.users.branchManager;
  for (const [patch, path] of [
    [{ periodStart: inDays(5), periodEnd: today }, 'periodStart'],
    [{ periodStart: '0000-01-01' }, 'periodStart'],
    [{ periodEnd: '2040-01-01', periodStart: '2020-01-01' }, 'periodEnd'],
    [{ target: { amount: '0', currency: 'EUR' } }, 'target.amount'],
    [{ target: { amount: '-5', currency: 'EUR' } }, 'target.amount'],
    [{ target: { amount: 1000, currency: 'EUR' } }, 'target.amount'],
    [{ target: { amount: '1000', currency: 'euros' } }, 'target.currency'],
    [{ target: { amount: '1000', currency: 'EUR', extra: 1 } }, 'target.extra'],
    [{ unitId: 'x' }, 'unitId'],
    [{ pipelineId: '00000000-0000-4000-8000-000000000000' }, 'pipelineId'],
    [{ minSample: 0 }, 'minSample'],
    [{ historyMonths: 61 }, 'historyMonths'],
    [{ bogus: true }, 'bogus'],
    [{ name: 'a\u0000b' }, 'name'],
  ] as const) {
    const url = 'name' in patch ? '/v1/plans' : '/v1/plans/decompose';
    const r = await app.rest(m, 'POST', url, { ...body(c.branch.id), ...patch });
    t.equal(r.status, 400, `${JSON.stringify(patch)}: ${r.raw.slice(0, 200)}`);
    t.ok((r.body.errors ?? []).some((e: { path: string }) => e.path === path), `${JSON.stringify(patch)} names ${path}: ${r.raw.slice(0, 300)}`);
  }
  t.equal((await app.rest(m, 'GET', '/v1/plans/00000000-0000-4000-8000-000000000000')).status, 404);
  t.equal((await app.rest(m, 'GET', '/v1/plans/nope')).status, 400);
  t.equal((await app.rest(m, 'GET', '/v1/plans?cursor=%%%')).status, 400);
  const g = await app.gql(m, 'query($input: DecomposePlanInput!) { planDecomposition(input: $input) { wonNeeded } }', { input: { ...body(c.branch.id), periodStart: inDays(5), periodEnd: today } });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(g.errors?.[0]?.extensions?.errors, [{ path: 'input.periodStart', message: 'must not be after periodEnd' }]);
});

t.test('PATCH and DELETE /v1/plans/{id}: merge patch with If-Match, a new target decomposed again; both doors; others refused', async (t) => {
  const c = await history();
  const m = c.users.branchManager;
  const made = await app.rest(m, 'POST', '/v1/plans', body(c.branch.id, { minSample: 1, name: 'Q plan' }));
  t.equal(made.status, 201, made.raw);
  const id = made.body.id;

  // A rename only: no new measurement, version 2.
  const renamed = await app.rest(m, 'PATCH', `/v1/plans/${id}`, { name: 'Q4 plan' }, { 'if-match': '"1"' });
  t.equal(renamed.status, 200, renamed.raw);
  t.equal(renamed.headers.etag, '"2"');
  t.match(renamed.body, { name: 'Q4 plan', version: 2, measuredTo: made.body.measuredTo, required: made.body.required });
  t.ok(renamed.body.updatedAt >= made.body.updatedAt);

  // A stale If-Match: 412, nothing written.
  const stale = await app.rest(m, 'PATCH', `/v1/plans/${id}`, { target: { amount: '400000' } }, { 'if-match': '"1"' });
  t.equal(stale.status, 412, stale.raw);
  t.equal((await app.rest(m, 'GET', `/v1/plans/${id}`)).body.target.amount, '200000.00');

  // The target doubled (merge patch: the currency stays): decomposed again, 8 won needed instead of 4.
  const doubled = await app.rest(m, 'PATCH', `/v1/plans/${id}`, { target: { amount: '400000' } }, { 'if-match': '"2"', 'content-type': 'application/merge-patch+json' });
  t.equal(doubled.status, 200, doubled.raw);
  t.same(doubled.body.target, { amount: '400000.00', currency: 'EUR' });
  t.equal(doubled.body.version, 3);
  t.equal(doubled.body.wonNeeded, 8);
  // 8 won; ÷ 1 = 8; ÷ 0.75 = 10.67 → 11; ÷ 0.8 = 13.75 → 14; ÷ 0.8333 = 16.8 → 17; ÷ 0.7143 = 23.8 → 24.
  t.same(doubled.body.required.map((x: { count: number }) => x.count), [24, 17, 14, 11, 8, 8]);
  t.equal(doubled.body.name, 'Q4 plan', 'untouched fields stay');

  // A patch that changes nothing writes nothing.
  const same = await app.rest(m, 'PATCH', `/v1/plans/${id}`, { target: { amount: '400000.00', currency: 'EUR' }, name: 'Q4 plan' });
  t.equal(same.body.version, 3);

  // Bad input: 400 naming the field, nothing written.
  for (const [patch, path] of [
    [{ periodStart: inDays(40) }, 'periodStart'],
    [{ target: { amount: '0' } }, 'target.amount'],
    [{ target: { currency: null } }, 'target.currency'],
    [{ unitId: c.otherBranch.id }, 'unitId'],
    [{ pipelineId: pipeline.id }, 'pipelineId'],
    [{ minSample: 0 }, 'minSample'],
    [{ bogus: 1 }, 'bogus'],
  ] as const) {
    const r = await app.rest(m, 'PATCH', `/v1/plans/${id}`, patch);
    t.equal(r.status, 400, `${JSON.stringify(patch)}: ${r.raw.slice(0, 200)}`);
    t.ok((r.body.errors ?? []).some((e: { path: string }) => e.path === path), `${JSON.stringify(patch)} names ${path}: ${r.raw.slice(0, 300)}`);
  }
  t.equal((await app.rest(m, 'GET', `/v1/plans/${id}`)).body.version, 3, 'bad input changed nothing');

  // Others: a partner manager does not see it (404), a salesperson may not (403), the executive reads but changes nothing (403).
  for (const who of [c.users.partnerAManager, c.users.partnerBManager]) {
    t.equal((await app.rest(who, 'PATCH', `/v1/plans/${id}`, { name: 'x' })).status, 404);
    t.equal((await app.rest(who, 'DELETE', `/v1/plans/${id}`)).status, 404);
    t.same((await app.gql(who, 'mutation($id: ID!) { updatePlan(id: $id, input: { name: "x" }) { id } }', { id })).codes, ['NOT_FOUND']);
    t.same((await app.gql(who, 'mutation($id: ID!) { deletePlan(id: $id) }', { id })).codes, ['NOT_FOUND']);
  }
  t.equal((await app.rest(c.users.sales, 'PATCH', `/v1/plans/${id}`, { name: 'x' })).status, 403);
  t.equal((await app.rest(c.users.executive, 'PATCH', `/v1/plans/${id}`, { name: 'x' })).status, 403);
  t.equal((await app.rest(c.users.executive, 'DELETE', `/v1/plans/${id}`)).status, 403);
  t.equal((await app.rest(m, 'GET', `/v1/plans/${id}`)).body.version, 3, 'refusals changed nothing');

  // GraphQL: the same patch with expectedVersion, and the region manager (its reach covers the branch) may change it.
  const g = await app.gql(c.users.regionManager, 'mutation($id: ID!, $in: UpdatePlanInput!) { updatePlan(id: $id, input: $in, expectedVersion: 3) { name version target { amount currency } wonNeeded updatedAt } }', { id, in: { name: null, target: { amount: '200000' } } });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.match(g.data.updatePlan, { name: null, version: 4, target: { amount: '200000.00', currency: 'EUR' }, wonNeeded: 4 });
  const gStale = await app.gql(m, 'mutation($id: ID!) { updatePlan(id: $id, input: { name: "y" }, expectedVersion: 3) { id } }', { id });
  t.same(gStale.codes, ['PRECONDITION_FAILED']);
  const gBad = await app.gql(m, 'mutation($id: ID!) { updatePlan(id: $id, input: { target: { amount: "0" } }) { id } }', { id });
  t.same(gBad.codes, ['BAD_USER_INPUT']);

  // The audit trail has every change.
  const audit = await app.rest(c.users.admin, 'GET', `/v1/audit?entityType=plan&entityId=${id}`);
  if (audit.status === 200) t.same(audit.body.data.map((a: { action: string }) => a.action).sort(), ['created', 'updated', 'updated', 'updated']);

  // DELETE: If-Match honoured, then gone (404 everywhere), through both doors.
  t.equal((await app.rest(m, 'DELETE', `/v1/plans/${id}`, undefined, { 'if-match': '"3"' })).status, 412);
  const del = await app.rest(m, 'DELETE', `/v1/plans/${id}`, undefined, { 'if-match': '"4"' });
  t.equal(del.status, 204, del.raw);
  t.equal((await app.rest(m, 'GET', `/v1/plans/${id}`)).status, 404);
  t.equal((await app.rest(m, 'GET', `/v1/plans/${id}/progress`)).status, 404);
  t.equal((await app.rest(m, 'DELETE', `/v1/plans/${id}`)).status, 404);
  const other = await app.rest(m, 'POST', '/v1/plans', body(c.branch.id, { minSample: 1 }));
  const gd = await app.gql(m, 'mutation($id: ID!) { deletePlan(id: $id) }', { id: other.body.id });
  t.same(gd.errors, undefined, JSON.stringify(gd.errors));
  t.equal(gd.data.deletePlan, true);
  t.equal((await app.rest(m, 'GET', `/v1/plans/${other.body.id}`)).status, 404);
  if (audit.status === 200) {
    const after = await app.rest(c.users.admin, 'GET', `/v1/audit?entityType=plan&entityId=${id}`);
    t.ok(after.body.data.some((a: { action: string; before: { version: number } }) => a.action === 'deleted' && a.before.version === 4), 'the deleted plan is kept in the audit trail');
  }
});
