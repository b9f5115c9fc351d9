import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, opportunity, testPipeline } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { auditFor, count, eventsFor, ownershipOf, row } from '../../helpers/records.js';
import { partnerAdmin, TRANSFER_FIELDS } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const pl = await testPipeline(app);

const TRANSFER = `mutation($input: TransferInput!) { transferWork(input: $input) { ${TRANSFER_FIELDS} } }`;
const transfersFrom = (userId: string) => count(app, sql`SELECT count(*) AS n FROM transfers WHERE from_user_id = ${userId}::uuid`);
const historyOfTransfer = (id: string) => count(app, sql`SELECT count(*) AS n FROM ownership_changes WHERE transfer_id = ${id}::uuid`);

t.test('a partner salesperson leaves: the partner manager transfers her book, then deactivates her', async (t) => {
  const c = await company(app);
  const leaver = c.users.partnerASales;
  const heir = c.users.partnerASubSales;
  const c1 = await app.customer(leaver);
  const c2 = await app.customer(leaver);
  t.equal((await app.rest(c.users.partnerAManager, 'POST', `/v1/customers/${c2.id}/freeze`, {})).status, 200, 'a frozen customer is hers too');
  const other = await app.customer(c.users.partnerAManager);
  const openOpp = (await opportunity(app, leaver, c1.id, { pipelineId: pl.id })).id;
  const wonOpp = (await opportunity(app, leaver, c1.id, { pipelineId: pl.id, stage: 'WON' })).id;
  const a1 = (await action(app, leaver, { opportunityId: openOpp })).id;
  // Her manager gave her an action on his own customer: it goes to the heir too.
  const a2 = (await action(app, c.users.partnerAManager, { customerId: other.id }, { assignee: leaver })).id;
  const done = (await action(app, leaver, { customerId: c1.id }, { status: 'DONE' })).id;
  const c1Before = await row(app, 'customers', c1.id);
  // The partner's own user administrator deactivates; the partner manager hands over the book.
  const userAdmin = await partnerAdmin(app, c.partnerA);

  const blocked = await app.rest(userAdmin, 'PATCH', `/v1/users/${leaver.id}`, { active: false });
  t.equal(problemOf(blocked, 409), null, 'deactivation waits for the transfer');

  const res = await app.rest(c.users.partnerAManager, 'POST', '/v1/transfers', { fromUserId: leaver.id, toUserId: heir.id });
  t.equal(res.status, 201, res.raw);
  t.match(res.body, { id: String, fromUserId: leaver.id, toUserId: heir.id, toUnitId: c.partnerASub.id, actorId: c.users.partnerAManager.id, at: String });
  t.same(res.body.counts, { customers: 2, opportunities: 1, actions: 2 }, 'counts what moved');

  for (const id of [c1.id, c2.id]) {
    const r = await row(app, 'customers', id);
    t.same([r.owner_user_id, r.owner_unit_id], [heir.id, c.partnerASub.id], 'customer owned by the heir, in her unit');
  }
  t.equal((await row(app, 'customers', c1.id)).version, c1Before.version + 1, 'version bumped');
  t.same([(await row(app, 'opportunities', openOpp)).owner_user_id, (await row(app, 'opportunities', openOpp)).owner_unit_id], [heir.id, c.partnerASub.id]);
  t.equal((await row(app, 'opportunities', openOpp)).version, 2);
  t.equal((await row(app, 'opportunities', wonOpp)).owner_user_id, leaver.id, 'a won opportunity keeps who won it');
  for (const id of [a1, a2]) {
    const r = await row(app, 'actions', id);
    t.same([r.assignee_id, r.owner_unit_id, r.version], [heir.id, c.partnerASub.id, 2], 'open action reassigned');
  }
  t.equal((await row(app, 'actions', done)).assignee_id, leaver.id, 'a done action keeps its assignee');

  // Every moved record's timeline shows the transfer.
  const expected: [string, string, string][] = [
    ['customer', c1.id, c1.id],
    ['customer', c2.id, c2.id],
    ['opportunity', openOpp, c1.id],
    ['action', a1, c1.id],
    ['action', a2, other.id],
  ];
  for (const [type, id, customerId] of expected) {
    const h = await ownershipOf(app, id);
    t.equal(h.length, 1, `${type} has one ownership change`);
    t.match(h[0], { entity_type: type, customer_id: customerId, from_user_id: leaver.id, to_user_id: heir.id, to_unit_id: c.partnerASub.id, cause: 'TRANSFER', transfer_id: res.body.id, actor_id: c.users.partnerAManager.id });
    t.equal((await eventsFor(app, id, `${type}.transferred`)).length, 1, `${type}: one event`);
  }
  t.equal(await historyOfTransfer(res.body.id), 5, 'five rows, no more');
  t.same((await auditFor(app, res.body.id)).map((a) => a.action), ['created'], 'one audit row for the transfer');
  t.same((await row(app, 'transfers', res.body.id)).counts, res.body.counts);

  // The heir now works them; the leaver can go.
  t.equal((await app.rest(heir, 'GET', `/v1/customers/${c1.id}`)).status, 200, 'the heir sees them');
  const off = await app.rest(userAdmin, 'PATCH', `/v1/users/${leaver.id}`, { active: false });
  t.equal(off.status, 200, off.raw);
  t.equal(off.body.active, false);
});

