import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { contact, delegation, opportunity, testPipeline } from '../../helpers/factories.js';
import { errorPaths, isProblem } from '../../helpers/problems.js';
import { countRows } from '../../helpers/records.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const pl = await testPipeline(app);
const contactOf = async (customerId: string) => (await contact(app, c.users.sales, customerId)).id;

t.test('record, read and list an interaction', async (t) => {
  const cust = await app.customer(c.users.sales);
  const contactId = await contactOf(cust.id);
  const opp = await opportunity(app, c.users.sales, cust.id, { pipelineId: pl.id });
  const res = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/interactions`, {
    channel: 'phone',
    direction: 'OUTBOUND',
    occurredAt: '2025-03-01T09:30:00.000Z',
    subject: '  Follow-up call ',
    notes: 'Asked about the quote',
    outcome: 'Send revised offer',
    contactId,
    opportunityId: opp.id,
  });
  t.equal(res.status, 201, res.raw);
  t.equal(res.headers.location, `/v1/interactions/${res.body.id}`);
  t.equal(res.headers.etag, '"1"');
  t.match(res.body, {
    customerId: cust.id,
    contactId,
    opportunityId: opp.id,
    channel: 'PHONE',
    direction: 'OUTBOUND',
    occurredAt: '2025-03-01T09:30:00.000Z',
    subject: 'Follow-up call',
    notes: 'Asked about the quote',
    outcome: 'Send revised offer',
    actorId: c.users.sales.id,
    onBehalfOfId: null,
    version: 1,
  });
  const [audit] = await queryRows<{ actor_id: string; action: string; entity_type: string }>(app.db, sql`SELECT actor_id, action, entity_type FROM audit_log WHERE entity_id = ${res.body.id}`);
  t.same(audit, { actor_id: c.users.sales.id, action: 'recorded', entity_type: 'interaction' }, 'audited');
  const [ev] = await queryRows<{ type: string; owner_unit_id: string }>(app.db, sql`SELECT type, owner_unit_id FROM events WHERE entity_id = ${res.body.id}`);
  t.same(ev, { type: 'interaction.recorded', owner_unit_id: c.branch.id }, 'event carries the customer owner');

  const got = await app.rest(c.users.sales, 'GET', `/v1/interactions/${res.body.id}`);
  t.equal(got.status, 200);
  t.equal(got.headers.etag, '"1"');
  t.same(got.body, res.body);

  // occurredAt defaults to now.
  const now = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/interactions`, { channel: 'EMAIL', direction: 'INBOUND' });
  t.equal(now.status, 201);
  t.ok(Math.abs(Date.parse(now.body.occurredAt) - Date.now()) < 60_000, 'occurredAt defaults to now');
  t.equal(now.body.subject, null);

  const list = await app.rest(c.users.sales, 'GET', `/v1/customers/${cust.id}/interactions`);
  t.equal(list.status, 200);
  t.same(list.body.data.map((x: { id: string }) => x.id), [now.body.id, res.body.id], 'newest first');
  t.equal(list.body.nextCursor, null);
});

