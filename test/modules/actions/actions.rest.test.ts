import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, delegation, opportunity, testPipeline } from '../../helpers/factories.js';
import { auditFor, eventsFor } from '../../helpers/records.js';
import { hour } from '../../helpers/time.js';
import { actionCount } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const co = await company(app);
const u = co.users;
const pipeline = await testPipeline(app);

t.test('create on a customer: defaults, ETag, Location, audit and event', async (t) => {
  const c = await app.customer(u.sales);
  const due = new Date(Date.now() + 48 * hour).toISOString();
  const res = await app.rest(u.sales, 'POST', `/v1/customers/${c.id}/actions`, { title: 'Call the buyer', dueAt: due, value: 4, urgency: 2, key: 'FIRST_CALL' });
  t.equal(res.status, 201, res.raw);
  const a = res.body;
  t.match(a, { customerId: c.id, opportunityId: null, title: 'Call the buyer', dueAt: due, value: 4, urgency: 2, status: 'OPEN', kind: 'PLANNED', key: 'FIRST_CALL', assigneeId: u.sales.id, ownerUnitId: u.sales.unitId, version: 1, completedAt: null, customerName: c.name });
  t.ok(a.priority > 8 * 1.9 && a.priority <= 8 * 2.01, `priority ${a.priority} ≈ value × urgency × 2 for a due in two days`);
  t.equal(res.headers.etag, '"1"');
  t.equal(res.headers.location, `/v1/actions/${a.id}`);
  t.same((await auditFor(app, a.id)).map((r) => [r.entity_type, r.action, r.actor_id, r.on_behalf_of_id]), [['action', 'created', u.sales.id, null]]);
  t.same((await eventsFor(app, a.id)).map((e) => e.type), ['action.created']);

  const plain = await app.rest(u.sales, 'POST', `/v1/customers/${c.id}/actions`, { title: 'Undated' });
  t.match(plain.body, { value: 3, urgency: 3, dueAt: null, priority: 9, key: null }, 'value and urgency default to 3; undated priority = value × urgency');
});

t.test('create on an opportunity: the customer is the opportunity’s; context names the deal and its stage', async (t) => {
  const c = await app.customer(u.sales);
  const o = await opportunity(app, u.sales, c.id, { pipelineId: pipeline.id, stage: 'ACCEPTANCE' });
  const res = await app.rest(u.sales, 'POST', `/v1/opportunities/${o.id}/actions`, { title: 'Get the solution accepted', key: 'SOLUTION_ACCEPTED', value: 5, urgency: 5 });
  t.equal(res.status, 201, res.raw);
  t.match(res.body, { opportunityId: o.id, customerId: c.id, opportunityName: o.name, stageKey: 'ACCEPTANCE', customerName: c.name });
});

