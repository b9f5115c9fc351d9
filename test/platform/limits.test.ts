// Per-caller rate limits (429 problem+json with Retry-After and RateLimit-* headers, counted per user
// across both doors, per-role quotas, shared in Redis), and load shedding (503 with Retry-After).
import { Redis } from 'ioredis';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { quotaFor } from '../../src/plugins/limits.js';
import { buildTestApp, TEST_SECRET } from '../helpers/app.js';
import { problemOf } from '../helpers/problems.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

async function redisUp(): Promise<boolean> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

t.test('quotas: the highest override among the roles, else the general one', async (t) => {
  const cfg = { perMinute: 600, perRole: { partner_sales: 120, integration: 3000 }, redisUrl: undefined };
  t.equal(quotaFor(['sales'], cfg), 600);
  t.equal(quotaFor(['partner_sales'], cfg), 120);
  t.equal(quotaFor(['partner_sales', 'integration'], cfg), 3000);
  t.throws(() => loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, RATE_LIMIT_ROLES: 'sales:10' }), /RATE_LIMIT_ROLES/);
  t.throws(() => loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, RATE_LIMIT_REDIS_URL: 'http://x' }), /RATE_LIMIT_REDIS_URL/);
  t.same(loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET }).rateLimit, { perMinute: 600, perRole: {}, redisUrl: undefined }, '600 a minute by default');
});

t.test('in memory, per caller', async (t) => {
  const app = await buildTestApp({ RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_ROLES: 'integration=8' });
  t.teardown(() => app.close());
  const unit = await app.unit('REGION');
  const a = await app.user(unit, ['sales']);
  const b = await app.user(unit, ['sales']);
  const machine = await app.user(unit, ['integration']);

  for (let i = 0; i < 5; i++) {
    const res = await app.rest(a, 'GET', '/v1/me');
    t.equal(res.status, 200);
    t.equal(res.headers['ratelimit-limit'], '5');
    t.equal(res.headers['ratelimit-remaining'], String(4 - i));
  }
  const over = await app.rest(a, 'GET', '/v1/me');
  t.equal(problemOf(over, 429), null, 'the sixth request in the minute');
  t.equal(over.body.code, 'RATE_LIMITED');
  t.ok(Number(over.headers['retry-after']) >= 1 && Number(over.headers['retry-after']) <= 60, `Retry-After ${over.headers['retry-after']}`);
  t.equal(over.headers['ratelimit-limit'], '5');
  t.equal(over.headers['ratelimit-remaining'], '0');
  t.ok(over.headers['ratelimit-reset'], 'RateLimit-Reset');
  const g = await app.gql(a, '{ me { user { id } } }');
  t.same(g.codes, ['RATE_LIMITED'], 'GraphQL counts against the same caller (a GraphQL error)');
  t.equal(g.status, 429, 'refused before execution: HTTP 429, as GraphQL-over-HTTP allows for application/json');
  const graw = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, payload: JSON.stringify({ query: '{ me { user { id } } }' }) });
  t.equal(graw.statusCode, 429);
  t.ok(Number(graw.headers['retry-after']) >= 1, `Retry-After ${graw.headers['retry-after']}`);
  t.equal(graw.headers['ratelimit-remaining'], '0');
  t.match(String(graw.headers['content-type']), /^application\/json/, 'a GraphQL answer, not a problem');
  t.equal(JSON.parse(graw.body).data, null);

  t.equal((await app.rest(b, 'GET', '/v1/me')).status, 200, 'another caller has its own count');
  for (let i = 0; i < 8; i++) t.equal((await app.rest(machine, 'GET', '/v1/me')).status, 200, `integration request ${i + 1} of its 8`);
  t.equal((await app.rest(machine, 'GET', '/v1/me')).status, 429, 'a per-role quota');
  for (let i = 0; i < 10; i++) t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  t.pass('health is never limited');
});

t.test('in Redis: the count is shared by instances', async (t) => {
  if (!(await redisUp())) {
    t.comment('Redis is not running on 127.0.0.1:6379: skipped');
    return;
  }
  const one = await buildTestApp({ RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_REDIS_URL: REDIS_URL });
  t.teardown(() => one.close());
  const two = await buildTestApp({ RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_REDIS_URL: REDIS_URL });
  t.teardown(() => two.close());
  const unit = await one.unit('REGION');
  const u = await one.user(unit, ['sales']);
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await one.rest(u, 'GET', '/v1/me')).status);
  for (let i = 0; i < 3; i++) statuses.push((await two.rest(u, 'GET', '/v1/me')).status);
  t.same(statuses, [200, 200, 200, 200, 200, 429], 'five in all, over both instances');
  const res = await two.rest(u, 'GET', '/v1/me');
  t.equal(problemOf(res, 429), null);
  t.ok(res.headers['retry-after']);
});

t.test('a Redis that is away does not take the API down', async (t) => {
  const app = await buildTestApp({ RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_REDIS_URL: 'redis://127.0.0.1:1' });
  t.teardown(() => app.close());
  const unit = await app.unit('REGION');
  const u = await app.user(unit, ['sales']);
  t.equal((await app.rest(u, 'GET', '/v1/me')).status, 200, 'answered without a limit');
});

// Blocks the event loop for 400 ms six times, as CPU-bound bursts would, asking /v1/me after each.
async function askWhileLagging(app: Awaited<ReturnType<typeof buildTestApp>>, u: Parameters<Awaited<ReturnType<typeof buildTestApp>>['rest']>[0]) {
  const answers: Awaited<ReturnType<typeof app.rest>>[] = [];
  for (let i = 0; i < 6; i++) {
    const until = Date.now() + 400;
    while (Date.now() < until) {
      // busy
    }
    await new Promise((r) => setTimeout(r, 50));
    answers.push(await app.rest(u, 'GET', '/v1/me'));
    if (answers.at(-1)!.status === 503) break;
  }
  return answers;
}

t.test('under pressure: 503 problem+json with Retry-After, health still answers', async (t) => {
  const app = await buildTestApp({ PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '50', PRESSURE_STARTUP_GRACE_MS: '0' });
  t.teardown(() => app.close());
  const unit = await app.unit('REGION');
  const u = await app.user(unit, ['sales']);
  const shed = (await askWhileLagging(app, u)).find((r) => r.status === 503);
  t.ok(shed, 'a request is shed while the event loop lags');
  if (shed) {
    t.equal(problemOf(shed, 503), null);
    t.equal(shed.body.code, 'UNAVAILABLE');
    t.equal(shed.headers['retry-after'], '5');
  }
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, '/healthz is not shed');
});

t.test('under pressure: the event-loop delay is not judged during the start-up grace', async (t) => {
  const app = await buildTestApp({ PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '50', PRESSURE_STARTUP_GRACE_MS: '600000' });
  t.teardown(() => app.close());
  const unit = await app.unit('REGION');
  const u = await app.user(unit, ['sales']);
  const answers = await askWhileLagging(app, u);
  t.same(answers.map((r) => r.status), [200, 200, 200, 200, 200, 200], 'every request answered while the instance is within its grace');
});
