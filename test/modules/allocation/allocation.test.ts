import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { eventsFor, ownershipOf } from '../../helpers/records.js';

const app = await buildTestApp();
t.teardown(() => app.close());

// Every rule here matches a region of its own: rules are global, and other test files create customers.
const rule = (region: string, target: Record<string, string>, strategy: string, extra: Record<string, unknown> = {}) => ({
  name: `rule ${region}`,
  order: 10,
  match: { region, source: 'EVENT' },
  target,
  strategy,
  ...extra,
});
const lead = (region: string, extra: Record<string, unknown> = {}) => ({ kind: 'ORGANIZATION', name: `Lead ${tag()}`, region, source: { channel: 'EVENT', campaign: 'Hannover fair' }, ...extra });

t.test('round robin over the branch: leads spread evenly onto the salespeople, each with an ownership change and an agenda entry', async (t) => {
  const c = await company(app);
  const region = `South-${tag()}`;
  const made = await app.rest(c.users.admin, 'POST', '/v1/allocation-rules', rule(region, { unitId: c.branch.id }, 'ROUND_ROBIN'));
  t.equal(made.status, 201, made.raw);
  t.match(made.body, { strategy: 'ROUND_ROBIN', target: { unitId: c.branch.id }, match: { region, source: 'EVENT' }, active: true, version: 1, capacityPerUser: null });

  const owners: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await app.rest(c.users.marketing, 'POST', '/v1/customers', lead(region));
    t.equal(res.status, 201, res.raw);
    owners.push(res.body.ownerUserId);
  }
  const salespeople = [c.users.sales.id, c.users.sales2.id].sort();
  t.same([...new Set(owners)].sort(), salespeople, 'only the branch’s salespeople');
  t.equal(owners.filter((o) => o === c.users.sales.id).length, 3, 'three each');

  const one = (await app.rest(c.users.marketing, 'POST', '/v1/customers', lead(region))).body;
  const history = await ownershipOf(app, one.id);
  t.match(history, [{ cause: 'ALLOCATION', from_user_id: c.users.marketing.id, to_user_id: one.ownerUserId }]);
  const changed = await eventsFor(app, one.id, 'customer.owner_changed');
  t.match(changed[0]?.payload.after, { cause: 'ALLOCATION', ruleId: made.body.id });
  const receiver = one.ownerUserId === c.users.sales.id ? c.users.sales : c.users.sales2;
  const agenda = await app.rest(receiver, 'GET', '/v1/agenda?limit=200');
  const entry = agenda.body.data.find((a: any) => a.customerId === one.id);
  t.ok(entry, 'on the receiver’s agenda');
  t.match(entry, { title: `New lead allocated: ${one.name}`, status: 'OPEN', assigneeId: receiver.id });
  t.ok(Math.abs(Date.parse(entry.dueAt) - (Date.now() + 48 * 3_600_000)) < 120_000, 'due per ALLOCATION_SLA_HOURS (48)');
  const tl = await app.rest(receiver, 'GET', `/v1/customers/${one.id}/timeline`);
  t.ok(tl.body.data.some((e: any) => e.type === 'OWNERSHIP_CHANGE' && e.data.cause === 'ALLOCATION'), 'on the timeline');

  // An explicit owner is never allocated; a lead of another region is not either.
  const explicit = await app.rest(c.users.marketing, 'POST', '/v1/customers', lead(region, { ownerUserId: c.users.marketing.id }));
  t.equal(explicit.body.ownerUserId, c.users.marketing.id);
  const other = await app.rest(c.users.marketing, 'POST', '/v1/customers', lead(`North-${tag()}`));
  t.equal(other.body.ownerUserId, c.users.marketing.id);
});

