import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { interaction } from '../../helpers/factories.js';

// customer_last_contact (the value model's last contact) is kept by the interactions' writes: every
// path that adds, edits, moves or removes an interaction leaves it equal to max(occurred_at) per customer.

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const day = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * day).toISOString();

type Row = { customer_id: string; last_at: string };
const kept = (ids: string[]) =>
  queryRows<Row>(app.db, sql`SELECT customer_id::text, to_char(last_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS last_at FROM customer_last_contact
    WHERE customer_id = ANY (${sql.param(ids)}::uuid[]) ORDER BY 1`);
const naive = (ids: string[]) =>
  queryRows<Row>(app.db, sql`SELECT customer_id::text, to_char(max(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS last_at FROM interactions
    WHERE customer_id = ANY (${sql.param(ids)}::uuid[]) GROUP BY 1 ORDER BY 1`);
const lastOf = async (id: string) => (await kept([id]))[0]?.last_at ?? null;
const at = (iso: string) => iso.slice(0, 23);

t.test('kept through record, edit, merge, bulk insert and delete, equal to the interactions each time', async (t) => {
  const a = await app.customer(c.users.sales);
  const b = await app.customer(c.users.sales);
  const ids = [a.id, b.id];
  const same = async (when: string) => t.same(await kept(ids), await naive(ids), `${when}: equal to max(occurred_at) per customer`);

  t.equal(await lastOf(a.id), null, 'no interactions, no row');
  const old = await interaction(app, c.users.sales, a.id, { occurredAt: ago(100) });
  const newest = await interaction(app, c.users.sales, a.id, { occurredAt: ago(50) });
  const mid = await interaction(app, c.users.sales, a.id, { occurredAt: ago(70) });
  t.equal(await lastOf(a.id), at(newest.occurredAt), 'recorded: the newest, not the latest recorded');
  await same('recorded');

  // An edit that moves the newest back in time: the next one becomes the last contact.
  const moved = await app.rest(c.users.sales, 'PATCH', `/v1/interactions/${newest.id}`, { occurredAt: ago(200) });
  t.equal(moved.status, 200, moved.raw);
  t.equal(await lastOf(a.id), at(mid.occurredAt), 'edited back: the one of 70 days ago');
  await same('edited back');
  // An edit that changes nothing of the time leaves it.
  t.equal((await app.rest(c.users.sales, 'PATCH', `/v1/interactions/${old.id}`, { subject: 'Re-worded' })).status, 200);
  await same('edited subject');
  const forward = await app.rest(c.users.sales, 'PATCH', `/v1/interactions/${old.id}`, { occurredAt: ago(5) });
  t.equal(forward.status, 200, forward.raw);
  t.equal(await lastOf(a.id), at(forward.body.occurredAt), 'edited forward: the edited one');
  await same('edited forward');

  // A merge moves the duplicate's interactions: the survivor's last contact is the newest of both, the duplicate has none.
  const recent = await interaction(app, c.users.sales, b.id, { occurredAt: ago(1) });
  t.equal(await lastOf(b.id), at(recent.occurredAt));
  const m = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${a.id}/merge`, { duplicateIds: [b.id] });
  t.equal(m.status, 200, m.raw);
  t.equal(await lastOf(a.id), at(recent.occurredAt), 'merged: the newest of both');
  t.equal(await lastOf(b.id), null, 'the duplicate has no interactions left');
  await same('merged');

  // A bulk insert of several customers' rows in one statement.
  const d = await app.customer(c.users.sales);
  ids.push(d.id);
  await app.db.execute(sql`INSERT INTO interactions (customer_id, channel, direction, occurred_at, actor_id)
    SELECT x.cid, 'PHONE', 'OUTBOUND', now() - make_interval(days => x.n), ${c.users.sales.id}::uuid
    FROM (VALUES (${a.id}::uuid, 30), (${d.id}::uuid, 20), (${d.id}::uuid, 3), (${d.id}::uuid, 9)) AS x(cid, n)`);
  t.equal(await lastOf(a.id), at(recent.occurredAt), 'an older row does not move it back');
  await same('bulk insert');

  // Deletes (no API path deletes an interaction; the table holds whatever removes one).
  await app.db.execute(sql`DELETE FROM interactions WHERE id = ${recent.id}`);
  t.equal(await lastOf(a.id), at(forward.body.occurredAt), 'the newest deleted: the next one');
  await same('deleted the newest');
  await app.db.execute(sql`DELETE FROM interactions WHERE customer_id = ${d.id}`);
  t.equal(await lastOf(d.id), null, 'all deleted: no row');
  await same('deleted all');
});
