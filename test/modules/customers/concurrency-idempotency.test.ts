import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { contact, tag } from '../../helpers/factories.js';
import { isProblem } from '../../helpers/problems.js';
import { auditFor, eventsFor, findRow } from '../../helpers/records.js';
import { customersNamed } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

t.test('two PATCHes with the same If-Match: exactly one wins, the other gets 412, no lost update', async (t) => {
  const c = await company(app);
  for (let round = 0; round < 5; round++) {
    const cust = await app.customer(c.users.sales, { name: `Race ${tag()}`, region: 'Start' });
    const url = `/v1/customers/${cust.id}`;
    const [a, b] = await Promise.all([
      app.rest(c.users.sales, 'PATCH', url, { region: 'Alpha', industry: 'A' }, { 'if-match': '"1"' }),
      app.rest(c.users.branchManager, 'PATCH', url, { region: 'Beta', website: 'https://b.example' }, { 'if-match': '"1"' }),
    ]);
    t.same([a.status, b.status].sort(), [200, 412], `round ${round}: ${a.raw} / ${b.raw}`);
    const winner = a.status === 200 ? a : b;
    const loser = a.status === 200 ? b : a;
    t.ok(isProblem(loser.headers));
    t.equal(winner.body.version, 2);
    const row = await findRow(app, 'customers', cust.id);
    t.equal(row?.version, 2, 'one write only');
    t.equal(row?.region, winner.body.region, "the record holds the winner's value");
    if (winner === a) t.match(row, { industry: 'A', website: null });
    else t.match(row, { industry: null, website: 'https://b.example' });
    t.equal((await auditFor(app, cust.id)).length, 2, 'create + one update audited');
  }
});

t.test('two PATCHes without If-Match on different fields both land (no lost update)', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `Both ${tag()}` });
  const url = `/v1/customers/${cust.id}`;
  const [a, b] = await Promise.all([
    app.rest(c.users.sales, 'PATCH', url, { industry: 'Glass' }),
    app.rest(c.users.branchManager, 'PATCH', url, { region: 'Coast' }),
  ]);
  t.equal(a.status, 200, a.raw);
  t.equal(b.status, 200, b.raw);
  t.same([a.body.version, b.body.version].sort(), [2, 3]);
  t.match(await findRow(app, 'customers', cust.id), { industry: 'Glass', region: 'Coast', version: 3 });
});

t.test('the same race on a contact, and through GraphQL', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `Race Contact ${tag()}` });
  const person = await contact(app, c.users.sales, cust.id, { name: 'Racer' });
  const [a, b] = await Promise.all([
    app.rest(c.users.sales, 'PATCH', `/v1/contacts/${person.id}`, { title: 'One' }, { 'if-match': '"1"' }),
    app.rest(c.users.branchManager, 'PATCH', `/v1/contacts/${person.id}`, { title: 'Two' }, { 'if-match': '"1"' }),
  ]);
  t.same([a.status, b.status].sort(), [200, 412], `${a.raw} / ${b.raw}`);
  const winner = a.status === 200 ? a : b;
  const [row] = await queryRows<{ title: string; version: number }>(app.db, sql`SELECT title, version FROM contacts WHERE id = ${person.id}::uuid`);
  t.same(row, { title: winner.body.title, version: 2 });

  const q = 'mutation($id: ID!, $r: String) { updateCustomer(id: $id, input: { region: $r }, expectedVersion: 1) { region version } }';
  const [g1, g2] = await Promise.all([app.gql(c.users.sales, q, { id: cust.id, r: 'G1' }), app.gql(c.users.branchManager, q, { id: cust.id, r: 'G2' })]);
  const codes = [g1.codes[0] ?? 'OK', g2.codes[0] ?? 'OK'].sort();
  t.same(codes, ['OK', 'PRECONDITION_FAILED'], JSON.stringify([g1, g2]));
  const gw = g1.codes.length === 0 ? g1 : g2;
  t.match(await findRow(app, 'customers', cust.id), { region: gw.data.updateCustomer.region, version: 2 });
});

