import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, defaultPipeline, delegation, opportunity, stageOf, tag } from '../../helpers/factories.js';
import { errorPaths, isProblem } from '../../helpers/problems.js';
import { auditFor, eventsFor, findRow } from '../../helpers/records.js';
import { opportunitiesNamed, transitionRows } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const { sales, sales2, branchManager, partnerASales, partnerBSales, partnerBManager, admin, service, executive } = c.users;
const pl = await defaultPipeline(app, sales);
const S = (key: string) => stageOf(pl, key);

t.test('create: defaults, money, qualification, the customer becomes an OPPORTUNITY', async (t) => {
  const cust = await app.customer(sales, { lifecycleStage: 'PROSPECT' });
  const res = await app.rest(sales, 'POST', '/v1/opportunities', {
    customerId: cust.id,
    name: 'Boiler replacement',
    amount: '1500',
    currency: 'EUR',
    expectedCloseDate: '2030-06-30',
    qualification: { needDefined: true, paymentCapability: 'medium' },
  });
  t.equal(res.status, 201, res.raw);
  t.equal(res.headers.location, `/v1/opportunities/${res.body.id}`);
  t.equal(res.headers.etag, '"1"');
  t.match(res.body, {
    customerId: cust.id,
    pipelineId: pl.id,
    stageId: S('QUALIFICATION').id,
    stageKey: 'QUALIFICATION',
    amount: '1500.00',
    currency: 'EUR',
    expectedCloseDate: '2030-06-30',
    status: 'OPEN',
    qualification: { needDefined: true, paymentCapability: 'MEDIUM' },
    ownerUserId: sales.id,
    ownerUnitId: sales.unitId,
    closedAt: null,
    version: 1,
  });
  t.equal(typeof res.body.amount, 'string', 'money is a string');
  const customer = await findRow(app, 'customers', cust.id);
  t.equal(customer?.lifecycle_stage, 'OPPORTUNITY', 'the customer moved forward');
  const audits = await auditFor(app, res.body.id);
  t.same(audits.map((a) => [a.action, a.actor_id]), [['created', sales.id]]);
  t.same((await eventsFor(app, res.body.id)).map((e) => e.type), ['opportunity.created']);
  t.ok((await auditFor(app, cust.id)).some((a) => a.action === 'lifecycle_transitioned' && a.after.cause === 'OPPORTUNITY'), 'lifecycle transition recorded');

  // Only forward: a CUSTOMER stays a CUSTOMER.
  const cust2 = await app.customer(sales, { lifecycleStage: 'CUSTOMER' });
  await opportunity(app, sales, cust2.id);
  t.equal((await findRow(app, 'customers', cust2.id))?.lifecycle_stage, 'CUSTOMER', 'never moved back');
});

t.test('create: bad input answers 400 naming the field, and writes nothing', async (t) => {
  const cust = await app.customer(sales);
  const other = await app.customer(partnerBSales);
  const cases: [string, Record<string, unknown>, string][] = [
    ['amount with 3 decimals', { amount: '12.345', currency: 'EUR' }, 'amount'],
    ['negative amount', { amount: '-5', currency: 'EUR' }, 'amount'],
    ['exponent', { amount: '1e3', currency: 'EUR' }, 'amount'],
    ['amount as a number', { amount: 12.5, currency: 'EUR' }, 'amount'],
    ['17 integer digits', { amount: '12345678901234567', currency: 'EUR' }, 'amount'],
    ['lower-case currency', { amount: '10', currency: 'eur' }, 'currency'],
    ['amount without currency', { amount: '10' }, 'currency'],
    ['bad close date', { expectedCloseDate: '2030-02-30' }, 'expectedCloseDate'],
    ['unknown qualification fact', { qualification: { needDefined: true, mood: 'good' } }, 'qualification.mood'],
    ['paymentCapability out of range', { qualification: { paymentCapability: 'HUGE' } }, 'qualification.paymentCapability'],
    ['boolean fact as string', { qualification: { budgetKnown: 'yes' } }, 'qualification.budgetKnown'],
    ['unknown field', { colour: 'red' }, 'colour'],
    ['unknown pipeline', { pipelineId: '00000000-0000-4000-8000-000000000000' }, 'pipelineId'],
    ['stage given on create', { stageId: S('NEGOTIATION').id }, 'stageId'],
  ];
  for (const [label, extra, path] of cases) {
    const name = `bad-${tag()}`;
    const res = await app.rest(sales, 'POST', '/v1/opportunities', { customerId: cust.id, name, ...extra });
    t.equal(res.status, 400, `${label}: 400`);
    t.ok(isProblem(res.headers), `${label}: problem+json`);
    t.ok(errorPaths(res.body.errors).includes(path), `${label}: names ${path} (${JSON.stringify(res.body.errors)})`);
    t.equal(await opportunitiesNamed(app, name), 0, `${label}: nothing written`);
  }
  const name = `bad-${tag()}`;
  const invisible = await app.rest(sales, 'POST', '/v1/opportunities', { customerId: other.id, name });
  t.equal(invisible.status, 400, "another partner's customer: like an unknown id");
  t.same(errorPaths(invisible.body.errors), ['customerId']);
  const unknown = await app.rest(sales, 'POST', '/v1/opportunities', { customerId: '00000000-0000-4000-8000-000000000000', name });
  t.same([unknown.status, errorPaths(unknown.body.errors)], [400, ['customerId']], 'unknown customer: the same answer');
  t.equal(await opportunitiesNamed(app, name), 0);
  const missing = await app.rest(sales, 'POST', '/v1/opportunities', { name });
  t.same([missing.status, errorPaths(missing.body.errors)], [400, ['customerId']], 'customerId is required');
});