t.test('to a unit’s pool through GraphQL: customers and opportunities to the pool, open actions to its head', async (t) => {
  const c = await company(app);
  const leaver = c.users.sales;
  const cust = await app.customer(leaver);
  const opp = (await opportunity(app, leaver, cust.id, { pipelineId: pl.id })).id;
  const act = (await action(app, leaver, { customerId: cust.id })).id;
  const g = await app.gql(c.users.branchManager, TRANSFER, { input: { fromUserId: leaver.id, toUnitId: c.branch.id } });
  t.same(g.errors, undefined);
  t.match(g.data.transferWork, { fromUserId: leaver.id, toUserId: null, toUnitId: c.branch.id, counts: { customers: 1, opportunities: 1, actions: 1 } });
  t.same([(await row(app, 'customers', cust.id)).owner_user_id, (await row(app, 'customers', cust.id)).owner_unit_id], [null, c.branch.id], 'customer in the pool');
  t.equal((await row(app, 'opportunities', opp)).owner_user_id, null, 'opportunity in the pool');
  t.equal((await row(app, 'actions', act)).assignee_id, c.users.branchManager.id, 'the action goes to the unit’s head');
  t.match(await ownershipOf(app, act), [{ to_user_id: c.users.branchManager.id, to_unit_id: c.branch.id, transfer_id: g.data.transferWork.id }]);
  t.match(await ownershipOf(app, cust.id), [{ to_user_id: null, to_unit_id: c.branch.id }]);
});

t.test('half-way failure rolls everything back: a unit without a head while actions exist', async (t) => {
  const c = await company(app);
  const headless = await app.unit('DEPARTMENT', c.branch);
  const leaver = c.users.sales;
  const cust = await app.customer(leaver);
  const opp = (await opportunity(app, leaver, cust.id, { pipelineId: pl.id })).id;
  const act = (await action(app, leaver, { customerId: cust.id })).id;
  const before = { cust: await row(app, 'customers', cust.id), opp: await row(app, 'opportunities', opp), act: await row(app, 'actions', act) };
  const eventsBefore = await count(app, sql`SELECT count(*) AS n FROM events WHERE entity_id IN (${cust.id}::uuid, ${opp}::uuid, ${act}::uuid)`);

  const res = await app.rest(c.users.branchManager, 'POST', '/v1/transfers', { fromUserId: leaver.id, toUnitId: headless.id });
  t.equal(problemOf(res, 422, ['toUnitId']), null, res.raw);
  t.match(res.body.detail, /no active manager/);
  t.same(await row(app, 'customers', cust.id), before.cust, 'the customer did not move (it was moved, then rolled back)');
  t.same(await row(app, 'opportunities', opp), before.opp, 'nor the opportunity');
  t.same(await row(app, 'actions', act), before.act, 'nor the action');
  for (const id of [cust.id, opp, act]) t.same(await ownershipOf(app, id), [], 'no history row');
  t.equal(await count(app, sql`SELECT count(*) AS n FROM events WHERE entity_id IN (${cust.id}::uuid, ${opp}::uuid, ${act}::uuid)`), eventsBefore, 'no event');
  t.equal(await transfersFrom(leaver.id), 0, 'no transfer row');
  const g = await app.gql(c.users.branchManager, TRANSFER, { input: { fromUserId: leaver.id, toUnitId: headless.id } });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.match(g.errors?.[0]?.extensions, { status: 422 });

  // Without open actions the same unit is a fine target.
  t.equal((await app.rest(leaver, 'PATCH', `/v1/actions/${act}`, { status: 'DONE' })).status, 200, 'the action is done');
  const ok = await app.rest(c.users.branchManager, 'POST', '/v1/transfers', { fromUserId: leaver.id, toUnitId: headless.id });
  t.equal(ok.status, 201, ok.raw);
  t.same(ok.body.counts, { customers: 1, opportunities: 1, actions: 0 });
});