t.test('Idempotency-Key: a replay answers the first response and writes nothing new', async (t) => {
  const c = await company(app);
  const key = `key-${tag()}`;
  const name = `Idem ${tag()}`;
  const body = { name, kind: 'ORGANIZATION', industry: 'Tea' };
  const first = await app.rest(c.users.sales, 'POST', '/v1/customers', body, { 'idempotency-key': key });
  t.equal(first.status, 201, first.raw);
  const id = first.body.id;
  const replay = await app.rest(c.users.sales, 'POST', '/v1/customers', { industry: 'Tea', kind: 'ORGANIZATION', name }, { 'idempotency-key': key });
  t.equal(replay.status, 201, 'same status');
  t.equal(replay.raw, first.raw, 'same body');
  t.equal(replay.body.id, id, 'same id');
  t.equal(replay.headers.location, `/v1/customers/${id}`);
  t.equal(replay.headers.etag, '"1"');
  t.same((await customersNamed(app, name)).map((r) => r.id), [id], 'one customer');
  t.equal((await auditFor(app, id)).length, 1, 'one audit row');
  t.equal((await eventsFor(app, id)).length, 1, 'one event');

  const reused = await app.rest(c.users.sales, 'POST', '/v1/customers', { ...body, name: `${name} changed` }, { 'idempotency-key': key });
  t.equal(reused.status, 422, reused.raw);
  t.ok(isProblem(reused.headers));
  t.same(await customersNamed(app, `${name} changed`), [], 'the different body was not written');
  const otherPath = await app.rest(c.users.sales, 'POST', `/v1/customers/${id}/contacts`, { name: 'P' }, { 'idempotency-key': key });
  t.equal(otherPath.status, 422, 'the same key on another route is another request');

  // Keys are per user: another user with the same key is independent.
  const other = await app.rest(c.users.sales2, 'POST', '/v1/customers', { ...body, name: `${name} by sales2` }, { 'idempotency-key': key });
  t.equal(other.status, 201, other.raw);
  t.not(other.body.id, id);
  const otherReplay = await app.rest(c.users.sales2, 'POST', '/v1/customers', { ...body, name: `${name} by sales2` }, { 'idempotency-key': key });
  t.equal(otherReplay.body.id, other.body.id);
  const mine = await app.rest(c.users.sales, 'POST', '/v1/customers', body, { 'idempotency-key': key });
  t.equal(mine.body.id, id, "the first user's key still answers its own first response");

  const tooLong = await app.rest(c.users.sales, 'POST', '/v1/customers', { name: `Idem long ${tag()}`, kind: 'PERSON' }, { 'idempotency-key': 'k'.repeat(201) });
  t.equal(tooLong.status, 400);
});