t.test('least loaded with a capacity; a user target; the pool when all are full; explicit allocation', async (t) => {
  const c = await company(app);
  const region = `Load-${tag()}`;
  // sales already holds two leads; sales2 none.
  await app.customer(c.users.sales, { lifecycleStage: 'SUSPECT' });
  await app.customer(c.users.sales, { lifecycleStage: 'PROSPECT' });
  const r = await app.rest(c.users.branchManager, 'POST', '/v1/allocation-rules', rule(region, { unitId: c.branch.id }, 'LEAST_LOADED', { capacityPerUser: 3 }));
  t.equal(r.status, 201, r.raw);
  const got: string[] = [];
  for (let i = 0; i < 5; i++) got.push((await app.rest(c.users.marketing, 'POST', '/v1/customers', lead(region))).body.ownerUserId);
  t.same(got.slice(0, 3), [c.users.sales2.id, c.users.sales2.id, c.users.sales.id < c.users.sales2.id ? c.users.sales.id : c.users.sales2.id], 'the least loaded first');
  t.equal(got.filter((g) => g === null).length, 1, 'both at capacity: the fifth waits in the unit pool');

  // POST /v1/customers/{id}/allocate: a customer created before the rule.
  const regionB = `Fixed-${tag()}`;
  const before = await app.rest(c.users.marketing, 'POST', '/v1/customers', lead(regionB));
  t.equal(before.body.ownerUserId, c.users.marketing.id, 'no rule yet');
  await app.rest(c.users.admin, 'POST', '/v1/allocation-rules', rule(regionB, { userId: c.users.partnerASales.id }, 'FIXED'));
  const res = await app.rest(c.users.marketing, 'POST', `/v1/customers/${before.body.id}/allocate`);
  t.equal(res.status, 200, res.raw);
  t.same(res.body, { customerId: before.body.id, allocated: true, ruleId: res.body.ruleId, ownerUserId: c.users.partnerASales.id, ownerUnitId: c.partnerA.id });
  const g = await app.gql(c.users.partnerASales, 'mutation($id: ID!) { allocateCustomer(customerId: $id) { allocated ownerUserId } }', { id: before.body.id });
  t.same(g.data.allocateCustomer, { allocated: true, ownerUserId: c.users.partnerASales.id }, 'the same again through GraphQL: nothing changes');
  const none = await app.rest(c.users.marketing, 'POST', `/v1/customers/${(await app.customer(c.users.marketing)).id}/allocate`);
  t.match(none.body, { allocated: false, ruleId: null, ownerUserId: c.users.marketing.id });
});

t.test("a partner's leads stay with the partner: company rules do not take them", async (t) => {
  const c = await company(app);
  const region = `Partner-${tag()}`;
  await app.rest(c.users.admin, 'POST', '/v1/allocation-rules', rule(region, { unitId: c.branch.id }, 'ROUND_ROBIN', { order: 1 }));
  const own = await app.rest(c.users.partnerAManager, 'POST', '/v1/allocation-rules', rule(region, { unitId: c.partnerA.id }, 'ROUND_ROBIN', { order: 2 }));
  t.equal(own.status, 201, own.raw);
  const res = await app.rest(c.users.partnerAManager, 'POST', '/v1/customers', lead(region));
  t.equal(res.status, 201, res.raw);
  t.ok([c.users.partnerASales.id, c.users.partnerASubSales.id].includes(res.body.ownerUserId), "onto the partner's own salespeople");
  const staff = await app.rest(c.users.marketing, 'POST', '/v1/customers', lead(region));
  t.ok([c.users.sales.id, c.users.sales2.id].includes(staff.body.ownerUserId), 'the company’s lead follows the first rule');
});

