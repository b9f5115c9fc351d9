/**
 * The stage an opportunity was created in (`opportunities.created_stage_id`, read by the conversion and
 * forecast reports) is written once at creation by every path that creates one, and no later write
 * changes it: stage moves, losing, reopening, winning, a patch, a customer merge, an external upsert.
 */
import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { moveOpportunity, opportunity, tag, testPipeline } from '../../helpers/factories.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const pipeline = await testPipeline(app);
const c = await company(app);
const first = (pipeline.stages as { id: string; key: string; order: number; terminal: boolean }[]).filter((s) => !s.terminal).sort((a, b) => a.order - b.order)[0];

const createdStage = async (id: string): Promise<string | null> => {
  const [r] = await queryRows<{ created_stage_id: string | null }>(app.db, sql`SELECT created_stage_id FROM opportunities WHERE id = ${id}::uuid`);
  return r?.created_stage_id ?? null;
};

t.test('REST create, moves forward, lost, reopened, won, patched: the created stage stays the first stage', async (t) => {
  const customer = await app.customer(c.users.sales);
  let o = await opportunity(app, c.users.sales, customer.id, { pipelineId: pipeline.id });
  t.equal(o.stageId, first?.id);
  t.equal(await createdStage(o.id), first?.id, 'written at creation');
  o = await moveOpportunity(app, c.users.sales, o, 'ACCEPTANCE');
  t.equal(await createdStage(o.id), first?.id, 'after a move forward');
  o = await moveOpportunity(app, c.users.sales, o, 'LOST');
  t.equal(await createdStage(o.id), first?.id, 'after losing');
  o = await moveOpportunity(app, c.users.branchManager, o, 'NEGOTIATION');
  t.equal(o.status, 'OPEN');
  t.equal(await createdStage(o.id), first?.id, 'after reopening');
  o = await moveOpportunity(app, c.users.sales, o, 'WON');
  t.equal(await createdStage(o.id), first?.id, 'after winning');
  const patched = await app.rest(c.users.sales, 'PATCH', `/v1/opportunities/${o.id}`, { name: `Renamed ${tag()}` });
  t.equal(patched.status, 200, patched.raw);
  t.equal(await createdStage(o.id), first?.id, 'after a patch');
});

t.test('GraphQL createOpportunity writes it too', async (t) => {
  const customer = await app.customer(c.users.sales);
  const r = await app.gql(c.users.sales, 'mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id stageId } }', {
    i: { customerId: customer.id, pipelineId: pipeline.id, name: `Graph ${tag()}` },
  });
  t.same(r.errors, undefined);
  t.equal(await createdStage(r.data.createOpportunity.id), first?.id);
});

t.test('external upsert: created with it, unchanged by the next upsert', async (t) => {
  const k = tag();
  await app.customer(c.users.sales, { name: `Upsert ${k}`, externalIds: { erp: `C-${k}` } });
  const url = `/v1/opportunities/external/erp/O-${k}`;
  const created = await app.rest(c.users.integration, 'PUT', url, { customer: { system: 'erp', externalId: `C-${k}` }, pipelineId: pipeline.id, name: `Deal ${k}`, ownerUserId: c.users.sales.id });
  t.equal(created.status, 201, created.raw);
  t.equal(await createdStage(created.body.id), first?.id);
  const again = await app.rest(c.users.integration, 'PUT', url, { name: `Deal ${k} renamed` });
  t.equal(again.status, 200, again.raw);
  t.equal(await createdStage(created.body.id), first?.id);
});

t.test('customer merge: the duplicate deal moves to the survivor with its created stage', async (t) => {
  const k = tag();
  const survivor = await app.customer(c.users.sales, { name: `Survivor ${k}` });
  const dup = await app.customer(c.users.sales, { name: `Other ${k}` });
  const o = await opportunity(app, c.users.sales, dup.id, { pipelineId: pipeline.id, stage: 'NEGOTIATION' });
  const merged = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${survivor.id}/merge`, { duplicateIds: [dup.id] });
  t.equal(merged.status, 200, merged.raw);
  const [row] = await queryRows<{ customer_id: string; created_stage_id: string }>(app.db, sql`SELECT customer_id, created_stage_id FROM opportunities WHERE id = ${o.id}::uuid`);
  t.same(row, { customer_id: survivor.id, created_stage_id: first?.id });
});

t.test('conversion counts the created stage: a deal created and moved on within the period entered both', async (t) => {
  const c2 = await company(app);
  const customer = await app.customer(c2.users.sales);
  const from = new Date(Date.now() - 60_000).toISOString();
  await opportunity(app, c2.users.sales, customer.id, { pipelineId: pipeline.id, stage: 'ACCEPTANCE' });
  const to = new Date(Date.now() + 1000).toISOString();
  const q = `pipelineId=${pipeline.id}&ownerUnitId=${c2.branch.id}&from=${from}&to=${to}`;
  const rest = await app.rest(c2.users.branchManager, 'GET', `/v1/reports/conversion?${q}`);
  t.equal(rest.status, 200, rest.raw);
  const steps = rest.body.groups[0].steps.map((s: { fromStageKey: string; entered: number; advanced: number }) => [s.fromStageKey, s.entered, s.advanced]);
  t.same(steps.slice(0, 2), [
    ['QUALIFICATION', 1, 1],
    ['ACCEPTANCE', 1, 0],
  ]);
  const g = await app.gql(c2.users.branchManager, 'query($p: ID, $u: ID, $f: DateTime, $t: DateTime) { conversionReport(pipelineId: $p, ownerUnitId: $u, from: $f, to: $t) { groups { steps { fromStageKey entered advanced } } } }', {
    p: pipeline.id,
    u: c2.branch.id,
    f: from,
    t: to,
  });
  t.same(g.errors, undefined);
  t.same(g.data.conversionReport.groups[0].steps.slice(0, 2), [
    { fromStageKey: 'QUALIFICATION', entered: 1, advanced: 1 },
    { fromStageKey: 'ACCEPTANCE', entered: 1, advanced: 0 },
  ]);
});