t.test('Idempotency-Key: an error answer is replayed too; an expired key is forgotten', async (t) => {
  const c = await company(app);
  const existing = await app.customer(c.users.sales, { name: `Idem Dup ${tag()}` });
  const key = `dup-${tag()}`;
  const body = { name: existing.name.toUpperCase(), kind: 'ORGANIZATION' };
  const first = await app.rest(c.users.sales, 'POST', '/v1/customers', body, { 'idempotency-key': key });
  t.equal(first.status, 409);
  const replay = await app.rest(c.users.sales, 'POST', '/v1/customers', body, { 'idempotency-key': key });
  t.equal(replay.status, 409);
  t.equal(replay.raw, first.raw);

  const k2 = `old-${tag()}`;
  const name = `Idem Old ${tag()}`;
  const a = await app.rest(c.users.sales, 'POST', '/v1/customers', { name, kind: 'PERSON' }, { 'idempotency-key': k2 });
  t.equal(a.status, 201);
  await app.db.execute(sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = ${c.users.sales.id}::uuid AND key = ${k2}`);
  const b = await app.rest(c.users.sales, 'POST', '/v1/customers', { name: `${name} new`, kind: 'PERSON' }, { 'idempotency-key': k2 });
  t.equal(b.status, 201, 'after 24 h the key may be used afresh');
  t.not(b.body.id, a.body.id);
});

t.test('Idempotency-Key on contacts and merge; two identical requests at once create one record', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `Idem Contacts ${tag()}` });
  const key = `c-${tag()}`;
  const url = `/v1/customers/${cust.id}/contacts`;
  const r1 = await app.rest(c.users.sales, 'POST', url, { name: 'Once' }, { 'idempotency-key': key });
  const r2 = await app.rest(c.users.sales, 'POST', url, { name: 'Once' }, { 'idempotency-key': key });
  t.equal(r1.status, 201);
  t.equal(r2.status, 201);
  t.equal(r2.body.id, r1.body.id);
  t.equal(r2.headers.location, `/v1/contacts/${r1.body.id}`);
  const rows = await queryRows<{ id: string }>(app.db, sql`SELECT id FROM contacts WHERE customer_id = ${cust.id}::uuid`);
  t.equal(rows.length, 1, 'one contact');

  const dup = await app.customer(c.users.sales, { name: `Idem Merge ${tag()}` });
  const mk = `m-${tag()}`;
  const m1 = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${cust.id}/merge`, { duplicateIds: [dup.id] }, { 'idempotency-key': mk });
  const m2 = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${cust.id}/merge`, { duplicateIds: [dup.id] }, { 'idempotency-key': mk });
  t.equal(m1.status, 200, m1.raw);
  t.equal(m2.status, 200, 'a replayed merge answers 200, not 409');
  t.equal(m2.raw, m1.raw);
  t.equal((await auditFor(app, cust.id)).filter((a) => a.action === 'merge_survived').length, 1);

  const name = `Idem Race ${tag()}`;
  const rk = `r-${tag()}`;
  const results = await Promise.all([1, 2, 3].map(() => app.rest(c.users.sales, 'POST', '/v1/customers', { name, kind: 'ORGANIZATION' }, { 'idempotency-key': rk })));
  const statuses = results.map((r) => r.status);
  t.ok(statuses.includes(201), JSON.stringify(statuses));
  for (const r of results) {
    t.ok(r.status === 201 || r.status === 409, `201 or 409 in progress: ${r.raw}`);
    if (r.status === 201) t.equal(r.body.id, results.find((x) => x.status === 201)?.body.id, 'every 201 names the same record');
  }
  t.equal((await customersNamed(app, name)).length, 1, 'one customer for one key');
});

t.test('crossed merges at once (A into B, B into A): one wins, the other is 409, never a 500', async (t) => {
  const c = await company(app);
  for (let round = 0; round < 5; round++) {
    const a = await app.customer(c.users.sales, { name: `Cross A ${tag()}` });
    const b = await app.customer(c.users.sales, { name: `Cross B ${tag()}` });
    const [r1, r2] = await Promise.all([
      app.rest(c.users.branchManager, 'POST', `/v1/customers/${a.id}/merge`, { duplicateIds: [b.id] }),
      app.rest(c.users.regionManager, 'POST', `/v1/customers/${b.id}/merge`, { duplicateIds: [a.id] }),
    ]);
    t.same([r1.status, r2.status].sort(), [200, 409], `round ${round}: ${r1.raw} / ${r2.raw}`);
    const rows = [await findRow(app, 'customers', a.id), await findRow(app, 'customers', b.id)];
    t.same(rows.map((r) => r?.status).sort(), ['ACTIVE', 'MERGED'], 'exactly one folded into the other');
  }
});

t.test('two users create the same customer at once: one is created, the other sees the collision', async (t) => {
  const c = await company(app);
  for (let round = 0; round < 5; round++) {
    const name = `Twin ${tag()}`;
    const [r1, r2] = await Promise.all([
      app.rest(c.users.sales, 'POST', '/v1/customers', { name, kind: 'ORGANIZATION' }),
      app.rest(c.users.partnerBSales, 'POST', '/v1/customers', { name: name.toUpperCase(), kind: 'ORGANIZATION' }),
    ]);
    t.same([r1.status, r2.status].sort(), [201, 409], `round ${round}: ${r1.status} / ${r2.status}`);
    const loser = r1.status === 409 ? r1 : r2;
    t.equal(loser.body?.protectedMatches?.length, 1, 'the collision is reported without leaking');
    t.equal((await customersNamed(app, name)).length + (await customersNamed(app, name.toUpperCase())).length, 1, 'one customer');
  }
});