t.test('CRUD: scope, If-Match, 404 for what is out of reach, bad input, both doors', async (t) => {
  const c = await company(app);
  const region = `Crud-${tag()}`;
  t.equal(problemOf(await app.rest(c.users.partnerAManager, 'POST', '/v1/allocation-rules', rule(region, { unitId: c.branch.id }, 'FIXED')), 400, ['target.unitId']), null, 'a unit outside the partner: unknown');
  t.equal(problemOf(await app.rest(c.users.sales, 'POST', '/v1/allocation-rules', rule(region, { unitId: c.branch.id }, 'FIXED')), 403), null, 'sales: no allocation-rules:create');
  const made = await app.rest(c.users.branchManager, 'POST', '/v1/allocation-rules', rule(region, { unitId: c.branch.id }, 'FIXED'));
  t.equal(made.status, 201, made.raw);
  const id = made.body.id;
  t.equal(problemOf(await app.rest(c.users.partnerBManager, 'GET', `/v1/allocation-rules/${id}`), 404), null, "another partner's head: 404");
  t.equal(problemOf(await app.rest(c.users.partnerBManager, 'PATCH', `/v1/allocation-rules/${id}`, { active: false }), 404), null);
  t.equal(problemOf(await app.rest(c.users.partnerBManager, 'DELETE', `/v1/allocation-rules/${id}`), 404), null);
  t.same((await app.gql(c.users.partnerBManager, 'query($id: ID!) { allocationRule(id: $id) { id } }', { id })).codes, ['NOT_FOUND']);
  t.equal(problemOf(await app.rest(c.users.branchManager, 'PATCH', `/v1/allocation-rules/${id}`, { active: false }, { 'if-match': '"9"' }), 412), null);
  const patched = await app.rest(c.users.branchManager, 'PATCH', `/v1/allocation-rules/${id}`, { match: { source: null, industry: 'Food' }, capacityPerUser: 4 }, { 'if-match': '"1"' });
  t.equal(patched.status, 200, patched.raw);
  t.same(patched.body.match, { region, industry: 'Food' }, 'match merges key by key; null removes');
  t.match(patched.body, { capacityPerUser: 4, version: 2 });
  const listed = await app.rest(c.users.branchManager, 'GET', '/v1/allocation-rules?limit=200');
  t.ok(listed.body.data.some((r: any) => r.id === id));
  t.notOk((await app.rest(c.users.partnerBManager, 'GET', '/v1/allocation-rules?limit=200')).body.data.some((r: any) => r.id === id));
  const g = await app.gql(c.users.branchManager, 'mutation($id: ID!) { updateAllocationRule(id: $id, input: { order: 3 }, expectedVersion: 2) { order version } }', { id });
  t.same(g.data.updateAllocationRule, { order: 3, version: 3 });
  const bad: [unknown, string][] = [
    [{ ...rule(region, { unitId: c.branch.id }, 'FIXED'), strategy: 'RANDOM' }, 'strategy'],
    [{ ...rule(region, { unitId: c.branch.id }, 'FIXED'), order: -1 }, 'order'],
    [{ ...rule(region, { unitId: c.branch.id }, 'FIXED'), match: { planet: 'Mars' } }, 'match'],
    [{ ...rule(region, { unitId: c.branch.id }, 'FIXED'), name: 'a\u0000' }, 'name'],
    [{ ...rule(region, { unitId: c.branch.id, userId: c.users.sales.id }, 'FIXED') }, 'target'],
    [{ ...rule(region, { userId: c.users.sales.id }, 'ROUND_ROBIN') }, 'strategy'],
    [{ ...rule(region, { unitId: c.branch.id }, 'FIXED'), capacityPerUser: 0 }, 'capacityPerUser'],
  ];
  for (const [body, path] of bad) {
    const res = await app.rest(c.users.admin, 'POST', '/v1/allocation-rules', body);
    t.equal(res.status, 400, `${path}: ${res.raw.slice(0, 200)}`);
    t.ok(res.body.errors.some((e: any) => e.path.startsWith(path)), `names ${path}`);
  }
  const gbad = await app.gql(c.users.admin, 'mutation { createAllocationRule(input: { name: "x", order: -1, match: {}, target: {}, strategy: FIXED }) { id } }');
  t.ok(gqlPaths(gbad).length > 0);
  t.equal(problemOf(await app.rest(c.users.admin, 'GET', '/v1/allocation-rules?cursor=zzz'), 400, ['cursor']), null);
  t.equal((await app.rest(c.users.branchManager, 'DELETE', `/v1/allocation-rules/${id}`)).status, 204);
  t.equal(problemOf(await app.rest(c.users.branchManager, 'GET', `/v1/allocation-rules/${id}`), 404), null);
  // allocate: a customer the caller cannot see is 404; one it reads only is 403.
  const theirs = await app.customer(c.users.partnerBSales);
  t.equal(problemOf(await app.rest(c.users.partnerASales, 'POST', `/v1/customers/${theirs.id}/allocate`), 404), null);
  await app.rest(c.users.admin, 'POST', '/v1/shares', { resourceType: 'CUSTOMER', resourceId: theirs.id, toUserId: c.users.partnerASales.id });
  t.equal(problemOf(await app.rest(c.users.partnerASales, 'POST', `/v1/customers/${theirs.id}/allocate`), 403), null);
});

