// GET /metrics (Prometheus text): per-route count and latency, pool, job queue; and x-request-id
// accepted or generated, echoed, and kept on the audit row of a write.
import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../src/db/client.js';
import { buildTestApp } from '../helpers/app.js';

t.test('metrics and request ids', async (t) => {
  const app = await buildTestApp();
  t.teardown(() => app.close());
  const unit = await app.unit('REGION');
  const user = await app.user(unit, ['sales']);
  t.equal((await app.rest(user, 'GET', '/v1/me')).status, 200);
  await app.rest(user, 'GET', `/v1/customers/00000000-0000-4000-8000-000000000000`);

  const res = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200, 'no token needed (like /healthz)');
  t.match(res.headers['content-type'], /^text\/plain/);
  const body = res.body;
  t.match(body, /http_request_duration_seconds_count\{method="GET",route="\/v1\/me",status_code="200"\} [1-9]/, 'per-route count, by route pattern');
  t.match(body, /http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/v1\/customers\/:id",status_code="404"\}/, 'latency histogram, ids folded into the pattern');
  t.match(body, /keel_db_pool_connections\{state="in_use"\} \d+/, 'pool in use');
  t.match(body, /keel_db_pool_waiting \d+/, 'pool waiting');
  t.match(body, /# TYPE keel_db_connection_errors_total counter/, 'lost connections');
  t.match(body, /# TYPE keel_job_queue_depth gauge/, 'job queue depth');
  t.match(body, /keel_process_cpu_user_seconds_total/, 'process metrics');
  t.notMatch(body, /route="\/metrics"/, 'the scrape does not count itself');
  t.notMatch(body, /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/, 'no ids in labels');

  const given = await app.rest(user, 'POST', '/v1/customers', { name: `Traced ${Date.now()}`, kind: 'ORGANIZATION' }, { 'x-request-id': 'trace-abc.123' });
  t.equal(given.status, 201);
  t.equal(given.headers['x-request-id'], 'trace-abc.123', 'a given request id is echoed');
  const [row] = await queryRows<{ request_id: string }>(app.db, sql`SELECT request_id FROM audit_log WHERE entity_id = ${given.body.id}::uuid`);
  t.equal(row?.request_id, 'trace-abc.123', 'and kept on the audit row');
  const generated = await app.rest(user, 'GET', '/v1/me', undefined, { 'x-request-id': 'bad id with spaces' });
  t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an unusable one is replaced by a generated id');
  const problem = await app.rest(null, 'GET', '/v1/me');
  t.ok(problem.headers['x-request-id'], 'refusals carry it too');
});

const gauge = (body: string, re: RegExp): number => {
  const m = re.exec(body);
  return m ? Number(m[1]) : Number.NaN;
};

t.test('webhook backlog and events lag', async (t) => {
  // A retry an hour away: a failed try stays PENDING (scheduled) while the test reads the gauges.
  const app = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '1h', WEBHOOK_TIMEOUT_MS: '1000' });
  t.teardown(() => app.close());
  const admin = await app.admin();
  // A target that refuses connections: port 9 (discard) on loopback, not listened on here.
  const hook = await app.rest(admin, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hooks', types: ['customer.*'] });
  t.equal(hook.status, 201, hook.raw);
  t.teardown(async () => {
    await app.rest(admin, 'DELETE', `/v1/webhooks/${hook.body.id}`);
  });
  const made = await app.rest(admin, 'POST', '/v1/customers', { name: `Lagging ${Date.now()}`, kind: 'ORGANIZATION' });
  t.equal(made.status, 201);
  await new Promise((r) => setTimeout(r, 50));

  const first = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(first, /# TYPE keel_webhook_backlog gauge/);
  t.match(first, /# TYPE keel_events_lag_seconds gauge/);
  t.ok(gauge(first, /^keel_events_lag_seconds ([\d.e+-]+)$/m) > 0, 'an event not yet delivered to an active subscription: lag above 0');

  // Deliveries owed to this subscription: three due now, two waiting for a retry, the oldest event an hour old.
  // Background delivery is off in tests, so nothing else moves these rows between the two scrapes.
  const hourAgo = new Date(Date.now() - 3600_000).toISOString();
  for (const [i, due] of [true, true, true, false, false].entries()) {
    await app.db.execute(sql`INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, entity_id, payload, next_attempt_at)
      VALUES (${hook.body.id}::uuid, ${`m-${i}`}, 'customer.updated', ${made.body.id}::uuid, ${JSON.stringify({ occurredAt: i === 0 ? hourAgo : new Date().toISOString() })}::jsonb,
              now() + ${due ? '-1 minute' : '1 hour'}::interval)`);
  }
  const owed = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  await app.db.execute(sql`UPDATE webhooks SET active = false WHERE id = ${hook.body.id}::uuid`);
  const paused = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const due = (b: string) => gauge(b, /^keel_webhook_backlog\{state="due"\} (\d+)$/m);
  const scheduled = (b: string) => gauge(b, /^keel_webhook_backlog\{state="scheduled"\} (\d+)$/m);
  t.equal(due(owed) - due(paused), 3, 'due deliveries of active subscriptions');
  t.equal(scheduled(owed) - scheduled(paused), 2, 'deliveries waiting for a retry');
  t.ok(gauge(owed, /^keel_events_lag_seconds ([\d.e+-]+)$/m) >= 3599, 'lag: the age of the oldest undelivered event');
});

t.test('METRICS_TOKEN: only the scraper reads /metrics', async (t) => {
  const token = 'scrape-token-0123456789abcdef';
  const app = await buildTestApp({ METRICS_TOKEN: token });
  t.teardown(() => app.close());
  const none = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(none.statusCode, 401, 'no token: 401');
  t.match(String(none.headers['content-type']), /^application\/problem\+json/);
  t.equal(JSON.parse(none.body).code, 'UNAUTHENTICATED');
  t.match(String(none.headers['www-authenticate']), /^Bearer/);
  t.notMatch(none.body, /keel_/, 'no metric leaks');
  const wrong = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}x` } });
  t.equal(wrong.statusCode, 401, 'a wrong token: 401');
  const user = await app.user(await app.unit('REGION'), ['admin']);
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${user.token}` } })).statusCode, 401, 'a user token is not the scraper token');
  const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
  t.equal(ok.statusCode, 200);
  t.match(ok.body, /keel_db_pool_waiting/);
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'health stays open');
});
