import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { defaultPipeline, opportunity, tag } from '../../helpers/factories.js';
import { errorPaths } from '../../helpers/problems.js';
import { auditFor } from '../../helpers/records.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const { admin, sales, branchManager, service, executive } = c.users;

const stages = () => [
  { key: 'LEAD', name: 'Lead', probability: 5 },
  { key: 'demo', name: 'Demo', probability: 30, gates: { facts: ['needDefined'], actions: ['DEMO_DONE'] } },
  { key: 'WON', name: 'Won', probability: 100, terminal: true, outcome: 'WON', gates: { amount: true } },
  { key: 'LOST', name: 'Lost', probability: 0, outcome: 'LOST' },
];

t.test('the default pipeline exists with the default stages and gates', async (t) => {
  const pl = await defaultPipeline(app, sales);
  t.same(pl.stages.map((s) => [s.key, s.order, s.terminal, s.outcome]), [
    ['QUALIFICATION', 1, false, null],
    ['ACCEPTANCE', 2, false, null],
    ['NEGOTIATION', 3, false, null],
    ['WON', 4, true, 'WON'],
    ['LOST', 5, true, 'LOST'],
  ]);
  t.same(pl.stages[1]?.gates, { facts: ['needDefined', 'decisionMakerKnown'], orFacts: ['purchaseMotive', 'paymentCapability'], judgement: true });
  t.same(pl.stages[2]?.gates, { facts: ['budgetKnown', 'timingKnown'], actions: ['SOLUTION_ACCEPTED'] });
  t.same(pl.stages[3]?.gates, { amount: true });
  t.ok(pl.stages.every((s) => Number.isInteger(s.probability) && s.probability >= 0 && s.probability <= 100), 'probability in percent');
  const [n] = await queryRows<{ n: number | string }>(app.db, sql`SELECT count(*) AS n FROM pipelines WHERE is_default`);
  t.equal(Number(n?.n), 1, 'exactly one default');
  const one = await app.rest(sales, 'GET', `/v1/pipelines/${pl.id}`);
  t.equal(one.status, 200);
  t.equal(one.headers.etag, `"${pl.version}"`);
  const g = await app.gql(sales, '{ pipelines { id isDefault stages { key order probability terminal outcome gates { facts orFacts judgement actions amount } } } }');
  t.same(g.data.pipelines.find((p: { isDefault: boolean }) => p.isDefault).stages[2].gates, { facts: ['budgetKnown', 'timingKnown'], orFacts: null, judgement: null, actions: ['SOLUTION_ACCEPTED'], amount: null });
  t.equal((await app.rest(service, 'GET', '/v1/pipelines')).status, 403, 'service has no pipelines:read');
  t.equal((await app.rest(sales, 'GET', '/v1/pipelines/00000000-0000-4000-8000-000000000000')).status, 404);
});

t.test('admins create and edit; others may not', async (t) => {
  const name = `Projects ${tag()}`;
  for (const who of [sales, branchManager, executive]) {
    t.equal((await app.rest(who, 'POST', '/v1/pipelines', { name, stages: stages() })).status, 403);
  }
  // REST takes enum values in any case.
  const res = await app.rest(admin, 'POST', '/v1/pipelines', { name, productLine: 'projects', unitId: c.region.id, stages: [...stages().slice(0, 3), { ...stages()[3], outcome: 'lost' }] });
  t.equal(res.status, 201, res.raw);
  t.match(res.body, { name, isDefault: false, productLine: 'projects', unitId: c.region.id, version: 1 });
  t.same(res.body.stages.map((s: { key: string; order: number }) => `${s.order}:${s.key}`), ['1:LEAD', '2:DEMO', '3:WON', '4:LOST']);
  t.equal((await auditFor(app, res.body.id))[0]?.action, 'created');
  t.equal((await app.rest(sales, 'PATCH', `/v1/pipelines/${res.body.id}`, { name: 'x' })).status, 403);

  const gql = await app.gql(admin, 'mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id name stages { key } } }', { i: { name: `G ${tag()}`, stages: stages() } });
  t.same(gql.errors, undefined);
  t.equal(gql.data.createPipeline.stages.length, 4);
  const gqlBad = await app.gql(admin, 'mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }', { i: { name: `G ${tag()}`, stages: stages().slice(0, 3) } });
  t.same(gqlBad.codes, ['BAD_USER_INPUT']);
  t.same(errorPaths(gqlBad.errors?.[0]?.extensions?.errors), ['stages']);
  const denied = await app.gql(sales, 'mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }', { i: { name: 'x', stages: stages() } });
  t.same(denied.codes, ['FORBIDDEN']);
});

