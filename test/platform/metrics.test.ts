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