t.test('lists: the customer’s include its opportunities’ actions; filters; keyset pages', async (t) => {
  const c = await app.customer(u.sales);
  const o = await opportunity(app, u.sales, c.id, { pipelineId: pipeline.id });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await app.rest(u.sales, 'POST', `/v1/customers/${c.id}/actions`, { title: `On customer ${i}` })).body.id);
  for (let i = 0; i < 2; i++) ids.push((await app.rest(u.sales, 'POST', `/v1/opportunities/${o.id}/actions`, { title: `On deal ${i}` })).body.id);
  const walked: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await app.rest(u.sales, 'GET', `/v1/customers/${c.id}/actions?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(res.status, 200, res.raw);
    walked.push(...res.body.data.map((x: { id: string }) => x.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  t.same(walked, ids, 'every action of the customer, oldest first, across pages');
  const desc = await app.rest(u.sales, 'GET', `/v1/customers/${c.id}/actions?sort=-createdAt`);
  t.same(desc.body.data.map((x: { id: string }) => x.id), [...ids].reverse(), 'sort=-createdAt');

  const onDeal = await app.rest(u.sales, 'GET', `/v1/opportunities/${o.id}/actions`);
  t.same(onDeal.body.data.map((x: { id: string }) => x.id), ids.slice(3), 'the opportunity lists only its own');

  await app.rest(u.sales, 'PATCH', `/v1/actions/${ids[0]}`, { status: 'done' });
  const done = await app.rest(u.sales, 'GET', `/v1/customers/${c.id}/actions?status=DONE`);
  t.same(done.body.data.map((x: { id: string }) => x.id), [ids[0]], 'status filter');
  const mine = await app.rest(u.sales, 'GET', `/v1/customers/${c.id}/actions?assigneeId=${u.sales.id}`);
  t.equal(mine.body.data.length, 5, 'assigneeId filter');
  const none = await app.rest(u.sales, 'GET', `/v1/customers/${c.id}/actions?assigneeId=${u.sales2.id}`);
  t.equal(none.body.data.length, 0);
});

t.test('read and patch: ETag, If-Match, DONE sets completedAt, no-op writes nothing', async (t) => {
  const c = await app.customer(u.sales);
  const a = (await app.rest(u.sales, 'POST', `/v1/customers/${c.id}/actions`, { title: 'Send the quote' })).body;
  const got = await app.rest(u.sales, 'GET', `/v1/actions/${a.id}`);
  t.equal(got.status, 200);
  t.equal(got.headers.etag, '"1"');
  t.equal((await app.rest(u.sales, 'PATCH', `/v1/actions/${a.id}`, { title: 'x' }, { 'if-match': '"7"' })).status, 412, 'stale If-Match');
  const due = new Date(Date.now() - 2 * hour).toISOString();
  const p1 = await app.rest(u.sales, 'PATCH', `/v1/actions/${a.id}`, { title: 'Send the revised quote', dueAt: due, value: 5, urgency: 4, notes: 'with discount' }, { 'if-match': '"1"' });
  t.equal(p1.status, 200, p1.raw);
  t.match(p1.body, { title: 'Send the revised quote', dueAt: due, value: 5, urgency: 4, notes: 'with discount', version: 2 });
  t.ok(p1.body.priority > 60, 'overdue: above three times the weight');
  t.equal(p1.headers.etag, '"2"');
  const done = await app.rest(u.sales, 'PATCH', `/v1/actions/${a.id}`, { status: 'DONE' });
  t.equal(done.body.status, 'DONE');
  t.ok(done.body.completedAt && Date.parse(done.body.completedAt) <= Date.now(), 'completedAt set');
  const noop = await app.rest(u.sales, 'PATCH', `/v1/actions/${a.id}`, { status: 'DONE', title: 'Send the revised quote' });
  t.equal(noop.body.version, done.body.version, 'no-op: same version');
  const reopened = await app.rest(u.sales, 'PATCH', `/v1/actions/${a.id}`, { status: 'OPEN', dueAt: null, notes: null });
  t.match(reopened.body, { status: 'OPEN', completedAt: null, dueAt: null, notes: null });
  t.same((await auditFor(app, a.id)).map((r) => r.action), ['created', 'updated', 'completed', 'reopened']);
});

t.test('bad input: 400 naming the field, nothing written', async (t) => {
  const c = await app.customer(u.sales);
  const o = await opportunity(app, u.sales, c.id, { pipelineId: pipeline.id });
  const cases: [unknown, string][] = [
    [{ title: 'x', value: 0 }, 'value'],
    [{ title: 'x', value: 6 }, 'value'],
    [{ title: 'x', urgency: 2.5 }, 'urgency'],
    [{ title: 'x', dueAt: 'tomorrow' }, 'dueAt'],
    [{ title: 'x', dueAt: '2025-02-30T10:00:00Z' }, 'dueAt'],
    [{ title: 'x', key: 'solution accepted' }, 'key'],
    [{ title: '' }, 'title'],
    [{ value: 3 }, 'title'],
    [{ title: 'x', status: 'DONE' }, 'status'],
    [{ title: 'x', assigneeId: 'not-a-uuid' }, 'assigneeId'],
    [{ title: 'x', assigneeId: '00000000-0000-4000-8000-000000000000' }, 'assigneeId'],
    [{ title: 'x', assigneeId: u.partnerBSales.id }, 'assigneeId'],
  ];
  for (const [body, field] of cases) {
    for (const url of [`/v1/customers/${c.id}/actions`, `/v1/opportunities/${o.id}/actions`]) {
      const res = await app.rest(u.sales, 'POST', url, body);
      t.equal(res.status, 400, `${url} ${JSON.stringify(body)}: ${res.raw}`);
      t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      t.ok(res.body.errors?.some((e: { path: string }) => e.path === field), `${JSON.stringify(body)} names ${field || 'the unknown field'}: ${JSON.stringify(res.body.errors)}`);
    }
  }
  t.equal(await actionCount(app, { customerId: c.id }), 0, 'nothing written');

  const a = (await app.rest(u.sales, 'POST', `/v1/customers/${c.id}/actions`, { title: 'Valid' })).body;
  const patches: [unknown, string][] = [
    [{ status: 'FINISHED' }, 'status'],
    [{ urgency: 9 }, 'urgency'],
    [{ value: null }, 'value'],
    [{ dueAt: '1st of May' }, 'dueAt'],
    [{ kind: 'ESCALATION' }, 'kind'],
    [{ assigneeId: u.partnerBSales.id }, 'assigneeId'],
  ];
  for (const [body, field] of patches) {
    const res = await app.rest(u.sales, 'PATCH', `/v1/actions/${a.id}`, body);
    t.equal(res.status, 400, `PATCH ${JSON.stringify(body)}: ${res.raw}`);
    t.ok(res.body.errors?.some((e: { path: string }) => e.path === field), `PATCH ${JSON.stringify(body)} names ${field || 'the unknown field'}`);
  }
  const after = await app.rest(u.sales, 'GET', `/v1/actions/${a.id}`);
  t.equal(after.body.version, 1, 'nothing written by the refused patches');
  t.equal((await app.rest(u.sales, 'GET', `/v1/customers/${c.id}/actions?status=SOMETIMES`)).status, 400, 'bad status filter');
  t.equal((await app.rest(u.sales, 'GET', `/v1/customers/${c.id}/actions?cursor=garbage`)).status, 400, 'bad cursor');
});

t.test("another partner's customer, opportunity and action: 404 everywhere, absent from lists", async (t) => {
  const theirs = await app.customer(u.partnerBSales);
  const theirDeal = await opportunity(app, u.partnerBSales, theirs.id, { pipelineId: pipeline.id });
  const theirAction = (await app.rest(u.partnerBSales, 'POST', `/v1/customers/${theirs.id}/actions`, { title: 'Secret plan' })).body;
  const theirDealAction = (await app.rest(u.partnerBSales, 'POST', `/v1/opportunities/${theirDeal.id}/actions`, { title: 'Secret deal plan' })).body;
  for (const who of [u.partnerASales, u.partnerAManager, u.sales]) {
    t.equal((await app.rest(who, 'GET', `/v1/customers/${theirs.id}/actions`)).status, 404);
    t.equal((await app.rest(who, 'POST', `/v1/customers/${theirs.id}/actions`, { title: 'x' })).status, 404);
    t.equal((await app.rest(who, 'GET', `/v1/opportunities/${theirDeal.id}/actions`)).status, 404);
    t.equal((await app.rest(who, 'POST', `/v1/opportunities/${theirDeal.id}/actions`, { title: 'x' })).status, 404);
    for (const a of [theirAction, theirDealAction]) {
      const got = await app.rest(who, 'GET', `/v1/actions/${a.id}`);
      t.equal(got.status, 404);
      t.notMatch(got.raw, /Secret/, 'nothing leaked');
      t.equal((await app.rest(who, 'PATCH', `/v1/actions/${a.id}`, { status: 'DONE' })).status, 404);
    }
    const agenda = await app.rest(who, 'GET', '/v1/agenda?limit=200');
    t.notOk(agenda.body.data.some((x: { id: string }) => x.id === theirAction.id || x.id === theirDealAction.id), 'not on their agenda');
  }
  t.equal(await actionCount(app, { customerId: theirs.id }), 2, 'nothing written');
  t.equal((await app.rest(u.partnerBManager, 'GET', `/v1/actions/${theirAction.id}`)).status, 200, "the partner's manager sees it");
});

t.test('assignees: the caller, a delegator, or someone within a wider scope', async (t) => {
  const c = await app.customer(u.branchManager);
  const toSales = await app.rest(u.branchManager, 'POST', `/v1/customers/${c.id}/actions`, { title: 'Visit', assigneeId: u.sales.id });
  t.equal(toSales.status, 201, toSales.raw);
  t.match(toSales.body, { assigneeId: u.sales.id, ownerUnitId: u.sales.unitId });
  t.equal((await app.rest(u.sales, 'GET', `/v1/actions/${toSales.body.id}`)).status, 200, 'the assignee sees it');
  t.equal((await app.rest(u.sales, 'PATCH', `/v1/actions/${toSales.body.id}`, { status: 'DONE' })).status, 200, 'and may complete it');
  const toOtherRegion = await app.rest(u.branchManager, 'POST', `/v1/customers/${c.id}/actions`, { title: 'Visit', assigneeId: u.otherSales.id });
  t.equal(toOtherRegion.status, 400, 'a user the caller cannot see answers like an unknown one');
  t.equal(toOtherRegion.body.errors?.[0]?.path, 'assigneeId');

  const mine = await app.customer(u.sales);
  const toColleague = await app.rest(u.sales, 'POST', `/v1/customers/${mine.id}/actions`, { title: 'Visit', assigneeId: u.sales2.id });
  t.equal(toColleague.status, 403, 'an OWN scope assigns only to itself and its delegators');
  t.equal(toColleague.body.errors?.[0]?.path, 'assigneeId');
  const reassign = await app.rest(u.branchManager, 'PATCH', `/v1/actions/${toSales.body.id}`, { assigneeId: u.sales2.id });
  t.equal(reassign.status, 200);
  t.equal(reassign.body.assigneeId, u.sales2.id);
  t.equal((await auditFor(app, toSales.body.id)).at(-1)?.action, 'reassigned');
});

t.test('403: visible but not allowed; the assignee may still move its own action’s status', async (t) => {
  const c = await app.customer(u.sales);
  const a = (await app.rest(u.sales, 'POST', `/v1/customers/${c.id}/actions`, { title: 'Plan' })).body;
  t.equal((await app.rest(u.executive, 'GET', `/v1/actions/${a.id}`)).status, 200, 'the executive reads');
  t.equal((await app.rest(u.executive, 'PATCH', `/v1/actions/${a.id}`, { title: 'x' })).status, 403, 'but may not write');
  t.equal((await app.rest(u.executive, 'POST', `/v1/customers/${c.id}/actions`, { title: 'x' })).status, 403, 'nor plan');
  // The executive plans nothing itself: the admin gives it one.
  const forExec = await action(app, u.admin, { customerId: c.id }, { assignee: u.executive });
  t.equal((await app.rest(u.executive, 'PATCH', `/v1/actions/${forExec.id}`, { status: 'DONE' })).status, 200, 'its own action: status allowed');
  t.equal((await app.rest(u.executive, 'PATCH', `/v1/actions/${forExec.id}`, { status: 'OPEN', title: 'x' })).status, 403, 'other fields not');
});

t.test('delegation: the delegate plans and completes on the delegator’s behalf', async (t) => {
  const delegator = await app.user(co.branch, ['sales']);
  const delegateUser = await app.user(co.branch, ['sales']);
  const c = await app.customer(delegator);
  t.equal((await app.rest(delegateUser, 'POST', `/v1/customers/${c.id}/actions`, { title: 'x' })).status, 404, 'before the delegation: invisible');
  await delegation(app, delegator, delegateUser);
  const made = await app.rest(delegateUser, 'POST', `/v1/customers/${c.id}/actions`, { title: 'Follow up', assigneeId: delegator.id });
  t.equal(made.status, 201, made.raw);
  t.match(made.body, { assigneeId: delegator.id, onBehalfOfId: delegator.id });
  t.same((await auditFor(app, made.body.id)).map((r) => [r.actor_id, r.on_behalf_of_id]), [[delegateUser.id, delegator.id]]);
  const own = await app.rest(delegateUser, 'POST', `/v1/customers/${c.id}/actions`, { title: 'Mine on their customer' });
  t.match(own.body, { assigneeId: delegateUser.id, onBehalfOfId: delegator.id }, "on the delegator's customer: on its behalf");
  const done = await app.rest(delegateUser, 'PATCH', `/v1/actions/${made.body.id}`, { status: 'DONE' });
  t.equal(done.status, 200);
  const last = (await auditFor(app, made.body.id)).at(-1);
  t.same([last?.action, last?.actor_id, last?.on_behalf_of_id], ['completed', delegateUser.id, delegator.id]);
  const completed = (await eventsFor(app, made.body.id)).at(-1);
  t.same(completed && { type: completed.type, actor_id: completed.actor_id, on_behalf_of_id: completed.on_behalf_of_id }, { type: 'action.completed', actor_id: delegateUser.id, on_behalf_of_id: delegator.id });
});
