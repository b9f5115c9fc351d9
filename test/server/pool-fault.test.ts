// Server connections terminated under load (pg_terminate_backend, as a failover or an operator does):
// the process keeps running, every request answers (success or 503 problem+json with Retry-After),
// nothing is half-written, and the next requests succeed without a restart. PostgreSQL only: the
// embedded database has no server connections to lose. Only this file's own connections are killed
// (they carry an application_name of their own): the database is shared.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { createDatabase, queryRows } from '../../src/db/client.js';
import { migrateAndBootstrap } from '../../src/db/migrate.js';
import { TestApp, testConfig } from '../helpers/app.js';
import { isProblem } from '../helpers/problems.js';

const url = process.env.DATABASE_URL;

t.test('terminated server connections', { skip: url ? false : 'needs PostgreSQL (DATABASE_URL)' }, async (t) => {
  const appName = `keel-fault-${randomUUID().slice(0, 8)}`;
  const withName = `${url}${url!.includes('?') ? '&' : '?'}application_name=${appName}`;
  const config = testConfig();
  const database = await createDatabase({ url: withName, poolSize: 8, connectTimeoutMs: 2000 });
  await migrateAndBootstrap(database, config.adminEmail);
  const fastify = await buildApp(config, { database, migrate: false, logger: false });
  await fastify.ready();
  const app = new TestApp(fastify, database);
  t.teardown(() => app.close());

  const killer = new pg.Client({ connectionString: url });
  await killer.connect();
  t.teardown(() => killer.end());
  const killAll = async () =>
    (await killer.query('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [appName])).rows[0]
      .n as number;

  const region = await app.unit('REGION');
  const branch = await app.unit('BRANCH', region);
  const seller = await app.user(branch, ['sales']);
  const warm = await app.rest(seller, 'GET', '/v1/me');
  t.equal(warm.status, 200, 'the service answers before the fault');

  t.test('an idle pooled connection killed: the process lives, the next request succeeds', async (t) => {
    await Promise.all(Array.from({ length: 6 }, () => app.rest(seller, 'GET', '/v1/customers?limit=1')));
    t.ok((await killAll()) > 0, 'connections were terminated');
    await new Promise((r) => setTimeout(r, 50));
    const res = await app.rest(seller, 'GET', '/v1/me');
    t.equal(res.status, 200, 'answers normally at once');
  });

  t.test('a connection killed while checked out (inside a transaction, between statements)', async (t) => {
    // A transaction that holds its connection while the server side goes away: the 'error' event
    // arrives on a client the pool has handed out, the case that used to end the process.
    const outcome = await database.db
      .transaction(async (tx) => {
        await tx.execute(sql`SELECT 1`);
        await killAll();
        await new Promise((r) => setTimeout(r, 400));
        await tx.execute(sql`SELECT 1`);
        return 'committed';
      })
      .then(
        (v) => v,
        (err: Error) => `failed: ${err.message.slice(0, 60)}`,
      );
    t.match(outcome, /^failed/, 'the transaction fails instead of the process');
    const res = await app.rest(seller, 'GET', '/v1/me');
    t.equal(res.status, 200, 'the next request succeeds on a fresh connection');
  });

  t.test('every connection killed again and again under a write load', async (t) => {
    const names: string[] = [];
    const answers: { name: string; status: number; id?: string; problem: boolean; retryAfter: unknown; code?: string }[] = [];
    let stop = false;
    let kills = 0;
    const storm = (async () => {
      while (!stop) {
        kills += await killAll();
        await new Promise((r) => setTimeout(r, 400));
      }
    })();
    const worker = async (w: number) => {
      for (let i = 0; i < 25; i++) {
        const name = `Fault ${appName} ${w}-${i}`;
        names.push(name);
        const res = await app.rest(seller, 'POST', '/v1/customers', { name, kind: 'ORGANIZATION' });
        answers.push({ name, status: res.status, id: res.body?.id, problem: isProblem(res.headers), retryAfter: res.headers['retry-after'], code: res.body?.code });
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    stop = true;
    await storm;
    const pool = (database.db as unknown as { $client: pg.Pool }).$client;
    t.equal(pool.totalCount - pool.idleCount, 0, 'no connection is left checked out once the load is over');
    const killedAt = Date.now();
    await killAll();

    t.ok(kills > 0, `server connections were terminated during the load (${kills})`);
    const ok = answers.filter((a) => a.status === 201);
    const unavailable = answers.filter((a) => a.status === 503);
    t.comment(`${answers.length} writes: ${ok.length} created, ${unavailable.length} answered 503`);
    t.same(
      answers.filter((a) => a.status !== 201 && a.status !== 503),
      [],
      'every request answered: created, or 503',
    );
    t.ok(unavailable.length > 0, 'some requests met a terminated connection');
    t.ok(ok.length > 0, 'writes between the kills succeed');
    t.ok(
      unavailable.every((a) => a.problem && a.code === 'UNAVAILABLE' && a.retryAfter === '1'),
      'each 503 is problem+json UNAVAILABLE with Retry-After',
    );

    // Answers normally again within a second, without a restart.
    let back = false;
    const seen: string[] = [];
    while (!back && Date.now() - killedAt < 1000) {
      const res = await app.rest(seller, 'GET', '/v1/me');
      back = res.status === 200;
      seen.push(`${Date.now() - killedAt}ms ${res.status} ${res.body?.detail ?? ''}`);
    }
    t.comment(seen.slice(-1).join(''));
    t.ok(back, 'answers normally again within 1 s');

    // Nothing half-written: each customer present has its audit row and event; every created one is present.
    const rows = await queryRows<{ name: string; id: string; audits: number; events: number }>(
      database.db,
      sql`SELECT c.name, c.id,
            (SELECT count(*)::int FROM audit_log a WHERE a.entity_id = c.id AND a.action = 'created') AS audits,
            (SELECT count(*)::int FROM events e WHERE e.entity_id = c.id AND e.type = 'customer.created') AS events
          FROM customers c WHERE c.name = ANY(${sql.param(names)}::text[])`,
    );
    const byName = new Map(rows.map((r) => [r.name, r]));
    t.same(
      ok.filter((a) => byName.get(a.name)?.id !== a.id),
      [],
      'every 201 write is stored under the id it answered',
    );
    t.same(
      rows.filter((r) => r.audits !== 1 || r.events !== 1),
      [],
      'every stored write has exactly its audit row and its event',
    );
    // A 503 whose COMMIT reached the server before the connection died is stored in full (a retry
    // with the same Idempotency-Key answers its first result); every other 503 left nothing.
    const ambiguous = unavailable.filter((a) => byName.has(a.name));
    t.comment(`503 answers whose commit had landed: ${ambiguous.length}`);
    t.ok(ambiguous.length <= Math.max(1, Math.floor(unavailable.length / 10)), 'a 503 leaves nothing, except a commit cut off in its answer');
  });
});