t.test('round robin stays fair under 20 simultaneous creates', async (t) => {
  const c = await company(app);
  const region = `Burst-${tag()}`;
  const team = await app.unit('BRANCH', c.region);
  const people = await Promise.all([0, 1, 2, 3].map(() => app.user(team, ['sales'])));
  await app.rest(c.users.admin, 'POST', '/v1/allocation-rules', rule(region, { unitId: team.id }, 'ROUND_ROBIN'));
  const results = await Promise.all(Array.from({ length: 20 }, () => app.rest(c.users.marketing, 'POST', '/v1/customers', lead(region))));
  t.same(results.map((r) => r.status), Array(20).fill(201), results.find((r) => r.status !== 201)?.raw ?? '');
  const counts = people.map((p) => results.filter((r) => r.body.ownerUserId === p.id).length);
  t.same(counts, [5, 5, 5, 5], 'five each');
});

t.test("a pool lead lands on the agenda of whoever answers for the unit: its managers, else the nearest above", async (t) => {
  const c = await company(app);
  const region = `Pool-${tag()}`;
  const desk = await app.unit('DEPARTMENT', c.branch); // no manager of its own
  await app.user(desk, ['sales'], { active: false }); // an inactive salesperson receives nothing
  const r1 = await app.rest(c.users.admin, 'POST', '/v1/allocation-rules', { ...rule(region, { unitId: c.branch.id }, 'FIXED'), order: 5, match: { region, source: 'EVENT', industry: 'Pool' } });
  const r2 = await app.rest(c.users.admin, 'POST', '/v1/allocation-rules', { ...rule(region, { unitId: desk.id }, 'ROUND_ROBIN'), order: 20 });
  const r3 = await app.rest(c.users.admin, 'POST', '/v1/allocation-rules', { ...rule(region, { unitId: c.partnerASub.id }, 'FIXED'), order: 5, match: { region, source: 'EVENT', industry: 'Partner' } });
  t.same([r1.status, r2.status, r3.status], [201, 201, 201]);

  const agendaOf = async (who: (typeof c.users)[keyof typeof c.users], customerId: string) =>
    (await app.rest(who, 'GET', '/v1/agenda?limit=200')).body.data.filter((a: any) => a.customerId === customerId);

  // FIXED to a unit: the branch's pool, on the branch manager's agenda.
  const fixed = await app.rest(c.users.marketing, 'POST', '/v1/customers', lead(region, { industry: 'Pool' }));
  t.match(fixed.body, { ownerUserId: null, ownerUnitId: c.branch.id });
  const [entry] = await agendaOf(c.users.branchManager, fixed.body.id);
  t.match(entry, { assigneeId: c.users.branchManager.id, status: 'OPEN', title: /pool/ }, 'on the branch manager’s agenda');
  t.ok(Math.abs(Date.parse(entry.dueAt) - (Date.now() + 48 * 3_600_000)) < 120_000, 'due per ALLOCATION_SLA_HOURS');
  t.same(await agendaOf(c.users.sales, fixed.body.id), [], 'not on a salesperson’s agenda');
  t.same(await agendaOf(c.users.regionManager, fixed.body.id), [], 'only the nearest responsible unit');

  // A unit without a manager and without an active salesperson: the pool, answered for by the branch manager above.
  const nobody = await app.rest(c.users.marketing, 'POST', '/v1/customers', lead(region));
  t.match(nobody.body, { ownerUserId: null, ownerUnitId: desk.id });
  t.equal((await agendaOf(c.users.branchManager, nobody.body.id)).length, 1, 'the nearest manager above');

  // A partner's sub-unit pool: the partner's head, never a company manager.
  const partner = await app.rest(c.users.marketing, 'POST', '/v1/customers', lead(region, { industry: 'Partner' }));
  t.match(partner.body, { ownerUserId: null, ownerUnitId: c.partnerASub.id });
  t.equal((await agendaOf(c.users.partnerAManager, partner.body.id)).length, 1, "on the partner head's agenda");
  t.same(await agendaOf(c.users.branchManager, partner.body.id), []);
  t.same(await agendaOf(c.users.partnerBManager, partner.body.id), []);

  // The same through GraphQL.
  const g = await app.gql(c.users.branchManager, 'query { agenda(first: 100) { edges { node { customerId title assigneeId } } } }');
  t.same(g.errors, undefined);
  t.ok(g.data.agenda.edges.some((e: any) => e.node.customerId === fixed.body.id && e.node.assigneeId === c.users.branchManager.id));
});
