// PostgreSQL stopped for 10 s and started again under the running server process (its own cluster,
// never the shared one): /healthz keeps answering, /readyz and every request that needs the
// database answer 503 problem+json quickly (never hang, never crash); once PostgreSQL is back the
// same process serves again, its job queue (pg-boss) takes jobs again and webhook deliveries resume.
import { createServer, type IncomingMessage } from 'node:http';
import pg from 'pg';
import t from 'tap';
import { adminId, call, HAS_POSTGRES_BINARIES, ownPostgres, sleep, startServer, tokenFor } from '../helpers/processes.js';

const DOWN_MS = 10_000;

t.test('PostgreSQL stopped for 10 s and started again', { skip: HAS_POSTGRES_BINARIES ? false : 'needs PostgreSQL 15 binaries', timeout: 240_000 }, async (t) => {
  const cluster = await ownPostgres();
  t.teardown(() => cluster.destroy());
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE keel');
  await admin.end();
  const url = cluster.url('keel');

  // A webhook receiver: deliveries are recorded by the customer id they name.
  const received: string[] = [];
  const hook = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => hook.close(() => r())));
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;

  const server = await startServer({
    DATABASE_URL: url,
    DB_CONNECT_TIMEOUT_MS: '1000',
    JOBS_ENABLED: 'true',
    JOBS_POLL_SECONDS: '0.5',
    WEBHOOK_POLL_MS: '200',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_SCHEDULE: '1s,1s,1s,1s,1s',
  });
  t.teardown(() => server.stop());
  const pid = server.child.pid;
  let exitedEarly: string | null = null;
  void server.exited.then((e) => (exitedEarly = `code ${e.code} signal ${e.signal}`));
  const token = tokenFor(await adminId(url));
  const api = (method: string, path: string, body?: unknown) => call(server.base, token, method, path, body, 20_000);

  // Before: ready, a webhook subscribed, a customer's event delivered, a job taken by the queue.
  t.equal((await call(server.base, null, 'GET', '/readyz')).status, 200, 'ready before the stop');
  const sub = await api('POST', '/v1/webhooks', { url: hookUrl, types: ['customer.created'] });
  t.equal(sub.status, 201, 'webhook subscribed');
  const delivered = async (id: string, withinMs: number) => {
    const until = Date.now() + withinMs;
    while (Date.now() < until) {
      if (received.some((b) => b.includes(id))) return true;
      await sleep(200);
    }
    return false;
  };
  // A job put straight into the queue's table: done once a worker of this process takes it.
  const jobDone = async (withinMs: number) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query<{ id: string }>("INSERT INTO pgboss.job (name, data) VALUES ('handoff-escalation-sweep', '{}'::jsonb) RETURNING id");
      const until = Date.now() + withinMs;
      while (Date.now() < until) {
        const r = await c.query<{ state: string }>('SELECT state FROM pgboss.job WHERE id = $1', [rows[0]!.id]);
        if (r.rows[0]?.state === 'completed') return true;
        await sleep(250);
      }
      return false;
    } finally {
      await c.end();
    }
  };
  const before = await api('POST', '/v1/customers', { name: 'Before the stop', kind: 'ORGANIZATION' });
  t.equal(before.status, 201, 'a write before the stop');
  t.ok(await delivered((before as { body: { id: string } }).body.id, 15_000), 'its webhook is delivered');
  t.ok(await jobDone(20_000), 'the job queue takes a job before the stop');

  // Down for 10 s: probes and requests all the while.
  const stoppedAt = Date.now();
  await cluster.stop();
  const during: { path: string; status: number; ms: number; problem: boolean; code?: string; retryAfter?: string | null; error?: string }[] = [];
  let healthz = 0;
  while (Date.now() - stoppedAt < DOWN_MS) {
    const answers = await Promise.all([
      call(server.base, null, 'GET', '/readyz', undefined, 8000).then((a) => ['/readyz', a] as const),
      api('GET', '/v1/me').then((a) => ['GET /v1/me', a] as const),
      api('GET', '/v1/customers?limit=5').then((a) => ['GET /v1/customers', a] as const),
      api('POST', '/v1/customers', { name: `During the stop ${Date.now()}`, kind: 'ORGANIZATION' }).then((a) => ['POST /v1/customers', a] as const),
      call(server.base, null, 'GET', '/healthz').then((a) => ['/healthz', a] as const),
    ]);
    for (const [path, a] of answers) {
      if (path === '/healthz') {
        if (a.status === 200) healthz++;
        continue;
      }
      during.push({
        path,
        status: a.status,
        ms: a.ms,
        problem: 'headers' in a && (a.headers.get('content-type') ?? '').startsWith('application/problem+json'),
        ...('body' in a && a.body && typeof a.body === 'object' ? { code: (a.body as { code?: string }).code } : {}),
        ...('headers' in a ? { retryAfter: a.headers.get('retry-after') } : {}),
        ...('error' in a ? { error: a.error } : {}),
      });
    }
    await sleep(500);
  }
  t.comment(`${during.length} answers while PostgreSQL was down; slowest ${Math.max(...during.map((d) => d.ms))} ms`);
  t.ok(healthz > 0, '/healthz answers while the database is away (the process is alive)');
  t.same(
    during.filter((d) => d.status !== 503),
    [],
    'every probe and request answers 503 while the database is away (none hangs, none is cut)',
  );
  t.same(
    during.filter((d) => d.path !== '/readyz' && !(d.problem && d.code === 'UNAVAILABLE' && d.retryAfter === '1')),
    [],
    'requests answer problem+json UNAVAILABLE with Retry-After',
  );
  t.ok(
    during.every((d) => d.ms < 5000),
    'each answer comes within 5 s',
  );

  // Back up: the same process serves again.
  await cluster.start();
  const restartedAt = Date.now();
  let ready = false;
  while (!ready && Date.now() - restartedAt < 30_000) {
    ready = (await call(server.base, null, 'GET', '/readyz', undefined, 5000)).status === 200;
    if (!ready) await sleep(200);
  }
  t.ok(ready, `/readyz answers 200 again (${Date.now() - restartedAt} ms after the start)`);
  const me = await api('GET', '/v1/me');
  t.equal(me.status, 200, 'requests succeed again');
  const after = await api('POST', '/v1/customers', { name: 'After the restart', kind: 'ORGANIZATION' });
  t.equal(after.status, 201, 'writes succeed again');
  t.ok(await delivered((after as { body: { id: string } }).body.id, 30_000), 'webhook delivery resumed by itself');
  t.ok(await jobDone(45_000), 'the job queue takes jobs again by itself');
  const stored = await api('GET', '/v1/customers?limit=200');
  t.notOk(
    ((stored as { body: { data: { name: string }[] } }).body.data ?? []).some((c) => c.name.startsWith('During the stop')),
    'no write answered 503 while the database was away left a record',
  );

  t.equal(exitedEarly, null, 'the server process never exited');
  t.equal(server.child.pid, pid, 'the same process throughout (no restart)');
  t.notMatch(server.output(), /Unhandled|uncaught/i, 'no unhandled error in the logs');
});