t.test('lists: filters and keyset pagination, newest first', async (t) => {
  const cust = await app.customer(c.users.sales);
  const contactId = await contactOf(cust.id);
  const opp = await opportunity(app, c.users.sales, cust.id, { pipelineId: pl.id });
  const ids: string[] = [];
  const base = Date.parse('2025-01-01T00:00:00.000Z');
  for (let i = 0; i < 7; i++) {
    const r = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/interactions`, {
      channel: i % 2 ? 'VISIT' : 'EMAIL',
      direction: i < 3 ? 'INBOUND' : 'OUTBOUND',
      // Two share one instant: the id breaks the tie.
      occurredAt: new Date(base + Math.min(i, 5) * 3600_000).toISOString(),
      ...(i === 2 ? { contactId } : {}),
      ...(i >= 5 ? { opportunityId: opp.id } : {}),
    });
    t.equal(r.status, 201);
    ids.push(r.body.id);
  }
  const walk = async (query: string) => {
    const out: { id: string; occurredAt: string }[] = [];
    let cursor: string | null = null;
    do {
      const r = await app.rest(c.users.sales, 'GET', `/v1/customers/${cust.id}/interactions?limit=2${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      t.equal(r.status, 200, r.raw);
      out.push(...r.body.data);
      cursor = r.body.nextCursor;
    } while (cursor);
    return out;
  };
  const all = await walk('');
  t.equal(all.length, 7);
  const sorted = [...all].sort((a, b) => (a.occurredAt === b.occurredAt ? (a.id < b.id ? 1 : -1) : a.occurredAt < b.occurredAt ? 1 : -1));
  t.same(all.map((x) => x.id), sorted.map((x) => x.id), 'occurredAt desc, then id desc, no row twice');
  t.same(new Set(all.map((x) => x.id)).size, 7);
  t.equal((await walk('&channel=visit')).length, 3, 'channel (any case)');
  t.equal((await walk('&direction=INBOUND')).length, 3, 'direction');
  t.same((await walk(`&contactId=${contactId}`)).map((x) => x.id), [ids[2]], 'contactId');
  t.equal((await walk(`&opportunityId=${opp.id}`)).length, 2, 'opportunityId');
  t.equal((await walk(`&occurredAfter=${new Date(base + 2 * 3600_000).toISOString()}`)).length, 4, 'occurredAfter is exclusive');
  t.equal((await walk(`&occurredBefore=${new Date(base + 2 * 3600_000).toISOString()}`)).length, 2, 'occurredBefore is exclusive');

  for (const [q, path] of [
    ['channel=PIGEON', 'channel'],
    ['direction=SIDEWAYS', 'direction'],
    ['occurredAfter=yesterday', 'occurredAfter'],
    ['contactId=nope', 'contactId'],
    ['limit=0', 'limit'],
    ['cursor=garbage', 'cursor'],
    ['colour=red', ''],
  ] as const) {
    const r = await app.rest(c.users.sales, 'GET', `/v1/customers/${cust.id}/interactions?${q}`);
    t.equal(r.status, 400, q);
    t.ok(isProblem(r.headers), `${q}: problem+json`);
    if (path) t.ok(errorPaths(r.body.errors).includes(path), `${q} names ${path}: ${r.raw}`);
  }
});

