// Three instances of the real server behind PgBouncer in transaction pooling mode (Debian's
// pgbouncer, started by the test on its own port, in front of the shared PostgreSQL, on a database
// of this test's own). Named prepared statements are off (DB_PREPARED_STATEMENTS=false: PgBouncer
// before 1.21 cannot keep them across transactions); migrations' and the job queue's session
// advisory locks and the job queue itself use the direct connection (DATABASE_DIRECT_URL). The
// three start together (migrations advisory-locked), the API works through any of them, and a
// load spread over the three gives the same answers as one instance.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { adminId, call, PGBOUNCER, pgbouncer, startServer, tokenFor } from '../helpers/processes.js';

const url = process.env.DATABASE_URL;
const skip = !url ? 'needs PostgreSQL (DATABASE_URL)' : !PGBOUNCER ? 'needs pgbouncer (apt-get install pgbouncer)' : false;

t.test('three instances behind PgBouncer (transaction pooling)', { skip, timeout: 300_000 }, async (t) => {
  const server = new URL(url!);
  const dbName = `keel_pgb_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  let bouncer: Awaited<ReturnType<typeof pgbouncer>> | undefined;
  let instances: Awaited<ReturnType<typeof startServer>>[] = [];
  // One teardown, in order: the servers, the pooler, the database.
  t.teardown(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await bouncer?.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  });
  const direct = new URL(url!);
  direct.pathname = `/${dbName}`;
  bouncer = await pgbouncer(Number(server.port || 5432), { poolSize: 6 });

  const env = {
    DATABASE_URL: bouncer.url(dbName),
    DATABASE_DIRECT_URL: direct.toString(),
    DB_PREPARED_STATEMENTS: 'false',
    DB_POOL_SIZE: '5',
    JOBS_ENABLED: 'true',
    JOBS_POLL_SECONDS: '1',
  };
  // All three at once on an empty database: the migrations and the queue set-up take turns.
  instances = await Promise.all([0, 1, 2].map(() => startServer(env, { readyTimeoutMs: 150_000 })));
  const [a, b, c] = instances as [(typeof instances)[0], (typeof instances)[0], (typeof instances)[0]];
  const token = tokenFor(await adminId(direct.toString()));
  const on = (i: (typeof instances)[0], method: string, path: string, body?: unknown, who = token) => call(i.base, who, method, path, body, 30_000);
  for (const [n, i] of instances.entries()) t.equal((await on(i, 'GET', '/readyz')).status, 200, `instance ${n + 1} ready through PgBouncer`);

  t.test('the API works through the pooler', async (t) => {
    const me = await on(a, 'GET', '/v1/me');
    t.equal(me.status, 200, 'GET /v1/me');
    const root = (await on(a, 'GET', '/v1/org-units')) as { status: number; body: { data: { id: string; kind: string }[] } };
    const hq = root.body.data.find((u) => u.kind === 'HEADQUARTERS');
    const region = await on(a, 'POST', '/v1/org-units', { name: `Region ${dbName}`, kind: 'REGION', parentId: hq?.id });
    t.equal(region.status, 201, 'POST /v1/org-units');
    const seller = await on(b, 'POST', '/v1/users', { email: `seller-${dbName}@test.example`, name: 'Seller', unitId: (region as { body: { id: string } }).body.id, roles: ['sales'] });
    t.equal(seller.status, 201, 'POST /v1/users on another instance');
    const sellerToken = tokenFor((seller as { body: { id: string } }).body.id);
    const created = await on(c, 'POST', '/v1/customers', { name: `Pooled customer ${dbName}`, kind: 'ORGANIZATION' }, sellerToken);
    t.equal(created.status, 201, 'POST /v1/customers as the seller');
    const id = (created as { body: { id: string } }).body.id;
    // The customer read by id is the prepared statement of the hot path: unnamed here, on every instance.
    for (const [n, i] of instances.entries()) t.equal((await on(i, 'GET', `/v1/customers/${id}`, undefined, sellerToken)).status, 200, `GET /v1/customers/{id} on instance ${n + 1}`);
    const patched = await call(a.base, sellerToken, 'PATCH', `/v1/customers/${id}`, { name: `Pooled customer ${dbName} renamed` });
    t.equal(patched.status, 200, 'PATCH /v1/customers/{id}');
    const gql = await on(b, 'POST', '/graphql', { query: `{ customer(id: "${id}") { id name version } customers(first: 5) { totalCount } }` }, sellerToken);
    t.equal(gql.status, 200, 'GraphQL answers');
    t.same((gql as { body: { data?: { customer?: { name: string; version: number } } } }).body.data?.customer, { id, name: `Pooled customer ${dbName} renamed`, version: 2 }, 'GraphQL reads the write another instance made');
    t.equal((await on(c, 'GET', '/v1/reports/sources')).status, 200, 'a report');
    t.equal((await on(a, 'GET', '/v1/events?limit=5')).status, 200, 'the events feed');
    t.equal((await on(b, 'GET', `/v1/audit?entityId=${id}`)).status, 200, 'the audit log');
    const missing = await on(c, 'GET', `/v1/customers/${randomUUID()}`, undefined, sellerToken);
    t.equal(missing.status, 404, 'an unknown id is 404 (errors map as without the pooler)');
  });

  t.test('a load spread over three instances answers as one instance does', async (t) => {
    const tag = `Spread ${randomUUID().slice(0, 8)}`;
    const writes = await Promise.all(
      Array.from({ length: 30 }, (_, k) => on(instances[k % 3]!, 'POST', '/v1/customers', { name: `${tag} ${String(k).padStart(2, '0')}`, kind: 'ORGANIZATION' })),
    );
    t.same(
      writes.filter((w) => w.status !== 201).map((w) => ('body' in w ? w.body : w.error)),
      [],
      'every write through any instance succeeds',
    );
    const ids = writes.map((w) => (w as { body: { id: string } }).body.id);
    const list = `/v1/customers?q=${encodeURIComponent(tag)}&limit=200&count=true&sort=name`;
    const lists = await Promise.all(instances.map((i) => on(i, 'GET', list)));
    const one = await on(a, 'GET', list);
    const shape = (r: typeof one) => {
      const body = (r as { body: { data: { id: string; version: number; name: string }[]; totalCount: number } }).body;
      return { totalCount: body.totalCount, rows: body.data.map((x) => `${x.id} ${x.version} ${x.name}`) };
    };
    t.equal(shape(one).totalCount, 30, 'one instance lists all 30');
    for (const [n, l] of lists.entries()) t.same(shape(l), shape(one), `instance ${n + 1} lists the same page and count`);
    // Each record read through a different instance than the one that wrote it, and through one instance.
    const spread = await Promise.all(ids.map((id, k) => on(instances[(k + 1) % 3]!, 'GET', `/v1/customers/${id}`)));
    const single = await Promise.all(ids.map((id) => on(a, 'GET', `/v1/customers/${id}`)));
    t.same(
      spread.map((r) => ('body' in r ? r.body : r.error)),
      single.map((r) => ('body' in r ? r.body : r.error)),
      'every record reads the same through any instance',
    );
    // Concurrent updates of one record spread over the instances: versions advance one by one, none lost.
    const target = ids[0]!;
    const patches = await Promise.all(
      Array.from({ length: 9 }, (_, k) => on(instances[k % 3]!, 'PATCH', `/v1/customers/${target}`, { website: `https://example.com/${k}` })),
    );
    t.same(patches.filter((p) => p.status !== 200).map((p) => p.status), [], 'concurrent patches through three instances all apply');
    const final = (await on(c, 'GET', `/v1/customers/${target}`)) as { body: { version: number } };
    t.equal(final.body.version, 10, 'the version counts every patch once');
  });

  t.test('nothing in the logs says the pooler broke a statement', async (t) => {
    for (const [n, i] of instances.entries()) {
      t.notMatch(i.output(), /prepared statement|unsupported startup parameter|advisory/i, `instance ${n + 1}`);
    }
  });
});