t.test('create: owners follow the customers rule', async (t) => {
  const cust = await app.customer(sales);
  const toColleague = await app.rest(sales, 'POST', '/v1/opportunities', { customerId: cust.id, name: 'x', ownerUserId: sales2.id });
  t.equal(toColleague.status, 403, 'an OWN scope cannot give a new opportunity to a colleague');
  t.same(errorPaths(toColleague.body.errors), ['ownerUserId']);
  const mcust = await app.customer(branchManager);
  const byManager = await app.rest(branchManager, 'POST', '/v1/opportunities', { customerId: mcust.id, name: 'x', ownerUserId: sales2.id });
  t.equal(byManager.status, 201, 'a manager may');
  t.equal(byManager.body.ownerUserId, sales2.id);
  const outside = await app.rest(branchManager, 'POST', '/v1/opportunities', { customerId: mcust.id, name: 'x', ownerUserId: partnerBSales.id });
  t.same([outside.status, errorPaths(outside.body.errors)], [400, ['ownerUserId']], 'a user outside sight is unknown');
  t.equal((await app.rest(service, 'POST', '/v1/opportunities', { customerId: cust.id, name: 'x' })).status, 403, 'service may not create opportunities');
  t.equal((await app.rest(executive, 'POST', '/v1/opportunities', { customerId: cust.id, name: 'x' })).status, 403, 'executives write nothing');
});

t.test('read and patch: merge patch, qualification merge, stage never patched, If-Match', async (t) => {
  const cust = await app.customer(sales);
  const o = await opportunity(app, sales, cust.id, { qualification: { needDefined: true, purchaseMotive: 'expansion' } });
  const got = await app.rest(sales, 'GET', `/v1/opportunities/${o.id}`);
  t.equal(got.status, 200);
  t.equal(got.headers.etag, '"1"');

  const p1 = await app.rest(sales, 'PATCH', `/v1/opportunities/${o.id}`, { qualification: { decisionMakerKnown: true, purchaseMotive: null }, amount: '99.9', currency: 'USD' }, { 'if-match': '"1"' });
  t.equal(p1.status, 200, p1.raw);
  t.same(p1.body.qualification, { needDefined: true, decisionMakerKnown: true }, 'merged fact by fact; null removes');
  t.equal(p1.body.amount, '99.90');
  t.equal(p1.body.version, 2);

  const same = await app.rest(sales, 'PATCH', `/v1/opportunities/${o.id}`, { amount: '0099.90', qualification: { needDefined: true } });
  t.equal(same.body.version, 2, 'a PATCH that changes nothing writes nothing');
  t.equal((await auditFor(app, o.id)).length, 2, 'no audit row for it');

  const stale = await app.rest(sales, 'PATCH', `/v1/opportunities/${o.id}`, { name: 'late' }, { 'if-match': '"1"' });
  t.equal(stale.status, 412);
  t.equal(stale.body.currentVersion, 2);

  for (const [field, value] of [
    ['stageId', S('NEGOTIATION').id],
    ['stageKey', 'WON'],
    ['status', 'WON'],
    ['amount', '1.234'],
    ['currency', 'euro'],
    ['qualification.bogus', true],
  ] as const) {
    const [top, sub] = field.split('.') as [string, string | undefined];
    const body = sub ? { [top]: { [sub]: value } } : { [top]: value };
    const res = await app.rest(sales, 'PATCH', `/v1/opportunities/${o.id}`, body);
    t.equal(res.status, 400, `${field}: 400`);
    t.ok(errorPaths(res.body.errors).includes(field), `${field}: named (${res.raw})`);
  }
  const clearCurrency = await app.rest(sales, 'PATCH', `/v1/opportunities/${o.id}`, { currency: null });
  t.same([clearCurrency.status, errorPaths(clearCurrency.body.errors)], [400, ['currency']], 'an amount keeps its currency');
  t.equal((await findRow(app, 'opportunities', o.id))?.version, 2, 'nothing written by the refused patches');

  t.equal((await app.rest(service, 'GET', `/v1/opportunities/${o.id}`)).status, 200, "service sees its unit's opportunities");
  t.equal((await app.rest(sales2, 'GET', `/v1/opportunities/${o.id}`)).status, 404, "a colleague with OWN scope does not");
  const svcPatch = await app.rest(service, 'PATCH', `/v1/opportunities/${o.id}`, { name: 'by service' });
  t.equal(svcPatch.status, 200, 'service may update within its unit');
  t.equal((await app.rest(executive, 'PATCH', `/v1/opportunities/${o.id}`, { name: 'exec' })).status, 403, 'visible, not writable: 403');
});