t.test('another partner’s records: refused, and nothing leaks', async (t) => {
  const c = await company(app);
  const victim = c.users.partnerBSales;
  const cust = await app.customer(victim);
  const pm = c.users.partnerAManager;
  const probe = await app.rest(pm, 'POST', '/v1/transfers', { fromUserId: victim.id, toUserId: c.users.partnerASales.id });
  const unknown = await app.rest(pm, 'POST', '/v1/transfers', { fromUserId: randomUUID(), toUserId: c.users.partnerASales.id });
  t.equal(problemOf(probe, 400, ['fromUserId']), null, 'another partner’s user does not exist for a partner manager');
  t.equal(probe.body.detail, unknown.body.detail, 'the same answer as an unknown id');
  const g = await app.gql(pm, TRANSFER, { input: { fromUserId: victim.id, toUserId: c.users.partnerASales.id } });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(g), ['fromUserId']);

  const own = await app.customer(c.users.partnerASales);
  const out1 = await app.rest(pm, 'POST', '/v1/transfers', { fromUserId: c.users.partnerASales.id, toUserId: victim.id });
  t.equal(problemOf(out1, 400, ['toUserId']), null, 'to another partner’s user: no such user');
  const out2 = await app.rest(pm, 'POST', '/v1/transfers', { fromUserId: c.users.partnerASales.id, toUnitId: c.partnerB.id });
  t.equal(problemOf(out2, 400, ['toUnitId']), null, 'to another partner’s unit: no such unit');
  const out3 = await app.rest(pm, 'POST', '/v1/transfers', { fromUserId: c.users.partnerASales.id, toUnitId: c.region.id });
  t.equal(problemOf(out3, 403, ['toUnitId']), null, 'to the region above the partner: outside its reach');
  const out4 = await app.rest(pm, 'POST', '/v1/transfers', { fromUserId: c.users.partnerASales.id, toUserId: c.users.sales.id });
  t.equal(problemOf(out4, 400, ['toUserId']), null, 'to the company’s staff: no such user');
  const company2 = await app.rest(c.users.branchManager, 'POST', '/v1/transfers', { fromUserId: c.users.sales.id, toUserId: c.users.otherSales.id });
  t.equal(problemOf(company2, 400, ['toUserId']), null, 'a branch manager cannot reach another branch');
  t.equal((await row(app, 'customers', cust.id)).owner_user_id, victim.id, 'nothing moved');
  t.equal((await row(app, 'customers', own.id)).owner_user_id, c.users.partnerASales.id, 'nothing moved');
  t.equal(await transfersFrom(c.users.partnerASales.id), 0);
  t.equal(await transfersFrom(victim.id), 0);
});