t.test('bad input on record: 400 naming the field, nothing written', async (t) => {
  const cust = await app.customer(c.users.sales);
  const other = await app.customer(c.users.sales);
  const foreignContact = await contactOf(other.id);
  const foreignOpp = await opportunity(app, c.users.sales, other.id, { pipelineId: pl.id });
  const ok = { channel: 'PHONE', direction: 'OUTBOUND' };
  const cases: [string, Record<string, unknown>, string][] = [
    ['unknown channel', { ...ok, channel: 'PIGEON' }, 'channel'],
    ['missing channel', { direction: 'OUTBOUND' }, 'channel'],
    ['unknown direction', { ...ok, direction: 'SIDEWAYS' }, 'direction'],
    ['missing direction', { channel: 'PHONE' }, 'direction'],
    ['far future', { ...ok, occurredAt: new Date(Date.now() + 3 * 24 * 3600_000).toISOString() }, 'occurredAt'],
    ['not a time', { ...ok, occurredAt: 'last tuesday' }, 'occurredAt'],
    ['subject too long', { ...ok, subject: 'x'.repeat(301) }, 'subject'],
    ['notes too long', { ...ok, notes: 'x'.repeat(20_001) }, 'notes'],
    ['outcome too long', { ...ok, outcome: 'x'.repeat(2_001) }, 'outcome'],
    ['contact of another customer', { ...ok, contactId: foreignContact }, 'contactId'],
    ['unknown contact', { ...ok, contactId: '00000000-0000-4000-8000-000000000000' }, 'contactId'],
    ['opportunity of another customer', { ...ok, opportunityId: foreignOpp.id }, 'opportunityId'],
    ['not a uuid', { ...ok, opportunityId: 'abc' }, 'opportunityId'],
    ['unknown field', { ...ok, mood: 'great' }, 'mood'],
    ['actor is not writable', { ...ok, actorId: c.users.sales2.id }, 'actorId'],
  ];
  const before = await countRows(app, 'interactions', sql`customer_id = ${cust.id}`);
  const auditBefore = await countRows(app, 'audit_log');
  for (const [label, body, path] of cases) {
    const r = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/interactions`, body);
    t.equal(r.status, 400, `${label}: ${r.raw}`);
    t.ok(isProblem(r.headers), `${label}: problem+json`);
    t.ok(errorPaths(r.body.errors).includes(path) || r.body.detail?.includes(path), `${label}: names ${path} (${r.raw.slice(0, 200)})`);
  }
  t.equal(await countRows(app, 'interactions', sql`customer_id = ${cust.id}`), before, 'nothing written');
  t.equal(await countRows(app, 'audit_log', sql`entity_type = 'interaction' AND actor_id = ${c.users.sales.id} AND (after->>'customerId') = ${cust.id}`), 0, 'no audit row');
  t.ok((await countRows(app, 'audit_log')) >= auditBefore);
  const badId = await app.rest(c.users.sales, 'POST', '/v1/customers/not-a-uuid/interactions', ok);
  t.equal(badId.status, 400);
  t.ok(errorPaths(badId.body.errors).includes('id'));
});

t.test('edit history: PATCH with If-Match keeps each replaced version', async (t) => {
  const cust = await app.customer(c.users.sales);
  const contactId = await contactOf(cust.id);
  const made = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND', subject: 'First', occurredAt: '2025-02-01T10:00:00.000Z' });
  const id = made.body.id;
  const p1 = await app.rest(c.users.sales, 'PATCH', `/v1/interactions/${id}`, { subject: 'Second', contactId }, { 'if-match': '"1"' });
  t.equal(p1.status, 200, p1.raw);
  t.equal(p1.headers.etag, '"2"');
  t.match(p1.body, { subject: 'Second', contactId, version: 2, actorId: c.users.sales.id });
  const stale = await app.rest(c.users.sales, 'PATCH', `/v1/interactions/${id}`, { subject: 'Lost' }, { 'if-match': '"1"' });
  t.equal(stale.status, 412);
  t.equal(stale.body.currentVersion, 2);
  const p2 = await app.rest(c.users.branchManager, 'PATCH', `/v1/interactions/${id}`, { subject: null, channel: 'visit', outcome: 'Met on site' });
  t.equal(p2.status, 200, p2.raw);
  t.match(p2.body, { subject: null, channel: 'VISIT', outcome: 'Met on site', version: 3 });

  const noop = await app.rest(c.users.sales, 'PATCH', `/v1/interactions/${id}`, { channel: 'VISIT' });
  t.equal(noop.body.version, 3, 'a PATCH that changes nothing writes nothing');

  const revs = await app.rest(c.users.sales, 'GET', `/v1/interactions/${id}/revisions`);
  t.equal(revs.status, 200);
  t.match(revs.body.data, [
    { version: 1, subject: 'First', contactId: null, channel: 'PHONE', editedBy: c.users.sales.id, onBehalfOfId: null },
    { version: 2, subject: 'Second', contactId, channel: 'PHONE', editedBy: c.users.branchManager.id },
  ]);
  t.equal(revs.body.data.length, 2);
  const page1 = await app.rest(c.users.sales, 'GET', `/v1/interactions/${id}/revisions?limit=1`);
  t.same(page1.body.data.map((r: { version: number }) => r.version), [1]);
  const page2 = await app.rest(c.users.sales, 'GET', `/v1/interactions/${id}/revisions?limit=1&cursor=${page1.body.nextCursor}`);
  t.same(page2.body.data.map((r: { version: number }) => r.version), [2]);
  t.equal(page2.body.nextCursor, null);

  const audit = await queryRows<{ action: string; actor_id: string }>(app.db, sql`SELECT action, actor_id FROM audit_log WHERE entity_id = ${id} ORDER BY id`);
  t.same(audit.map((a) => a.action), ['recorded', 'updated', 'updated']);

  // Bad input on PATCH: nothing written.
  const revCount = await countRows(app, 'interaction_revisions', sql`interaction_id = ${id}`);
  for (const [body, path] of [
    [{ channel: 'PIGEON' }, 'channel'],
    [{ channel: null }, 'channel'],
    [{ occurredAt: new Date(Date.now() + 3 * 24 * 3600_000).toISOString() }, 'occurredAt'],
    [{ contactId: await contactOf((await app.customer(c.users.sales)).id) }, 'contactId'],
    [{ notes: 'x'.repeat(20_001) }, 'notes'],
    [{ actorId: c.users.sales2.id }, 'actorId'],
  ] as const) {
    const r = await app.rest(c.users.sales, 'PATCH', `/v1/interactions/${id}`, body);
    t.equal(r.status, 400, `${path}: ${r.raw}`);
    t.ok(errorPaths(r.body.errors).includes(path) || r.body.detail?.includes(path), `names ${path}`);
  }
  t.equal(await countRows(app, 'interaction_revisions', sql`interaction_id = ${id}`), revCount, 'no revision written');
  t.equal((await app.rest(c.users.sales, 'GET', `/v1/interactions/${id}`)).body.version, 3, 'version unchanged');
  const badMatch = await app.rest(c.users.sales, 'PATCH', `/v1/interactions/${id}`, { subject: 'x' }, { 'if-match': '"3' });
  t.equal(badMatch.status, 400);
});

t.test('visibility: another partner’s customer and interaction do not exist; rights are checked', async (t) => {
  const theirs = await app.customer(c.users.partnerBSales);
  const made = await app.rest(c.users.partnerBSales, 'POST', `/v1/customers/${theirs.id}/interactions`, { channel: 'PHONE', direction: 'INBOUND', subject: 'Secret' });
  t.equal(made.status, 201);
  const id = made.body.id;
  const before = await countRows(app, 'interactions', sql`customer_id = ${theirs.id}`);
  for (const who of [c.users.partnerASales, c.users.partnerAManager, c.users.sales, c.users.branchManager]) {
    for (const [method, url, body] of [
      ['GET', `/v1/customers/${theirs.id}/interactions`, undefined],
      ['POST', `/v1/customers/${theirs.id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND' }],
      ['GET', `/v1/interactions/${id}`, undefined],
      ['PATCH', `/v1/interactions/${id}`, { subject: 'mine now' }],
      ['GET', `/v1/interactions/${id}/revisions`, undefined],
      ['GET', `/v1/customers/${theirs.id}/timeline`, undefined],
    ] as const) {
      const r = await app.rest(who, method, url, body);
      t.equal(r.status, 404, `${who.roles[0]} ${method} ${url}`);
      t.notMatch(r.raw, /Secret/, 'nothing leaked');
    }
  }
  t.equal(await countRows(app, 'interactions', sql`customer_id = ${theirs.id}`), before, 'nothing written');
  t.equal((await app.rest(c.users.partnerBSales, 'GET', `/v1/interactions/${id}`)).body.subject, 'Secret', 'unchanged');
  t.equal((await app.rest(c.users.admin, 'GET', `/v1/interactions/${id}`)).status, 200, 'the admin sees it');

  // Visible without the right to record: 403; a share gives reading only.
  const mine = await app.customer(c.users.sales);
  const exec = await app.rest(c.users.executive, 'POST', `/v1/customers/${mine.id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND' });
  t.equal(exec.status, 403, exec.raw);
  t.equal((await app.rest(c.users.executive, 'GET', `/v1/customers/${mine.id}/interactions`)).status, 200);
  const mineInt = await app.rest(c.users.sales, 'POST', `/v1/customers/${mine.id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND' });
  t.equal((await app.rest(c.users.executive, 'PATCH', `/v1/interactions/${mineInt.body.id}`, { subject: 'x' })).status, 403);
  const share = await app.rest(c.users.admin, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: mine.id, toUserId: c.users.partnerASales.id });
  t.equal(share.status, 201);
  t.equal((await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${mine.id}/interactions`)).status, 200, 'shared: history readable');
  t.equal((await app.rest(c.users.partnerASales, 'GET', `/v1/interactions/${mineInt.body.id}`)).status, 200);
  t.equal((await app.rest(c.users.partnerASales, 'POST', `/v1/customers/${mine.id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND' })).status, 403, 'shared: not writable');
  t.equal((await app.rest(c.users.partnerASales, 'PATCH', `/v1/interactions/${mineInt.body.id}`, { subject: 'x' })).status, 403);
});

t.test('delegation: the delegate records and edits on behalf of the owner', async (t) => {
  const owner = await app.user(c.branch, ['sales']);
  const deputy = await app.user(c.branch, ['sales']);
  const cust = await app.customer(owner);
  t.equal((await app.rest(deputy, 'POST', `/v1/customers/${cust.id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND' })).status, 404, 'before the delegation: invisible');
  await delegation(app, owner, deputy);
  const r = await app.rest(deputy, 'POST', `/v1/customers/${cust.id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND', subject: 'For my colleague' });
  t.equal(r.status, 201, r.raw);
  t.match(r.body, { actorId: deputy.id, onBehalfOfId: owner.id });
  const [a] = await queryRows<{ actor_id: string; on_behalf_of_id: string }>(app.db, sql`SELECT actor_id, on_behalf_of_id FROM audit_log WHERE entity_id = ${r.body.id}`);
  t.same(a, { actor_id: deputy.id, on_behalf_of_id: owner.id });
  const [ev] = await queryRows<{ actor_id: string; on_behalf_of_id: string }>(app.db, sql`SELECT actor_id, on_behalf_of_id FROM events WHERE entity_id = ${r.body.id}`);
  t.same(ev, { actor_id: deputy.id, on_behalf_of_id: owner.id });
  const own = await app.rest(owner, 'POST', `/v1/customers/${cust.id}/interactions`, { channel: 'EMAIL', direction: 'INBOUND' });
  const p = await app.rest(deputy, 'PATCH', `/v1/interactions/${own.body.id}`, { subject: 'Edited for the owner' });
  t.equal(p.status, 200);
  t.match(p.body, { actorId: owner.id, onBehalfOfId: null }, 'the recorder stays the recorder');
  const revs = await app.rest(owner, 'GET', `/v1/interactions/${own.body.id}/revisions`);
  t.match(revs.body.data, [{ version: 1, editedBy: deputy.id, onBehalfOfId: owner.id }]);
});

t.test('per opportunity: visibility of the opportunity, 404 for another partner', async (t) => {
  const cust = await app.customer(c.users.sales);
  const opp = await opportunity(app, c.users.sales, cust.id, { pipelineId: pl.id });
  const other = await opportunity(app, c.users.sales, cust.id, { pipelineId: pl.id });
  const a = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/interactions`, { channel: 'MEETING', direction: 'OUTBOUND', opportunityId: opp.id });
  await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/interactions`, { channel: 'MEETING', direction: 'OUTBOUND', opportunityId: other.id });
  await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/interactions`, { channel: 'MEETING', direction: 'OUTBOUND' });
  const r = await app.rest(c.users.sales, 'GET', `/v1/opportunities/${opp.id}/interactions`);
  t.equal(r.status, 200, r.raw);
  t.same(r.body.data.map((x: { id: string }) => x.id), [a.body.id]);
  t.equal((await app.rest(c.users.partnerBSales, 'GET', `/v1/opportunities/${opp.id}/interactions`)).status, 404);
  t.equal((await app.rest(c.users.sales, 'GET', '/v1/opportunities/00000000-0000-4000-8000-000000000000/interactions')).status, 404);
  const bad = await app.rest(c.users.sales, 'GET', `/v1/opportunities/${opp.id}/interactions?channel=PIGEON`);
  t.equal(bad.status, 400);
  t.ok(errorPaths(bad.body.errors).includes('channel'));

  const svc = app.app.services.contactHistory;
  const { loadPrincipal } = await import('../../../src/modules/org/principal.repository.js');
  const p = await loadPrincipal(app.db, c.users.sales.id);
  const q = await loadPrincipal(app.db, c.users.partnerBSales.id);
  if (!p || !q) throw new Error('no principal');
  const { result, statements } = await app.countStatements(() => svc.listForOpportunities(p, [opp.id, other.id], 5));
  t.equal(statements, 1, 'many opportunities, one statement');
  t.same(result.get(opp.id)?.data.map((x) => x.id), [a.body.id]);
  t.equal(result.get(other.id)?.data.length, 1);
  const hidden = await svc.listForOpportunities(q, [opp.id], 5);
  t.same(hidden.get(opp.id)?.data, [], 'another partner gets nothing');
});
