import { sql } from 'drizzle-orm';
import t from 'tap';
import { priority } from '../../../src/modules/actions/priority.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, delegation, opportunity, testPipeline } from '../../helpers/factories.js';
import { hour } from '../../helpers/time.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const co = await company(app);
const u = co.users;
const pipeline = await testPipeline(app);

type Item = { id: string; value: number; urgency: number; dueAt: string | null; priority: number; status: string; kind: string; customerName: string | null; opportunityName: string | null; stageKey: string | null; assigneeId: string };

async function walk(who: typeof u.sales, limit: number): Promise<Item[]> {
  const out: Item[] = [];
  let cursor: string | null = null;
  do {
    const res = await app.rest(who, 'GET', `/v1/agenda?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (res.status !== 200) throw new Error(res.raw);
    out.push(...res.body.data);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

t.test('the agenda is ordered by the pure priority, across pages, with context', async (t) => {
  const me = await app.user(co.branch, ['sales']);
  const c = await app.customer(me);
  const o = await opportunity(app, me, c.id, { pipelineId: pipeline.id, stage: 'NEGOTIATION' });
  const now = Date.now();
  // Every combination of weight and due, plus the headline case of the brief.
  const dues = [null, -200 * hour, -3 * hour, 0.5 * hour, 1 * hour, 48 * hour, 24 * 30 * hour];
  let n = 0;
  for (const [v, ur] of [[1, 1], [2, 3], [3, 3], [5, 5], [4, 1], [1, 5]] as const) {
    for (const d of dues) {
      await action(app, me, n % 3 === 0 ? { opportunityId: o.id } : { customerId: c.id }, { value: v, urgency: ur, dueAt: d === null ? null : new Date(now + d) });
      n++;
    }
  }
  await action(app, me, { customerId: c.id }, { status: 'DONE' });
  await action(app, me, { customerId: c.id }, { status: 'CANCELLED' });
  // A salesperson plans only for itself: the branch manager gives a colleague one on this customer.
  await action(app, u.branchManager, { customerId: c.id }, { assignee: u.sales2 });

  const items = await walk(me, 4);
  t.equal(items.length, n, 'every open action of the caller, once; done, cancelled and others’ left out');
  t.equal(new Set(items.map((i) => i.id)).size, n, 'no duplicates across pages');
  const byPriority = [...items].sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1));
  t.same(items.map((i) => i.id), byPriority.map((i) => i.id), 'API order = descending priority, then id');
  const big = items.findIndex((i) => i.value === 5 && i.urgency === 5 && i.dueAt && Date.parse(i.dueAt) - now === 48 * hour);
  const small = items.findIndex((i) => i.value === 1 && i.urgency === 1 && i.dueAt && Date.parse(i.dueAt) - now === 1 * hour);
  t.ok(big >= 0 && small >= 0 && big < small, '5/5 due in two days ranks above 1/1 due in an hour');
  const withDeal = items.find((i) => i.opportunityName !== null);
  t.match(withDeal, { customerName: c.name, opportunityName: o.name, stageKey: 'NEGOTIATION' }, 'context: customer, deal and stage');
  t.match(items.find((i) => i.opportunityName === null), { customerName: c.name, stageKey: null });
});

t.test('the API order equals sorting by the pure function at the pinned time', async (t) => {
  const me = await app.user(co.branch, ['sales']);
  const c = await app.customer(me);
  const now = Date.now();
  for (let i = 0; i < 25; i++) {
    const v = (i % 5) + 1;
    const ur = ((i * 3) % 5) + 1;
    const d = i % 4 === 0 ? null : new Date(now + ((i * 7919) % 400) * hour - 150 * hour + (i % 7) * 61_001);
    await action(app, me, { customerId: c.id }, { value: v, urgency: ur, dueAt: d });
  }
  const first = await app.rest(me, 'GET', '/v1/agenda?limit=5');
  // The cursor carries the time of the first page; decode it to recompute with the pure function.
  const [pinned] = JSON.parse(Buffer.from(first.body.nextCursor, 'base64url').toString('utf8')) as [number];
  const items = [...first.body.data];
  let cursor: string | null = first.body.nextCursor;
  while (cursor) {
    const res = await app.rest(me, 'GET', `/v1/agenda?limit=5&cursor=${encodeURIComponent(cursor)}`);
    items.push(...res.body.data);
    cursor = res.body.nextCursor;
  }
  const at = new Date(pinned);
  const expected = [...items]
    .map((i) => ({ id: i.id, p: priority(i.value, i.urgency, i.dueAt ? new Date(i.dueAt) : null, at) }))
    .sort((a, b) => b.p - a.p || (a.id < b.id ? -1 : 1))
    .map((x) => x.id);
  t.equal(items.length, 25);
  t.same(items.map((i) => i.id), expected, 'same order');
  t.same(items.map((i) => i.priority), items.map((i) => priority(i.value, i.urgency, i.dueAt ? new Date(i.dueAt) : null, at)), 'same values, exactly');
  t.equal((await app.rest(me, 'GET', '/v1/agenda?cursor=bm9wZQ')).status, 400, 'a forged cursor is refused');
});

t.test('an ESCALATION action shows on its assignee’s agenda', async (t) => {
  const manager = await app.user(co.branch, ['manager']);
  const c = await app.customer(u.sales);
  const esc = await action(app, manager, { customerId: c.id }, { title: 'Handoff deadline missed', value: 4, urgency: 5, dueAt: new Date(Date.now() - hour) });
  // Only the handoff deadline job writes ESCALATION actions (lifecycle/escalation.test.ts runs it); the
  // agenda is what is tested here, so a planned action is marked as the job would have written it.
  await app.db.execute(sql`UPDATE actions SET kind = 'ESCALATION' WHERE id = ${esc.id}::uuid`);
  const items = await walk(manager, 50);
  t.match(items.find((i) => i.id === esc.id), { kind: 'ESCALATION', customerName: c.name, assigneeId: manager.id });
  const gql = await app.gql(manager, '{ agenda(first: 10) { edges { node { id kind priority customerName } } } }');
  t.ok(gql.data.agenda.edges.some((e: { node: { id: string; kind: string } }) => e.node.id === esc.id && e.node.kind === 'ESCALATION'), 'the same through GraphQL');
});

t.test("under a delegation the delegate's agenda includes the delegator's actions", async (t) => {
  const delegator = await app.user(co.branch, ['sales']);
  const d = await app.user(co.branch, ['sales']);
  const c = await app.customer(delegator);
  const theirs = await action(app, delegator, { customerId: c.id });
  t.notOk((await walk(d, 50)).some((i) => i.id === theirs.id), 'before: absent');
  await delegation(app, delegator, d);
  t.ok((await walk(d, 50)).some((i) => i.id === theirs.id), 'during: present');
  t.notOk((await walk(u.sales2, 50)).some((i) => i.id === theirs.id), 'a colleague: absent');
});

t.test("another partner's actions never show on an agenda", async (t) => {
  const theirs = await app.customer(u.partnerBSales);
  const a = await action(app, u.partnerBSales, { customerId: theirs.id }, { value: 5, urgency: 5 });
  for (const who of [u.partnerASales, u.partnerAManager]) {
    t.notOk((await walk(who, 200)).some((i) => i.id === a.id));
    const g = await app.gql(who, 'query($id: ID!) { action(id: $id) { id } }', { id: a.id });
    t.same(g.codes, ['NOT_FOUND']);
  }
  t.ok((await walk(u.partnerBSales, 200)).some((i) => i.id === a.id), 'its assignee has it');
});
