import t from 'tap';
import { buildApp } from '../../src/app.js';
import { buildTestApp, TestApp, testConfig } from '../helpers/app.js';

const base = await buildTestApp();
t.teardown(() => base.close());

// The real logger (level info, redaction) writing into memory instead of stdout.
const lines: string[] = [];
const raw = await buildApp(testConfig({ LOG_LEVEL: 'info' }), {
  database: base.database,
  migrate: false,
  logStream: { write: (s: string) => void lines.push(s) },
});
raw.get('/v1/test-boom', async () => {
  throw new Error('boom for the log');
});
await raw.ready();
const app = new TestApp(raw, base.database);
t.teardown(() => raw.close());

type Line = { level: number; msg: string; reqId?: string; status?: number; method?: string; url?: string; userId?: string; err?: { stack?: string } };
const parsed = (from: number): Line[] => lines.slice(from).map((l) => JSON.parse(l) as Line);

t.test('one JSON line per request, carrying the request id', async (t) => {
  const user = await app.user(await app.root(), ['sales']);
  const start = lines.length;
  const calls = [
    await app.rest(user, 'GET', '/v1/me'),
    await app.rest(user, 'GET', '/v1/org-units?x=1'),
    await app.rest(null, 'GET', '/v1/me'),
    await app.rest(null, 'GET', '/healthz'),
    await app.rest(user, 'GET', '/v1/nope'),
    await app.rest(user, 'POST', '/v1/org-units', { name: 'x' }),
    await app.gql(user, '{ me { user { id } } }').then((g) => ({ ...g, headers: {} as Record<string, string> })),
  ];
  const requestLines = parsed(start).filter((l) => l.msg === 'request');
  t.equal(requestLines.length, calls.length, 'exactly one request line per request');
  const ids = requestLines.map((l) => l.reqId);
  t.equal(new Set(ids).size, calls.length, 'distinct request ids');
  for (let i = 0; i < 6; i++) t.equal(ids[i], calls[i]?.headers['x-request-id'], `line ${i} carries the id the client got`);
  t.match(requestLines[0], { method: 'GET', url: '/v1/me', status: 200, userId: user.id, level: 30 });
  t.equal(requestLines[1]?.url, '/v1/org-units', 'no query string in the log');
  t.match(requestLines[2], { status: 401 });
  t.notOk(requestLines[2]?.userId, 'no user on a refused request');
  t.match(requestLines[4], { status: 404 });
  t.match(requestLines[5], { status: 400 });
  t.match(requestLines[6], { url: '/graphql', status: 200, userId: user.id });
});

t.test('a supplied x-request-id is logged as given', async (t) => {
  const user = await app.user(await app.root(), ['sales']);
  const start = lines.length;
  await app.rest(user, 'GET', '/v1/me', undefined, { 'x-request-id': 'client-trace-42' });
  const l = parsed(start).filter((x) => x.msg === 'request');
  t.equal(l.length, 1);
  t.equal(l[0]?.reqId, 'client-trace-42');
});

t.test('a 500 is logged with its stack, once, and the answer stays clean', async (t) => {
  const user = await app.user(await app.root(), ['sales']);
  const start = lines.length;
  const res = await app.rest(user, 'GET', '/v1/test-boom');
  t.equal(res.status, 500);
  const l = parsed(start);
  const errors = l.filter((x) => x.level >= 50);
  t.equal(errors.length, 1, 'one error line');
  t.match(errors[0]?.err?.stack ?? '', /boom for the log/, 'the log keeps what the answer hides');
  t.equal(errors[0]?.reqId, res.headers['x-request-id'], 'tied to the request');
  t.equal(l.filter((x) => x.msg === 'request').length, 1, 'still one request line');
});

t.test('tokens and the Authorization header never reach the log', async (t) => {
  const user = await app.user(await app.root(), ['sales']);
  const start = lines.length;
  const bad = `${user.token.slice(0, -4)}AAAA`;
  await app.rest(user, 'GET', '/v1/me');
  await app.rest(bad, 'GET', '/v1/me');
  await app.rest(user, 'GET', '/v1/test-boom');
  await app.rest(user, 'POST', '/v1/org-units', 'not an object', { 'idempotency-key': 'log-key-secret-123' });
  await app.gql(bad, '{ me { user { id } } }');
  await app.inject({ method: 'GET', url: `/v1/me?access_token=${user.token}`, headers: { authorization: `Bearer ${user.token}` } });
  const text = lines.slice(start).join('');
  t.ok(text.length > 0, 'something was logged');
  const [header, payload, signature] = user.token.split('.');
  for (const [what, s] of [
    ['the token', user.token],
    ['the refused token', bad],
    ['the JWT header', header],
    ['the JWT payload', payload],
    ['the JWT signature', signature],
    ['the idempotency key', 'log-key-secret-123'],
  ] as const) {
    t.notOk(text.includes(s ?? 'x'.repeat(99)), `${what} is not in the log`);
  }
  t.notMatch(text, /Bearer|authorization/i, 'no Authorization header');
});