t.test('stage list rules: 400 naming the field, nothing written', async (t) => {
  const cases: [string, unknown[], string][] = [
    ['no LOST', stages().slice(0, 3), 'stages'],
    ['two WON', [...stages(), { key: 'WON2', name: 'w', probability: 100, outcome: 'WON' }], 'stages'],
    ['duplicate key', [stages()[0], { ...stages()[0], name: 'again' }, ...stages().slice(2)], 'stages.1.key'],
    ['terminal without outcome', [stages()[0], { key: 'X', name: 'x', probability: 1, terminal: true }, ...stages().slice(2)], 'stages.1.outcome'],
    ['open after terminal', [stages()[0], ...stages().slice(2), { key: 'LATE', name: 'late', probability: 1 }], 'stages.3.terminal'],
    ['probability 150', [{ ...stages()[0], probability: 150 }, ...stages().slice(1)], 'stages.0.probability'],
    ['probability 0.5', [{ ...stages()[0], probability: 0.5 }, ...stages().slice(1)], 'stages.0.probability'],
    ['order disagrees', [{ ...stages()[0], order: 2 }, ...stages().slice(1)], 'stages.0.order'],
    ['unknown gate fact', [{ ...stages()[0], gates: { facts: ['luck'] } }, ...stages().slice(1)], 'stages.0.gates.facts.0'],
    ['unknown gate field', [{ ...stages()[0], gates: { vibes: true } }, ...stages().slice(1)], 'stages.0.gates.vibes'],
    ['gate on LOST', [...stages().slice(0, 3), { ...stages()[3], gates: { amount: true } }], 'stages.3.gates'],
    ['only terminal stages', [...stages().slice(2), { key: 'X', name: 'x', probability: 0, outcome: 'LOST' }], 'stages'],
  ];
  for (const [label, st, path] of cases) {
    const name = `bad ${tag()}`;
    const res = await app.rest(admin, 'POST', '/v1/pipelines', { name, stages: st });
    t.equal(res.status, 400, `${label}: 400`);
    t.ok(errorPaths(res.body.errors).includes(path), `${label}: names ${path} (${JSON.stringify(res.body.errors)})`);
    const [n] = await queryRows<{ n: number | string }>(app.db, sql`SELECT count(*) AS n FROM pipelines WHERE name = ${name}`);
    t.equal(Number(n?.n), 0, `${label}: nothing written`);
  }
});

t.test('PATCH replaces the stage list: kept, updated, added, deleted; 409 when a stage still holds opportunities', async (t) => {
  const created = await app.rest(admin, 'POST', '/v1/pipelines', { name: `Edit ${tag()}`, stages: stages() });
  const pl = created.body;
  const [lead, demo, won, lost] = pl.stages;
  const stale = await app.rest(admin, 'PATCH', `/v1/pipelines/${pl.id}`, { name: 'x' }, { 'if-match': '"9"' });
  t.equal(stale.status, 412);

  const edited = await app.rest(
    admin,
    'PATCH',
    `/v1/pipelines/${pl.id}`,
    { stages: [{ ...lead, name: 'Lead in' }, { key: 'TRIAL', name: 'Trial', probability: 50 }, won, lost] },
    { 'if-match': '"1"' },
  );
  t.equal(edited.status, 200, edited.raw);
  t.equal(edited.body.version, 2);
  t.same(edited.body.stages.map((s: { key: string; name: string }) => `${s.key}:${s.name}`), ['LEAD:Lead in', 'TRIAL:Trial', 'WON:Won', 'LOST:Lost']);
  t.equal(edited.body.stages[0].id, lead.id, 'kept stages keep their id');
  t.notOk(edited.body.stages.some((s: { id: string }) => s.id === demo.id), 'the missing stage is gone');

  const same = await app.rest(admin, 'PATCH', `/v1/pipelines/${pl.id}`, { stages: edited.body.stages });
  t.equal(same.body.version, 2, 'sending the list back as read changes nothing');

  // Swapping two keys works despite keys being unique per pipeline.
  const [l2, trial, w2, lo2] = edited.body.stages;
  const swapped = await app.rest(admin, 'PATCH', `/v1/pipelines/${pl.id}`, { stages: [{ ...l2, key: 'TRIAL', order: undefined }, { ...trial, key: 'LEAD', order: undefined }, w2, lo2] });
  t.equal(swapped.status, 200, swapped.raw);

  const cust = await app.customer(sales);
  const o = await opportunity(app, sales, cust.id, { pipelineId: pl.id });
  t.equal(o.stageId, l2.id, 'a new opportunity starts in the first stage');
  const del = await app.rest(admin, 'PATCH', `/v1/pipelines/${pl.id}`, { stages: [trial, w2, lo2].map(({ order: _o, ...s }: { order: number }) => s) });
  t.equal(del.status, 409);
  t.match(del.body.detail, /TRIAL.*1 opportunity/);
  t.equal(del.body.opportunities, 1);
  t.equal(del.body.stageKey, 'TRIAL');
  const foreign = await app.rest(admin, 'PATCH', `/v1/pipelines/${pl.id}`, { stages: [{ id: '00000000-0000-4000-8000-000000000000', key: 'A', name: 'a', probability: 1 }, { ...w2, order: 2 }, { ...lo2, order: 3 }] });
  t.same([foreign.status, errorPaths(foreign.body.errors)], [400, ['stages.0.id']]);
});

t.test('making a pipeline the default unsets the other; the default cannot simply be unset', async (t) => {
  const before = await defaultPipeline(app, admin);
  const off = await app.rest(admin, 'PATCH', `/v1/pipelines/${before.id}`, { isDefault: false });
  t.same([off.status, errorPaths(off.body.errors)], [400, ['isDefault']]);
  const created = await app.rest(admin, 'POST', '/v1/pipelines', { name: `Default ${tag()}`, stages: stages() });
  const made = await app.gql(admin, 'mutation($id: ID!) { updatePipeline(id: $id, input: { isDefault: true }) { id isDefault version } }', { id: created.body.id });
  t.same(made.errors, undefined);
  t.equal(made.data.updatePipeline.isDefault, true);
  const [n] = await queryRows<{ n: number | string }>(app.db, sql`SELECT count(*) AS n FROM pipelines WHERE is_default`);
  t.equal(Number(n?.n), 1, 'still exactly one default');
  const cust = await app.customer(sales);
  const o = await opportunity(app, sales, cust.id);
  t.equal(o.pipelineId, created.body.id, 'new opportunities go to the new default');
  // Put the original default back for the other tests of this file.
  const back = await app.rest(admin, 'PATCH', `/v1/pipelines/${before.id}`, { isDefault: true });
  t.equal(back.status, 200);
});
