// SIGTERM to the server process while it takes a write load: requests already in flight finish
// (2xx), requests after it are refused cleanly (503 problem+json with Connection: close on an open
// connection, or the connection refused), no write is cut half-way (every 2xx write is stored with
// its audit row and event; nothing else left anything), and the process exits 0 within its grace
// period (10 s, src/server.ts).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { adminId, call, sleep, startServer, tokenFor } from '../helpers/processes.js';

const url = process.env.DATABASE_URL;
const GRACE_MS = 10_000;

t.test('SIGTERM under a write load', { skip: url ? false : 'needs PostgreSQL (DATABASE_URL)', timeout: 180_000 }, async (t) => {
  const server = await startServer({ DATABASE_URL: url!, JOBS_ENABLED: 'true', JOBS_POLL_SECONDS: '0.5' });
  t.teardown(() => server.stop());
  const token = tokenFor(await adminId(url!));
  const tag = `Sigterm ${randomUUID().slice(0, 8)}`;
  t.equal((await call(server.base, token, 'GET', '/v1/me')).status, 200, 'serving before the signal');

  type Sent = { name: string; sentAt: number; doneAt: number; status: number; id?: string; code?: string; problem: boolean; close?: string | null; error?: string };
  const sent: Sent[] = [];
  let signalledAt = Number.POSITIVE_INFINITY;
  const worker = async (w: number) => {
    for (let i = 0; ; i++) {
      const name = `${tag} ${w}-${i}`;
      const sentAt = Date.now();
      const a = await call(server.base, token, 'POST', '/v1/customers', { name, kind: 'ORGANIZATION' }, 20_000);
      const s: Sent = { name, sentAt, doneAt: Date.now(), status: a.status, problem: false };
      if ('headers' in a) {
        s.problem = (a.headers.get('content-type') ?? '').startsWith('application/problem+json');
        s.close = a.headers.get('connection');
        if (a.body && typeof a.body === 'object') {
          s.id = (a.body as { id?: string }).id;
          s.code = (a.body as { code?: string }).code;
        }
      } else s.error = a.error;
      sent.push(s);
      // Past the signal, a worker stops at its first refusal.
      if (sentAt > signalledAt && a.status !== 201) return;
      if (Date.now() - signalledAt > GRACE_MS + 5000) return;
    }
  };
  const load = Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
  await sleep(2000);
  signalledAt = Date.now();
  server.child.kill('SIGTERM');
  const exit = await server.exited;
  await load;

  if (exit.code !== 0) t.comment(server.output().split('\n').filter((l) => !l.includes('"msg":"request"')).slice(-12).join('\n'));
  t.equal(exit.code, 0, 'the process exits 0');
  t.ok(exit.at - signalledAt < GRACE_MS, `within the grace period (${exit.at - signalledAt} ms)`);
  t.match(server.output(), /shutting down/, 'the shutdown is logged');

  const inFlight = sent.filter((s) => s.sentAt < signalledAt && s.doneAt >= signalledAt);
  const before = sent.filter((s) => s.sentAt < signalledAt);
  const afterSignal = sent.filter((s) => s.sentAt >= signalledAt);
  t.comment(`${before.length} writes sent before the signal (${inFlight.length} in flight at it), ${afterSignal.length} after`);
  t.ok(inFlight.length > 0, 'requests were in flight when the signal came');
  t.same(
    before.filter((s) => s.status !== 201),
    [],
    'every request sent before the signal (in flight included) finished with 201',
  );
  const outcomes = new Map<string, number>();
  for (const s of afterSignal) {
    const k = s.status === 0 ? `refused ${s.error}` : `${s.status}${s.code ? ` ${s.code}` : ''}`;
    outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  }
  t.comment(`after the signal: ${[...outcomes].map(([k, n]) => `${n} × ${k}`).join(', ')}`);
  t.same(
    afterSignal.filter((s) => !(s.status === 201 || (s.status === 503 && s.problem && s.code === 'UNAVAILABLE' && s.close === 'close') || s.status === 0)),
    [],
    'after the signal: finished, 503 problem+json closing the connection, or the connection refused',
  );
  t.same(
    sent.filter((s) => s.status === 0 && s.error === 'TIMEOUT'),
    [],
    'no request hangs',
  );

  const db = new pg.Client({ connectionString: url });
  await db.connect();
  t.teardown(() => db.end());
  const { rows } = await db.query<{ name: string; id: string; audits: number; events: number }>(
    `SELECT c.name, c.id,
       (SELECT count(*)::int FROM audit_log a WHERE a.entity_id = c.id AND a.action = 'created') AS audits,
       (SELECT count(*)::int FROM events e WHERE e.entity_id = c.id AND e.type = 'customer.created') AS events
     FROM customers c WHERE c.name LIKE $1`,
    [`${tag} %`],
  );
  const stored = new Map(rows.map((r) => [r.name, r]));
  const ok = sent.filter((s) => s.status === 201);
  t.same(
    ok.filter((s) => stored.get(s.name)?.id !== s.id),
    [],
    `every 201 write is stored (${ok.length})`,
  );
  t.same(
    rows.filter((r) => r.audits !== 1 || r.events !== 1),
    [],
    'every stored write has exactly its audit row and its event',
  );
  t.same(
    sent.filter((s) => s.status !== 201 && stored.has(s.name)).map((s) => `${s.name}: ${s.status} ${s.error ?? s.code ?? ''}`),
    [],
    'no refused or cut request left anything behind',
  );
});
