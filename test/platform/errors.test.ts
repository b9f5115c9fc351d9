import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { queryRows } from '../../src/db/client.js';
import { buildTestApp, TestApp, testConfig } from '../helpers/app.js';

const base = await buildTestApp();
t.teardown(() => base.close());

// A second app on the same database: a small body limit and two routes that fail the way a bug would.
const raw = await buildApp(testConfig({ BODY_LIMIT_BYTES: '2048' }), { database: base.database, migrate: false, logger: false });
raw.get('/v1/test-boom', async () => {
  const err = new Error('relation "secret_internal_table" does not exist: SELECT password_hash FROM secret_internal_table');
  Object.assign(err, { code: '42P01', detail: 'internal detail', table: 'secret_internal_table' });
  throw err;
});
raw.get('/v1/test-query-failure', async () => {
  // A real SQL error from the database driver.
  await queryRows(raw.database.db, sql`SELECT * FROM secret_internal_table_that_does_not_exist`);
  return { ok: true };
});
await raw.ready();
const app = new TestApp(raw, base.database);
t.teardown(() => raw.close());

function isProblem(t: Tap, res: { status: number; headers: Record<string, unknown>; body: any }, status: number, what: string) {
  t.equal(res.status, status, `${what}: ${status}`);
  t.match(String(res.headers['content-type']), /^application\/problem\+json/, `${what}: problem+json`);
  t.match(res.body, { type: /^https?:\/\//, title: String, status, detail: String }, `${what}: type/title/status/detail`);
}
// The type of a subtest (the last overload of t.test takes only the callback).
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

async function unitsNamed(name: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(base.db, sql`SELECT count(*)::int AS n FROM org_units WHERE name = ${name}`);
  return Number(row?.n ?? 0);
}

t.test('unknown route: 404 problem+json, with or without a token', async (t) => {
  const admin = await app.admin();
  isProblem(t, await app.rest(null, 'GET', '/v1/definitely-not-a-route'), 404, 'anonymous');
  isProblem(t, await app.rest(admin, 'GET', '/v1/definitely-not-a-route?x=1'), 404, 'authenticated');
  isProblem(t, await app.rest(admin, 'GET', '/nothing-here'), 404, 'outside /v1');
  const wrongMethod = await app.rest(admin, 'PUT', '/v1/org-units', {});
  t.ok(wrongMethod.status === 404 || wrongMethod.status === 405, 'wrong method on a known path');
  t.match(String(wrongMethod.headers['content-type']), /^application\/problem\+json/);
});

t.test('malformed JSON: 400, nothing written', async (t) => {
  const admin = await app.admin();
  const name = `malformed-${randomUUID()}`;
  const res = await app.inject({
    method: 'POST',
    url: '/v1/org-units',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    payload: `{"name": "${name}", "kind": "REGION", `,
  });
  const body = JSON.parse(res.body);
  isProblem(t, { status: res.statusCode, headers: res.headers, body }, 400, 'malformed JSON');
  t.same(body.errors?.map((e: any) => e.path), ['body']);
  t.notMatch(res.body, /Unexpected|SyntaxError|position \d+/, 'no parser internals');
  t.equal(await unitsNamed(name), 0, 'nothing written');
});

t.test('unknown field and bad values: 400 naming the field', async (t) => {
  const admin = await app.admin();
  const root = await app.root();
  const name = `strict-${randomUUID()}`;
  const extra = await app.rest(admin, 'POST', '/v1/org-units', { name, kind: 'REGION', parentId: root.id, colour: 'blue' });
  isProblem(t, extra, 400, 'unknown field');
  t.same(extra.body.errors, [{ path: 'colour', message: 'unknown field' }]);
  const badId = await app.rest(admin, 'GET', '/v1/org-units/not-a-uuid');
  isProblem(t, badId, 400, 'bad path id');
  t.same(badId.body.errors.map((e: any) => e.path), ['id']);
  const badLimit = await app.rest(admin, 'GET', '/v1/users?limit=1000');
  isProblem(t, badLimit, 400, 'limit over 200');
  t.same(badLimit.body.errors.map((e: any) => e.path), ['limit']);
  t.equal(await unitsNamed(name), 0, 'nothing written');
});

t.test('body over BODY_LIMIT_BYTES: 413', async (t) => {
  const admin = await app.admin();
  const root = await app.root();
  const name = `big-${randomUUID()}`;
  const small = await app.rest(admin, 'POST', '/v1/org-units', { name, kind: 'REGION', parentId: root.id, padding: 'x'.repeat(4000) });
  isProblem(t, small, 413, 'over the configured 2 KiB');
  const def = await base.rest(admin, 'POST', '/v1/org-units', { name, kind: 'REGION', parentId: root.id, padding: 'x'.repeat(1024 * 1024 + 10) });
  isProblem(t, def, 413, 'over the default 1 MiB');
  t.equal(await unitsNamed(name), 0, 'nothing written');
});

t.test('wrong content type: 415', async (t) => {
  const admin = await app.admin();
  for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/org-units',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': type },
      payload: 'name=x&kind=REGION',
    });
    isProblem(t, { status: res.statusCode, headers: res.headers, body: JSON.parse(res.body) }, 415, type);
  }
});

t.test('a 500 shows no stack, SQL or internal names', async (t) => {
  const admin = await app.admin();
  for (const url of ['/v1/test-boom', '/v1/test-query-failure']) {
    const res = await app.rest(admin, 'GET', url);
    isProblem(t, res, 500, url);
    t.equal(res.body.detail, 'the server could not complete the request');
    t.notMatch(res.raw, /secret_internal_table|SELECT|password_hash|42P01|stack|\.ts:\d+|node_modules|at \w/, `${url}: nothing internal`);
    t.same(Object.keys(res.body).sort(), ['code', 'detail', 'instance', 'status', 'title', 'type'], `${url}: only the problem fields`);
    t.ok(res.headers['x-request-id'], 'the request id is there to quote to support');
  }
});

t.test('x-request-id: returned on every answer, a sane incoming one is kept', async (t) => {
  const admin = await app.admin();
  const a = await app.rest(admin, 'GET', '/v1/me');
  const b = await app.rest(admin, 'GET', '/v1/me');
  t.ok(a.headers['x-request-id']);
  t.not(a.headers['x-request-id'], b.headers['x-request-id'], 'one per request');
  t.equal((await app.rest(admin, 'GET', '/v1/me', undefined, { 'x-request-id': 'trace-abc.123' })).headers['x-request-id'], 'trace-abc.123');
  const odd = await app.rest(admin, 'GET', '/v1/me', undefined, { 'x-request-id': 'has spaces and <html>' });
  t.not(odd.headers['x-request-id'], 'has spaces and <html>', 'an unsafe one is replaced');
  t.ok(odd.headers['x-request-id']);
  t.ok((await app.rest(null, 'GET', '/v1/me')).headers['x-request-id'], 'on a 401 too');
  t.ok((await app.rest(null, 'GET', '/v1/nope')).headers['x-request-id'], 'on a 404 too');
});
