import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { escalate, handoff, interaction, moveOpportunity, opportunity, tag, testPipeline } from '../../helpers/factories.js';
import { errorPaths } from '../../helpers/problems.js';
import { countRows, ownershipOf } from '../../helpers/records.js';
import { INTERACTION_FIELDS } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const pl = await testPipeline(app);

const RECORD = `mutation($id: ID!, $input: RecordInteractionInput!) { recordInteraction(customerId: $id, input: $input) { ${INTERACTION_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateInteractionInput!, $v: Int) { updateInteraction(id: $id, input: $input, expectedVersion: $v) { ${INTERACTION_FIELDS} revisions { version subject editedBy onBehalfOfId editedAt } } }`;
const GET = `query($id: ID!) { interaction(id: $id) { ${INTERACTION_FIELDS} } }`;
const LIST = `query($c: ID, $o: ID, $f: InteractionFilter, $n: Int, $after: String) { interactions(customerId: $c, opportunityId: $o, filter: $f, first: $n, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;

t.test('GraphQL: record, read, update and list, the same as REST', async (t) => {
  const cust = await app.customer(c.users.sales);
  const g = await app.gql(c.users.sales, RECORD, { id: cust.id, input: { channel: 'VISIT', direction: 'OUTBOUND', subject: 'On site', occurredAt: '2025-04-01T08:00:00.000Z' } });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  const i = g.data.recordInteraction;
  t.match(i, { customerId: cust.id, channel: 'VISIT', direction: 'OUTBOUND', subject: 'On site', actorId: c.users.sales.id, onBehalfOfId: null, version: 1 });
  const r = await app.rest(c.users.sales, 'GET', `/v1/interactions/${i.id}`);
  t.same(r.body, i, 'REST reads what GraphQL wrote');
  t.same((await app.gql(c.users.sales, GET, { id: i.id })).data.interaction, i);

  const stale = await app.gql(c.users.sales, UPDATE, { id: i.id, input: { subject: 'x' }, v: 7 });
  t.same(stale.codes, ['PRECONDITION_FAILED']);
  const u = await app.gql(c.users.sales, UPDATE, { id: i.id, input: { subject: 'Changed', notes: 'More' }, v: 1 });
  t.same(u.errors, undefined, JSON.stringify(u.errors));
  t.match(u.data.updateInteraction, { subject: 'Changed', notes: 'More', version: 2, revisions: [{ version: 1, subject: 'On site', editedBy: c.users.sales.id, onBehalfOfId: null }] });
  const revs = await app.rest(c.users.sales, 'GET', `/v1/interactions/${i.id}/revisions`);
  t.same(revs.body.data.map((x: { version: number }) => x.version), [1], 'REST sees the GraphQL edit history');

  const opp = await opportunity(app, c.users.sales, cust.id, { pipelineId: pl.id });
  await app.gql(c.users.sales, RECORD, { id: cust.id, input: { channel: 'EMAIL', direction: 'INBOUND', opportunityId: opp.id } });
  const all = await app.gql(c.users.sales, LIST, { c: cust.id, n: 1 });
  t.equal(all.data.interactions.edges.length, 1);
  t.equal(all.data.interactions.pageInfo.hasNextPage, true);
  const next = await app.gql(c.users.sales, LIST, { c: cust.id, n: 1, after: all.data.interactions.pageInfo.endCursor });
  t.same(next.data.interactions.edges.map((e: { node: { id: string } }) => e.node.id), [i.id]);
  t.equal((await app.gql(c.users.sales, LIST, { o: opp.id })).data.interactions.edges.length, 1, 'per opportunity');
  t.equal((await app.gql(c.users.sales, LIST, { c: cust.id, f: { channel: 'VISIT' } })).data.interactions.edges.length, 1, 'filter');
});

t.test('GraphQL: bad input names the field and writes nothing; another partner gets NOT_FOUND', async (t) => {
  const cust = await app.customer(c.users.sales);
  const before = await countRows(app, 'interactions', sql`customer_id = ${cust.id}`);
  const long = await app.gql(c.users.sales, RECORD, { id: cust.id, input: { channel: 'PHONE', direction: 'INBOUND', subject: 'x'.repeat(301) } });
  t.same(long.codes, ['BAD_USER_INPUT']);
  t.same(errorPaths(long.errors?.[0]?.extensions?.errors), ['input.subject']);
  const future = await app.gql(c.users.sales, RECORD, { id: cust.id, input: { channel: 'PHONE', direction: 'INBOUND', occurredAt: new Date(Date.now() + 5 * 86_400_000).toISOString() } });
  t.same(errorPaths(future.errors?.[0]?.extensions?.errors), ['input.occurredAt']);
  const enumBad = await app.gql(c.users.sales, RECORD, { id: cust.id, input: { channel: 'PIGEON', direction: 'INBOUND' } });
  t.same(enumBad.codes, ['BAD_USER_INPUT'], 'a closed enum');
  t.match(enumBad.errors?.[0]?.message, /channel/);
  const both = await app.gql(c.users.sales, LIST, { c: cust.id, o: cust.id });
  t.same(both.codes, ['BAD_USER_INPUT']);
  t.same(errorPaths(both.errors?.[0]?.extensions?.errors), ['customerId']);
  t.same((await app.gql(c.users.sales, LIST, {})).codes, ['BAD_USER_INPUT'], 'neither id');
  t.equal(await countRows(app, 'interactions', sql`customer_id = ${cust.id}`), before, 'nothing written');

  const theirs = await app.customer(c.users.partnerBSales);
  const made = await app.gql(c.users.partnerBSales, RECORD, { id: theirs.id, input: { channel: 'PHONE', direction: 'INBOUND', subject: 'Secret' } });
  const id = made.data.recordInteraction.id;
  for (const [q, v] of [
    [GET, { id }],
    [UPDATE, { id, input: { subject: 'mine' } }],
    [RECORD, { id: theirs.id, input: { channel: 'PHONE', direction: 'INBOUND' } }],
    [LIST, { c: theirs.id }],
  ] as const) {
    const r = await app.gql(c.users.partnerASales, q, v);
    t.same(r.codes, ['NOT_FOUND'], q.slice(0, 40));
    t.notMatch(JSON.stringify(r), /Secret/);
  }
  const exec = await app.gql(c.users.executive, RECORD, { id: cust.id, input: { channel: 'PHONE', direction: 'INBOUND' } });
  t.same(exec.codes, ['FORBIDDEN'], 'visible without interactions:create');
});

t.test('Customer.interactions is batched: one statement for a page of 50 customers', async (t) => {
  const k = tag();
  const owner = await app.user(c.branch, ['sales']);
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) ids.push((await app.customer(owner, { name: `Batch ${k} ${i}` })).id);
  // Up to 7 interactions each, a minute apart.
  for (const [i, customerId] of ids.entries()) {
    for (let j = 0; j < i % 8; j++) await interaction(app, owner, customerId, { occurredAt: new Date(Date.parse('2025-01-01T00:00:00Z') + j * 60_000), subject: `n${j}` });
  }
  const q = (withInteractions: boolean, first: number) =>
    `query { customers(first: ${first}, filter: { q: "${k}" }) { edges { node { id ${withInteractions ? 'interactions(first: 5) { edges { node { id subject customerId } } pageInfo { hasNextPage } }' : ''} } } } }`;
  const plain = await app.countStatements(() => app.gql(owner, q(false, 50)));
  const nested = await app.countStatements(() => app.gql(owner, q(true, 50)));
  const small = await app.countStatements(() => app.gql(owner, q(true, 5)));
  t.same(nested.result.errors, undefined, JSON.stringify(nested.result.errors));
  t.equal(nested.statements - plain.statements, 1, 'the nested field adds one statement for 50 customers');
  t.equal(small.statements, nested.statements, 'whatever the page size');
  const edges = nested.result.data.customers.edges as { node: { id: string; interactions: { edges: { node: { subject: string; customerId: string } }[]; pageInfo: { hasNextPage: boolean } } } }[];
  t.equal(edges.length, 50);
  for (const e of edges) {
    const n = ids.indexOf(e.node.id) % 8;
    const got = e.node.interactions.edges.map((x) => x.node.subject);
    const want = Array.from({ length: n }, (_, j) => `n${n - 1 - j}`).slice(0, 5);
    if (JSON.stringify(got) !== JSON.stringify(want)) t.fail(`customer ${ids.indexOf(e.node.id)}: ${got} != ${want}`);
    if (e.node.interactions.pageInfo.hasNextPage !== n > 5) t.fail('hasNextPage');
    if (e.node.interactions.edges.some((x) => x.node.customerId !== e.node.id)) t.fail('wrong customer');
  }
  t.pass('each customer gets its newest five');
  const tl = await app.countStatements(() => app.gql(owner, `query { customers(first: 50, filter: { q: "${k}" }) { edges { node { id timeline(first: 3) { edges { node { type id } } } } } } }`));
  t.same(tl.result.errors, undefined);
  t.equal(tl.statements - plain.statements, 1, 'Customer.timeline is batched too');
});

t.test('timeline: every kind, newest first, paginated across kinds', async (t) => {
  // A lead's story, made through the API: marketing's prospect is handed to a salesperson three
  // times (missed and escalated, rejected, accepted), then worked as a deal.
  const u = c.users.sales;
  const marketer = c.users.marketing;
  const cust = await app.customer(marketer, { lifecycleStage: 'PROSPECT' });
  const i1 = await interaction(app, marketer, cust.id, { channel: 'PHONE', direction: 'INBOUND', occurredAt: '2025-05-01T00:01:00.000Z', subject: 'Hello' });
  const h1 = await handoff(app, marketer, cust.id, { toUserId: u.id });
  await escalate(app, h1.id);
  const h2 = await handoff(app, marketer, cust.id, { toUserId: u.id });
  t.equal((await app.rest(u, 'POST', `/v1/handoffs/${h2.id}/reject`, { reason: 'Not ready' })).status, 200, 'rejected: back to the pool');
  const h3 = await handoff(app, marketer, cust.id, { toUserId: u.id });
  t.equal((await app.rest(u, 'POST', `/v1/handoffs/${h3.id}/accept`)).status, 200, 'accepted: the salesperson owns the lead');
  const opp = await moveOpportunity(app, u, await opportunity(app, u, cust.id, { pipelineId: pl.id, name: 'Big deal' }), 'ACCEPTANCE');
  const [oc1, oc2] = await ownershipOf(app, cust.id);
  const [lt] = await queryRows<{ id: string }>(app.db, sql`SELECT id FROM lifecycle_transitions WHERE customer_id = ${cust.id}::uuid`);
  const [st] = await queryRows<{ id: string }>(app.db, sql`SELECT id FROM stage_transitions WHERE opportunity_id = ${opp.id}::uuid`);
  if (!oc1 || !oc2 || !lt || !st) throw new Error('the story left no history');

  // The story happened in a few seconds; it is told as if minute by minute on 1 May 2025, so the
  // order is known. Only the times are set (and the time spent in QUALIFICATION, which they imply).
  const at = (m: number) => new Date(Date.parse('2025-05-01T00:00:00.000Z') + m * 60_000);
  const when = (m: number) => sql`${at(m).toISOString()}::timestamptz`;
  await app.db.execute(sql`UPDATE handoffs SET created_at = ${when(0)}, escalated_at = ${when(2)} WHERE id = ${h1.id}::uuid`);
  // Created and rejected at the same instant: the type breaks the tie.
  await app.db.execute(sql`UPDATE handoffs SET created_at = ${when(3)}, decided_at = ${when(3)} WHERE id = ${h2.id}::uuid`);
  await app.db.execute(sql`UPDATE ownership_changes SET at = ${when(4)} WHERE id = ${oc1.id}::uuid`);
  await app.db.execute(sql`UPDATE handoffs SET created_at = ${when(5)}, decided_at = ${when(6)} WHERE id = ${h3.id}::uuid`);
  await app.db.execute(sql`UPDATE ownership_changes SET at = ${when(7)} WHERE id = ${oc2.id}::uuid`);
  await app.db.execute(sql`UPDATE lifecycle_transitions SET at = ${when(8)} WHERE id = ${lt.id}::uuid`);
  await app.db.execute(sql`UPDATE stage_transitions SET at = ${when(9)}, seconds_in_from_stage = 60 WHERE id = ${st.id}::uuid`);
  // Another customer's rows never show.
  const other = await app.customer(u);
  await interaction(app, u, other.id, { channel: 'PHONE', direction: 'INBOUND', occurredAt: at(4) });

  const want = [
    ['STAGE_TRANSITION', st.id],
    ['LIFECYCLE_TRANSITION', lt.id],
    ['OWNERSHIP_CHANGE', oc2.id],
    ['HANDOFF_ACCEPTED', h3.id],
    ['HANDOFF_CREATED', h3.id],
    ['OWNERSHIP_CHANGE', oc1.id],
    ['HANDOFF_REJECTED', h2.id],
    ['HANDOFF_CREATED', h2.id],
    ['HANDOFF_ESCALATED', h1.id],
    ['INTERACTION', i1.id],
    ['HANDOFF_CREATED', h1.id],
  ];
  const full = await app.rest(u, 'GET', `/v1/customers/${cust.id}/timeline`);
  t.equal(full.status, 200);
  t.same(full.body.data.map((e: { type: string; id: string }) => [e.type, e.id]), want, 'newest first across kinds');
  t.match(full.body.data[0], { type: 'STAGE_TRANSITION', at: at(9).toISOString(), actorId: u.id, onBehalfOfId: null, summary: 'Big deal moved from QUALIFICATION to ACCEPTANCE', data: { opportunityId: opp.id, fromStageKey: 'QUALIFICATION', toStageKey: 'ACCEPTANCE', secondsInFromStage: 60 } });
  t.match(full.body.data[6], { summary: 'Handoff rejected: Not ready', data: { reason: 'Not ready', status: 'REJECTED' } });
  t.match(full.body.data[9], { type: 'INTERACTION', summary: 'Inbound phone: Hello', data: { channel: 'PHONE', subject: 'Hello' } });
  t.match(full.body.data[1], { summary: 'Lifecycle stage changed from PROSPECT to OPPORTUNITY', data: { from: 'PROSPECT', to: 'OPPORTUNITY', cause: 'HANDOFF' } });
  t.match(full.body.data[8], { type: 'HANDOFF_ESCALATED', actorId: null, data: { status: 'ESCALATED', escalatedToId: c.users.branchManager.id } });
  t.match(full.body.data[3], { type: 'HANDOFF_ACCEPTED', actorId: u.id, data: { status: 'ACCEPTED', decidedBy: u.id } });
  for (const size of [1, 2, 4]) {
    const seen: string[][] = [];
    let cursor: string | null = null;
    do {
      const r = await app.rest(u, 'GET', `/v1/customers/${cust.id}/timeline?limit=${size}${cursor ? `&cursor=${cursor}` : ''}`);
      t.equal(r.status, 200);
      seen.push(...r.body.data.map((e: { type: string; id: string }) => [e.type, e.id]));
      cursor = r.body.nextCursor;
    } while (cursor);
    t.same(seen, want, `pages of ${size}: every entry once, in order`);
  }
  const only = await app.rest(u, 'GET', `/v1/customers/${cust.id}/timeline?types=INTERACTION,handoff_created`);
  t.same(only.body.data.map((e: { type: string }) => e.type), ['HANDOFF_CREATED', 'HANDOFF_CREATED', 'INTERACTION', 'HANDOFF_CREATED'], 'types filter');

  const g = await app.gql(u, 'query($id: ID!, $after: String) { customer(id: $id) { timeline(first: 4, after: $after, types: [INTERACTION, STAGE_TRANSITION, HANDOFF_ACCEPTED]) { edges { node { id type at summary data actorId } } pageInfo { hasNextPage endCursor } } } }', { id: cust.id });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.customer.timeline.edges.map((e: { node: { type: string } }) => e.node.type), ['STAGE_TRANSITION', 'HANDOFF_ACCEPTED', 'INTERACTION']);
  t.equal(g.data.customer.timeline.pageInfo.hasNextPage, false);

  // Stage moves of an opportunity the caller cannot see stay out; the customer stays visible through a share.
  const share = await app.rest(c.users.admin, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: cust.id, toUserId: c.users.partnerASales.id });
  t.equal(share.status, 201);
  const shared = await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${cust.id}/timeline`);
  t.equal(shared.status, 200);
  t.notOk(shared.body.data.some((e: { type: string }) => e.type === 'STAGE_TRANSITION'), 'an invisible opportunity’s moves are not shown');
  t.ok(shared.body.data.some((e: { type: string }) => e.type === 'INTERACTION'), 'the shared customer’s interactions are');

  for (const [q, path] of [
    ['types=BIRTHDAY', 'types'],
    ['limit=500', 'limit'],
    ['cursor=abc', 'cursor'],
    ['sort=at', 'sort'],
  ] as const) {
    const r = await app.rest(u, 'GET', `/v1/customers/${cust.id}/timeline?${q}`);
    t.equal(r.status, 400, q);
    t.ok(errorPaths(r.body.errors).some((p) => p.startsWith(path)), `${q} names ${path}: ${r.raw.slice(0, 200)}`);
  }
  t.equal((await app.rest(c.users.partnerBSales, 'GET', `/v1/customers/${cust.id}/timeline`)).status, 404, 'another partner: 404');
  const gq = await app.gql(c.users.partnerBSales, 'query($id: ID!) { customer(id: $id) { timeline { edges { node { id } } } } }', { id: cust.id });
  t.same(gq.codes, ['NOT_FOUND']);
});

