import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildApp } from '../../../src/app.js';
import { createDatabase } from '../../../src/db/client.js';
import { migrateAndBootstrap } from '../../../src/db/migrate.js';
import { company, TestApp, testConfig } from '../../helpers/app.js';

// Pruning removes a prefix of the whole feed, so this file has an embedded database of its own:
// on a shared PostgreSQL it would take other files' events with it.
const config = testConfig({ EVENTS_RETENTION_DAYS: '30' });
const database = await createDatabase({ dataDir: 'memory://' });
await migrateAndBootstrap(database, config.adminEmail);
const fastify = await buildApp({ ...config, databaseUrl: undefined }, { database, migrate: false, logger: false });
await fastify.ready();
const app = new TestApp(fastify, database);
t.teardown(() => app.close());

t.test('events older than the retention are pruned as a job would; a cursor before them answers 410', async (t) => {
  const c = await company(app);
  const reader = c.users.integration;
  const old = await app.customer(c.users.sales);
  const older = await app.customer(c.users.sales);
  const first = await app.rest(reader, 'GET', '/v1/events?limit=1');
  t.equal(first.status, 200);
  const oldCursor = first.body.data[0].id;
  // Everything so far happened 40 days ago.
  await app.db.execute(sql`UPDATE events SET at = now() - interval '40 days'`);
  const young = await app.customer(c.users.sales);

  const oldCount = await countOld();
  t.ok(oldCount > 0);
  t.equal(await app.app.services.events.prune(), oldCount, 'exactly the old events are pruned');
  t.equal(await countOld(), 0);
  const after = await app.rest(reader, 'GET', `/v1/events?after=${oldCursor}`);
  t.equal(after.status, 410, after.raw);
  t.equal(after.body.code, 'CURSOR_EXPIRED');
  t.equal(after.headers['content-type'], 'application/problem+json; charset=utf-8');
  const g = await app.gql(reader, 'query($a: String) { events(after: $a) { edges { node { id } } } }', { a: oldCursor });
  t.equal(g.errors?.[0]?.extensions?.reason, 'CURSOR_EXPIRED');

  // Without a cursor the feed starts at the oldest event kept: the young customer's, not the old one's.
  const all = await app.rest(reader, 'GET', '/v1/events?limit=500');
  t.notOk(all.body.data.some((e: { entityId: string }) => e.entityId === old.id || e.entityId === older.id), 'old events are gone');
  t.ok(all.body.data.some((e: { entityId: string }) => e.entityId === young.id), 'young events stay');
  // A cursor after the prune point still works.
  const fromYoung = await app.rest(reader, 'GET', `/v1/events?after=${all.body.data[0].id}`);
  t.equal(fromYoung.status, 200);
});

async function countOld(): Promise<number> {
  const r = (await app.db.execute(sql`SELECT count(*)::int AS n FROM events WHERE at < now() - interval '30 days'`)) as unknown as { rows: { n: number }[] };
  return r.rows[0]?.n ?? 0;
}