t.test('bad input answers 400 naming the field; who may transfer', async (t) => {
  const c = await company(app);
  const inactive = await app.user(c.branch, ['sales'], { active: false });
  const cust = await app.customer(c.users.sales);
  const m = c.users.branchManager;
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['fromUserId missing', { toUserId: c.users.sales2.id }, ['fromUserId']],
    ['no target', { fromUserId: c.users.sales.id }, ['toUserId']],
    ['two targets', { fromUserId: c.users.sales.id, toUserId: c.users.sales2.id, toUnitId: c.branch.id }, ['toUserId']],
    ['from == to', { fromUserId: c.users.sales.id, toUserId: c.users.sales.id }, ['toUserId']],
    ['unknown field', { fromUserId: c.users.sales.id, toUserId: c.users.sales2.id, reason: 'x' }, ['reason']],
    ['bad uuid', { fromUserId: 'x', toUserId: c.users.sales2.id }, ['fromUserId']],
    ['unknown target', { fromUserId: c.users.sales.id, toUserId: randomUUID() }, ['toUserId']],
    ['inactive target', { fromUserId: c.users.sales.id, toUserId: inactive.id }, ['toUserId']],
    ['unknown unit', { fromUserId: c.users.sales.id, toUnitId: randomUUID() }, ['toUnitId']],
  ];
  for (const [name, body, paths] of cases) t.equal(problemOf(await app.rest(m, 'POST', '/v1/transfers', body), 400, paths), null, name);
  const g = await app.gql(m, TRANSFER, { input: { fromUserId: c.users.sales.id, toUserId: c.users.sales.id } });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(gqlPaths(g), ['input.toUserId']);
  t.equal(problemOf(await app.rest(c.users.sales, 'POST', '/v1/transfers', { fromUserId: c.users.sales.id, toUserId: c.users.sales2.id }), 403), null, 'a salesperson cannot transfer, even its own book');
  t.same((await app.gql(c.users.sales, TRANSFER, { input: { fromUserId: c.users.sales.id, toUserId: c.users.sales2.id } })).codes, ['FORBIDDEN']);
  t.equal(problemOf(await app.rest(c.users.executive, 'POST', '/v1/transfers', { fromUserId: c.users.sales.id, toUserId: c.users.sales2.id }), 403), null, 'an executive writes nothing');
  t.equal((await row(app, 'customers', cust.id)).owner_user_id, c.users.sales.id, 'nothing moved');
  t.equal(await transfersFrom(c.users.sales.id), 0, 'nothing written');

  const admin = await app.rest(c.users.admin, 'POST', '/v1/transfers', { fromUserId: c.users.sales.id, toUserId: c.users.otherSales.id });
  t.equal(admin.status, 201, 'an admin may move across branches');
  t.same(admin.body.counts, { customers: 1, opportunities: 0, actions: 0 });
  const empty = await app.rest(c.users.admin, 'POST', '/v1/transfers', { fromUserId: c.users.sales.id, toUserId: c.users.otherSales.id });
  t.same(empty.body.counts, { customers: 0, opportunities: 0, actions: 0 }, 'an empty book transfers nothing, and says so');
});

t.test('a concurrent edit is not lost: the transfer waits for the row lock', { skip: !process.env.DATABASE_URL && 'needs PostgreSQL (PGlite is one connection)' }, async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales);
  // Hold the customer's row lock in another transaction, as a PATCH would, and change it there.
  const db = app.db;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const editor = db.transaction(async (tx) => {
    await tx.execute(sql`SELECT id FROM customers WHERE id = ${cust.id}::uuid FOR UPDATE`);
    locked();
    await held;
    await tx.execute(sql`UPDATE customers SET industry = 'Edited meanwhile', version = version + 1 WHERE id = ${cust.id}::uuid`);
  });
  await isLocked;
  const transfer = app.rest(c.users.branchManager, 'POST', '/v1/transfers', { fromUserId: c.users.sales.id, toUserId: c.users.sales2.id });
  await new Promise((r) => setTimeout(r, 200));
  release();
  await editor;
  const res = await transfer;
  t.equal(res.status, 201, res.raw);
  const r = await row(app, 'customers', cust.id);
  t.same([r.industry, r.owner_user_id, r.version], ['Edited meanwhile', c.users.sales2.id, cust.version + 2], 'both changes kept');
});