const onPostgres = app.database.kind === 'postgres';
t.test('timeline plan: each branch walks its index, on a customer with thousands of interactions', { skip: !onPostgres && 'EXPLAIN is checked on PostgreSQL' }, async (t) => {
  const owner = await app.user(c.branch, ['sales']);
  const cust = await app.customer(owner);
  const base = Date.parse('2024-01-01T00:00:00Z');
  const { loadPrincipal } = await import('../../../src/modules/org/principal.repository.js');
  const { timelinePage } = await import('../../../src/modules/contact-history/timeline.repository.js');
  const p = await loadPrincipal(app.db, owner.id);
  if (!p) throw new Error('no principal');
  // 5 000 interactions a minute apart, recorded through the service (the REST door's per-request
  // work would only make this slower), a few at a time.
  for (let k = 0; k < 5000; k += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, j) => app.app.services.contactHistory.record(p, cust.id, { channel: 'EMAIL', direction: 'OUTBOUND', occurredAt: new Date(base + (k + j) * 60_000).toISOString() })));
  }
  await app.db.execute(sql`ANALYZE interactions`);
  // Capture the statement the service sends, then EXPLAIN it.
  let captured: { sql: string; params: unknown[] } | undefined;
  const spy = { execute: (q: import('drizzle-orm').SQL) => {
    captured = new PgDialect().sqlToQuery(q);
    return app.db.execute(q);
  } };
  await timelinePage(spy as never, p, cust.id, ['INTERACTION', 'LIFECYCLE_TRANSITION', 'OWNERSHIP_CHANGE', 'HANDOFF_CREATED', 'STAGE_TRANSITION'], undefined, 50);
  if (!captured) throw new Error('nothing captured');
  const client = (app.db as unknown as { $client: import('pg').Pool }).$client;
  const res = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${captured.sql}`, captured.params);
  const plan = JSON.stringify(res.rows[0]);
  t.match(plan, /interactions_customer_idx/, 'interactions read through (customer_id, occurred_at, id)');
  const rowsRead = [...plan.matchAll(/"Relation Name":"interactions"[^}]*?"Actual Rows":(\d+)/g)].map((m) => Number(m[1]));
  t.ok(rowsRead.every((n) => n <= 51), `no more than a page read from interactions (${rowsRead})`);
});