t.test("another partner's opportunity does not exist", async (t) => {
  const theirs = await opportunity(app, partnerBSales, (await app.customer(partnerBSales)).id, { name: `hidden-${tag()}` });
  for (const who of [sales, partnerASales, branchManager]) {
    t.equal((await app.rest(who, 'GET', `/v1/opportunities/${theirs.id}`)).status, 404);
    t.equal((await app.rest(who, 'PATCH', `/v1/opportunities/${theirs.id}`, { name: 'x' })).status, 404);
    t.equal((await app.rest(who, 'POST', `/v1/opportunities/${theirs.id}/transitions`, { toStageKey: 'LOST', lostReason: 'x' })).status, 404);
    t.equal((await app.rest(who, 'GET', `/v1/opportunities/${theirs.id}/transitions`)).status, 404);
    const list = await app.rest(who, 'GET', `/v1/opportunities?customerId=${theirs.customerId}`);
    t.same(list.body.data, [], 'absent from lists');
  }
  t.equal((await app.rest(partnerBManager, 'GET', `/v1/opportunities/${theirs.id}`)).status, 200, 'their own manager sees it');
  t.equal((await findRow(app, 'opportunities', theirs.id))?.version, 1, 'untouched');
});

t.test('list: filters, sorts and keyset pages', async (t) => {
  const owner = await app.user(c.branch, ['sales']);
  const cust = await app.customer(owner);
  const made: { id: string }[] = [];
  for (const [amount, close] of [
    ['100.00', '2030-01-10'],
    ['250.50', '2030-02-10'],
    [null, '2030-03-10'],
    ['99.99', null],
    ['1000.00', '2030-05-10'],
  ] as const) {
    made.push(await opportunity(app, owner, cust.id, amount ? { amount, currency: 'EUR', expectedCloseDate: close } : { expectedCloseDate: close }));
  }
  const walk = async (query: string) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await app.rest(owner, 'GET', `/v1/opportunities?customerId=${cust.id}&limit=2&${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (res.status !== 200) throw new Error(res.raw);
      ids.push(...res.body.data.map((x: { id: string }) => x.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    return ids;
  };
  const id = (i: number) => made[i]?.id;
  t.same(await walk('sort=amount'), [id(3), id(0), id(1), id(4), id(2)], 'amount ascending, no amount last');
  t.same(await walk('sort=-amount'), [id(4), id(1), id(0), id(3), id(2)], 'amount descending, no amount last');
  t.same(await walk('sort=expectedCloseDate'), [id(0), id(1), id(2), id(4), id(3)], 'close date, none last');
  t.same(await walk('sort=-createdAt'), [...made].reverse().map((m) => m.id), 'newest first by default order');
  t.same(await walk('amountMin=100&amountMax=300'), [id(1), id(0)], 'amount range (decimal strings)');
  t.same(await walk('expectedCloseFrom=2030-02-01&expectedCloseTo=2030-03-31&sort=expectedCloseDate'), [id(1), id(2)], 'close date range');
  t.same((await walk('stageKey=qualification')).length, 5, 'by stage key');
  t.same((await walk(`stageId=${S('WON').id}`)).length, 0, 'by stage id');
  t.same((await walk(`ownerUserId=${owner.id}&status=OPEN&pipelineId=${pl.id}&ownerUnitId=${owner.unitId}`)).length, 5, 'by owner, status, pipeline');
  for (const bad of ['amountMin=1e3', 'amountMax=-1', 'sort=name', 'status=DONE', 'expectedCloseFrom=tomorrow', 'cursor=garbage', 'limit=500']) {
    const res = await app.rest(owner, 'GET', `/v1/opportunities?${bad}`);
    t.equal(res.status, 400, `${bad}: 400`);
    t.ok(errorPaths(res.body.errors).includes(bad.split('=')[0] ?? ''), `${bad}: names the parameter`);
  }
});

t.test('transitions: the rules', async (t) => {
  const cust = await app.customer(sales);
  const o = await opportunity(app, sales, cust.id, { qualification: { judgement: 'Known buyer' } });
  const move = (body: Record<string, unknown>, who = sales, headers: Record<string, string> = {}) => app.rest(who, 'POST', `/v1/opportunities/${o.id}/transitions`, body, headers);

  const other = await app.rest(admin, 'POST', '/v1/pipelines', {
    name: `Other ${tag()}`,
    stages: [
      { key: 'OPEN', name: 'Open', probability: 10 },
      { key: 'WON', name: 'Won', probability: 100, outcome: 'WON' },
      { key: 'LOST', name: 'Lost', probability: 0, outcome: 'LOST' },
    ],
  });
  t.equal(other.status, 201, other.raw);
  const foreign = await move({ toStageId: other.body.stages[0].id });
  t.same([foreign.status, errorPaths(foreign.body.errors)], [400, ['toStageId']], "a stage of another pipeline: 400 naming toStageId");
  const both = await move({ toStageId: S('ACCEPTANCE').id, toStageKey: 'ACCEPTANCE' });
  t.same([both.status, errorPaths(both.body.errors)], [400, ['toStageId']], 'exactly one of toStageId/toStageKey');
  t.same((await move({ toStageKey: 'QUALIFICATION' })).status, 409, 'to the current stage: 409');
  const extra = await move({ toStageKey: 'ACCEPTANCE', lostReason: 'x' });
  t.same([extra.status, errorPaths(extra.body.errors)], [400, ['lostReason']], 'lostReason only when losing');

  const fwd = await move({ toStageId: S('ACCEPTANCE').id }, sales, { 'if-match': '"1"' });
  t.equal(fwd.status, 201, fwd.raw);
  t.match(fwd.body, { opportunityId: o.id, customerId: cust.id, fromStageId: S('QUALIFICATION').id, toStageId: S('ACCEPTANCE').id, reason: null, actorId: sales.id, onBehalfOfId: null });
  t.equal(typeof fwd.body.secondsInFromStage, 'number');
  t.equal((await move({ toStageKey: 'QUALIFICATION', reason: 'x' }, sales, { 'if-match': '"1"' })).status, 412, 'If-Match honoured');

  const back = await move({ toStageKey: 'QUALIFICATION' });
  t.same([back.status, errorPaths(back.body.errors)], [400, ['reason']], 'moving back needs a reason');
  t.equal((await move({ toStageKey: 'QUALIFICATION', reason: 'budget frozen until Q3' })).status, 201, 'with a reason it goes');

  const won = await move({ toStageKey: 'WON' });
  t.equal(won.status, 422, 'WON needs its gates');
  t.ok(isProblem(won.headers));
  t.ok(won.body.unmet.some((u: { criterion: string }) => u.criterion === 'amount'), 'the amount is listed');

  const lostNoReason = await move({ toStageKey: 'LOST' });
  t.same([lostNoReason.status, errorPaths(lostNoReason.body.errors)], [400, ['lostReason']], 'LOST needs a lostReason');
  const lost = await move({ toStageKey: 'LOST', lostReason: 'price', competitor: 'Acme' });
  t.equal(lost.status, 201);
  t.match(lost.body, { lostReason: 'price', competitor: 'Acme' });
  const row = await findRow(app, 'opportunities', o.id);
  t.match(row, { status: 'LOST', lost_reason: 'price', competitor: 'Acme' });
  t.ok(row?.closed_at, 'closedAt set');

  const reopenBySales = await move({ toStageKey: 'QUALIFICATION', reason: 'they called back' });
  t.equal(reopenBySales.status, 403, 'reopening needs a manager');
  const noReason = await move({ toStageKey: 'QUALIFICATION' }, branchManager);
  t.same([noReason.status, errorPaths(noReason.body.errors)], [400, ['reason']], 'reopening needs a reason');
  const reopened = await move({ toStageKey: 'QUALIFICATION', reason: 'they called back' }, branchManager);
  t.equal(reopened.status, 201, reopened.raw);
  t.match(await findRow(app, 'opportunities', o.id), { status: 'OPEN', closed_at: null, lost_reason: null });

  const list = await app.rest(sales, 'GET', `/v1/opportunities/${o.id}/transitions?limit=2`);
  t.equal(list.status, 200);
  t.same(list.body.data.map((x: { toStageId: string }) => x.toStageId), [S('ACCEPTANCE').id, S('QUALIFICATION').id], 'oldest first');
  const next = await app.rest(sales, 'GET', `/v1/opportunities/${o.id}/transitions?limit=2&cursor=${encodeURIComponent(list.body.nextCursor)}`);
  t.same(next.body.data.map((x: { toStageId: string }) => x.toStageId), [S('LOST').id, S('QUALIFICATION').id]);
  t.equal((await transitionRows(app, o.id)).length, 4);
  const types = (await eventsFor(app, o.id)).map((e) => e.type);
  t.ok(types.includes('opportunity.transitioned') && types.includes('opportunity.lost') && types.includes('opportunity.reopened'), types.join(','));
});

t.test('WON: status, closedAt, the customer becomes a CUSTOMER, opportunity.won for the ERP', async (t) => {
  const cust = await app.customer(sales, { lifecycleStage: 'PROSPECT' });
  const o = await opportunity(app, sales, cust.id, {
    amount: '25000',
    currency: 'EUR',
    qualification: { needDefined: true, decisionMakerKnown: true, budgetKnown: true, timingKnown: true },
  });
  const skip = await app.rest(sales, 'POST', `/v1/opportunities/${o.id}/transitions`, { toStageKey: 'WON' });
  t.equal(skip.status, 422, 'skipping NEGOTIATION does not skip its key action');
  t.same(skip.body.unmet.map((u: { criterion: string; stageKey: string }) => `${u.stageKey}:${u.criterion}`), ['NEGOTIATION:action:SOLUTION_ACCEPTED']);
  await action(app, sales, { opportunityId: o.id }, { title: 'Solution accepted by the customer', key: 'SOLUTION_ACCEPTED', status: 'DONE' });
  const won = await app.rest(sales, 'POST', `/v1/opportunities/${o.id}/transitions`, { toStageKey: 'won' });
  t.equal(won.status, 201, won.raw);
  const row = await findRow(app, 'opportunities', o.id);
  t.equal(row?.status, 'WON');
  t.ok(row?.closed_at);
  t.equal((await findRow(app, 'customers', cust.id))?.lifecycle_stage, 'CUSTOMER');
  const ev = (await eventsFor(app, o.id)).find((e) => e.type === 'opportunity.won');
  t.ok(ev, 'opportunity.won written');
  t.match(ev?.payload.after, { amount: '25000.00', currency: 'EUR', customerId: cust.id, status: 'WON' });
  const clear = await app.rest(sales, 'PATCH', `/v1/opportunities/${o.id}`, { amount: null });
  t.same([clear.status, errorPaths(clear.body.errors)], [400, ['amount']], 'a won opportunity keeps its amount');
});

t.test('delegation: a delegate moves the delegator’s opportunity on its behalf', async (t) => {
  const delegator = await app.user(c.branch, ['sales']);
  const delegate = await app.user(c.branch, ['sales']);
  const o = await opportunity(app, delegator, (await app.customer(delegator)).id);
  await delegation(app, delegator, delegate);
  const res = await app.rest(delegate, 'POST', `/v1/opportunities/${o.id}/transitions`, { toStageKey: 'LOST', lostReason: 'no budget' });
  t.equal(res.status, 201, res.raw);
  t.equal(res.body.actorId, delegate.id);
  t.equal(res.body.onBehalfOfId, delegator.id);
});
