import { randomUUID } from 'node:crypto';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { opportunity } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';

// GET /v1/opportunities/{id}/gates answers what each move would lack, exactly as a refused move does (issue 10 item 17).

const app = await buildTestApp();
t.teardown(() => app.close());

t.test('each reachable stage with the unmet criteria a transition would refuse with', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.sales);
  const o = await opportunity(app, c.users.sales, customer.id);
  const res = await app.rest(c.users.sales, 'GET', `/v1/opportunities/${o.id}/gates`);
  t.equal(res.status, 200, res.raw);
  t.match(res.body, { opportunityId: o.id, stageId: o.stageId, stageKey: 'QUALIFICATION' });
  const keys = res.body.stages.map((s: { stageKey: string }) => s.stageKey);
  t.same(keys, ['ACCEPTANCE', 'NEGOTIATION', 'WON', 'LOST'], 'every other stage, in pipeline order');
  for (const stage of res.body.stages) {
    const move = await app.rest(c.users.sales, 'POST', `/v1/opportunities/${o.id}/transitions`, {
      toStageId: stage.stageId,
      ...(stage.stageKey === 'LOST' ? { lostReason: 'price' } : {}),
    });
    if (stage.unmet.length === 0) {
      t.equal(move.status, 201, `${stage.stageKey}: nothing unmet, the move passes`);
      break; // moved: the other previews belong to the old stage
    }
    t.equal(move.status, 422, `${stage.stageKey}: refused`);
    t.same(move.body.unmet, stage.unmet, `${stage.stageKey}: the same unmet criteria as the refusal`);
  }
});

t.test('another partner’s opportunity is 404; a bad id 400', async (t) => {
  const c = await company(app);
  const customer = await app.customer(c.users.partnerASales);
  const o = await opportunity(app, c.users.partnerASales, customer.id);
  t.equal(problemOf(await app.rest(c.users.partnerBSales, 'GET', `/v1/opportunities/${o.id}/gates`), 404), null);
  t.equal(problemOf(await app.rest(c.users.partnerASales, 'GET', `/v1/opportunities/${randomUUID()}/gates`), 404), null);
  t.equal(problemOf(await app.rest(c.users.partnerASales, 'GET', '/v1/opportunities/nope/gates'), 400, ['id']), null);
  t.equal(problemOf(await app.rest(c.users.partnerASales, 'GET', `/v1/opportunities/${o.id}/gates?x=1`), 400, ['x']), null, 'unknown query parameter');
});
