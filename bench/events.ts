// Events out benchmark (issue 12 item 6): `npm run bench:events`. The real server runs as its own process on a
// database of its own; a local webhook receiver verifies every delivery with the `standardwebhooks` library; a
// steady write load (customer PATCHes through the API at EVENTS_BENCH_RATE per second for EVENTS_BENCH_SECONDS)
// makes events. Reported: events per second reaching the feed (a follower of GET /v1/events walking nextCursor)
// and the receiver, and the lag p50/p99/max from commit to the feed and to delivery. The commit lies between
// the event's occurredAt (taken inside the writing transaction) and the moment the write's answer arrived, so
// the lag is given from both ends. Each write carries its own x-request-id; the event carries it back.
//
// The feed serves a transaction's events only once every older transaction of the PostgreSQL cluster has
// ended, so on a shared server other databases' work stalls it: by default the benchmark starts a PostgreSQL
// of its own (initdb into a temp dir). EVENTS_BENCH_DATABASE_URL=postgresql://… uses that server instead
// (database keel_bench_events, dropped at the end). Results go to bench/results/events-<time>.json.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createSigner } from 'fast-jwt';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { createDatabase } from '../src/db/client.js';
import { migrateAndBootstrap } from '../src/db/migrate.js';
import { privatePostgres } from '../test/helpers/private-postgres.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RATE = Number(process.env.EVENTS_BENCH_RATE ?? 25);
const SECONDS = Number(process.env.EVENTS_BENCH_SECONDS ?? 30);
const CUSTOMERS = Number(process.env.EVENTS_BENCH_CUSTOMERS ?? 50);
const FEED_POLL_MS = Number(process.env.EVENTS_BENCH_FEED_POLL_MS ?? 50);
// The server's delivery round interval; unset keeps the server's default (WEBHOOK_POLL_MS, 1000 ms).
const WEBHOOK_POLL_MS = process.env.EVENTS_BENCH_WEBHOOK_POLL_MS;
const DRAIN_MS = 120_000;
const SECRET = 'bench-events-secret-0123456789abcdef0123456789abcdef';
const ADMIN_EMAIL = 'admin@bench-events.local';
const log = (m: string) => console.error(`[bench:events] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

async function onServer(url: string, q: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

/** A database of the benchmark's own: on a private PostgreSQL (default) or on EVENTS_BENCH_DATABASE_URL's server. */
async function database(): Promise<{ url: string; where: string; drop(): Promise<void> }> {
  const shared = process.env.EVENTS_BENCH_DATABASE_URL;
  if (!shared) {
    const p = await privatePostgres();
    return { url: p.url, where: 'a private PostgreSQL 15 (initdb, fsync off)', drop: () => p.stop() };
  }
  const url = new URL(shared);
  url.pathname = '/keel_bench_events';
  await onServer(shared, 'DROP DATABASE IF EXISTS keel_bench_events WITH (FORCE)');
  await onServer(shared, 'CREATE DATABASE keel_bench_events');
  return { url: url.toString(), where: `database keel_bench_events on ${url.host} (shared server)`, drop: () => onServer(shared, 'DROP DATABASE IF EXISTS keel_bench_events WITH (FORCE)') };
}

function percentiles(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? 0) : null);
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? s[s.length - 1] : null };
}

type Write = { requestId: string; customerId: string; sentAt: number; answeredAt: number; status: number };
type Seen = { eventId: string; occurredAt: number; feedAt: number };

/** The receiver: every POST is verified with the library; first arrival per webhook-id kept, duplicates counted. */
function receiver() {
  const state = { secret: '', arrivals: new Map<string, number>(), deliveries: 0, duplicates: 0, badSignatures: 0, order: [] as { entityId: string; id: string }[] };
  const server = createHttpServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString();
      let event: { id: string; entityId: string };
      try {
        event = new Webhook(state.secret).verify(body, req.headers as Record<string, string>) as { id: string; entityId: string };
      } catch {
        state.badSignatures++;
        res.writeHead(400).end();
        return;
      }
      state.deliveries++;
      if (state.arrivals.has(event.id)) state.duplicates++;
      else {
        state.arrivals.set(event.id, at);
        state.order.push({ entityId: event.entityId, id: event.id });
      }
      res.writeHead(204).end();
    });
  });
  return { state, server };
}

async function main() {
  const db = await database();
  log(`database: ${db.where}; load ${RATE} PATCH/s for ${SECONDS} s over ${CUSTOMERS} customers`);
  const proc: { kill?: () => void } = {};
  const rx = receiver();
  try {
    const conn = await createDatabase({ url: db.url, poolSize: 2 });
    await migrateAndBootstrap(conn, ADMIN_EMAIL);
    await conn.close();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const adminId = (await c.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [ADMIN_EMAIL])).rows[0]?.id;
    await c.end();
    if (!adminId) throw new Error('no admin user after bootstrap');
    const token = createSigner({ key: SECRET, algorithm: 'HS256', expiresIn: 3_600_000 })({ sub: adminId });

    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'production',
        JWT_SECRET: SECRET,
        LOG_LEVEL: 'silent',
        DATABASE_URL: db.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        RATE_LIMIT_PER_MINUTE: '1000000',
        JOBS_ENABLED: 'true',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        ...(WEBHOOK_POLL_MS ? { WEBHOOK_POLL_MS } : {}),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    proc.kill = () => child.kill('SIGTERM');
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300; i++) {
      try {
        if ((await fetch(`${base}/healthz`)).status < 500) break;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, body: body ? JSON.stringify(body) : null });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    };

    const ids: string[] = [];
    for (let i = 0; i < CUSTOMERS; i++) {
      const r = await api('POST', '/v1/customers', { kind: 'ORGANIZATION', name: `Events bench ${i} GmbH` });
      if (r.status !== 201) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
      ids.push(r.body.id);
    }
    await new Promise<void>((r) => rx.server.listen(0, '127.0.0.1', () => r()));
    const rxPort = (rx.server.address() as { port: number }).port;
    const hook = await api('POST', '/v1/webhooks', { url: `http://127.0.0.1:${rxPort}/hook`, types: ['customer.*'], description: 'bench receiver' });
    if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${JSON.stringify(hook.body)}`);
    rx.state.secret = hook.body.secret;

    // The follower: from the end of the feed as it is now, polling every FEED_POLL_MS when a page is empty.
    let cursor = (await api('GET', '/v1/events?limit=1')).body.nextCursor as string;
    for (;;) {
      const r = await api('GET', `/v1/events?limit=500&after=${cursor}`);
      cursor = r.body.nextCursor;
      if (r.body.data.length === 0) break;
    }
    const seen = new Map<string, Seen>(); // by requestId
    let following = true;
    let feedEvents = 0;
    const follower = (async () => {
      while (following) {
        const r = await api('GET', `/v1/events?types=customer.*&limit=500&after=${cursor}`);
        const at = Date.now();
        if (r.status !== 200) throw new Error(`feed: ${r.status} ${JSON.stringify(r.body)}`);
        cursor = r.body.nextCursor;
        for (const e of r.body.data as { id: string; requestId: string | null; occurredAt: string }[]) {
          feedEvents++;
          if (e.requestId) seen.set(e.requestId, { eventId: e.id, occurredAt: Date.parse(e.occurredAt), feedAt: at });
        }
        if (r.body.data.length === 0) await sleep(FEED_POLL_MS);
      }
    })();

    // The load: one PATCH every 1000/RATE ms on a fixed schedule (open loop), round-robin over the customers.
    const writes: Write[] = [];
    const pending: Promise<void>[] = [];
    const total = Math.round(RATE * SECONDS);
    const t0 = Date.now();
    const cpu0 = os.loadavg()[0];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      const requestId = `bench-${i}`;
      const customerId = ids[i % ids.length] as string;
      const sentAt = Date.now();
      pending.push(
        api('PATCH', `/v1/customers/${customerId}`, { website: `https://w${i}.example` }, { 'x-request-id': requestId }).then((r) => {
          writes.push({ requestId, customerId, sentAt, answeredAt: Date.now(), status: r.status });
        }),
      );
    }
    await Promise.all(pending);
    const loadEnd = Date.now();
    const ok = writes.filter((w) => w.status === 200);
    log(`${writes.length} writes in ${((loadEnd - t0) / 1000).toFixed(1)} s, ${ok.length} answered 200; draining`);
    const drainStart = Date.now();
    while (Date.now() - drainStart < DRAIN_MS) {
      const inFeed = ok.filter((w) => seen.has(w.requestId)).length;
      const delivered = ok.filter((w) => {
        const s = seen.get(w.requestId);
        return s && rx.state.arrivals.has(s.eventId);
      }).length;
      if (inFeed === ok.length && delivered === ok.length) break;
      await sleep(200);
    }
    following = false;
    await follower;

    const feedLagFromEvent: number[] = [];
    const feedLagFromAnswer: number[] = [];
    const deliveryLagFromEvent: number[] = [];
    const deliveryLagFromAnswer: number[] = [];
    const writeLatency: number[] = [];
    let lastFeed = 0;
    let lastDelivery = 0;
    for (const w of ok) {
      writeLatency.push(w.answeredAt - w.sentAt);
      const s = seen.get(w.requestId);
      if (!s) continue;
      feedLagFromEvent.push(s.feedAt - s.occurredAt);
      feedLagFromAnswer.push(Math.max(0, s.feedAt - w.answeredAt));
      lastFeed = Math.max(lastFeed, s.feedAt);
      const d = rx.state.arrivals.get(s.eventId);
      if (d === undefined) continue;
      deliveryLagFromEvent.push(d - s.occurredAt);
      deliveryLagFromAnswer.push(Math.max(0, d - w.answeredAt));
      lastDelivery = Math.max(lastDelivery, d);
    }
    // Per record, the receiver's first arrivals must follow the feed's order.
    const feedOrder = new Map([...seen.values()].map((s) => [s.eventId, s.feedAt]));
    let outOfOrder = 0;
    const lastByRecord = new Map<string, string>();
    for (const a of rx.state.order) {
      const prev = lastByRecord.get(a.entityId);
      if (prev !== undefined && (feedOrder.get(prev) ?? 0) > (feedOrder.get(a.id) ?? Infinity)) outOfOrder++;
      lastByRecord.set(a.entityId, a.id);
    }
    const perSecond = (n: number, end: number) => (end > t0 ? +(n / ((end - t0) / 1000)).toFixed(1) : null);
    const result = {
      benchmark: 'events',
      at: new Date().toISOString(),
      database: db.where,
      machine: { cpus: os.cpus().length, loadAverageAtStart: cpu0, loadAverage: os.loadavg().map((x) => +x.toFixed(2)), note: 'shared, loaded machine: figures are indicative' },
      config: { ratePerSecond: RATE, seconds: SECONDS, customers: CUSTOMERS, feedPollMs: FEED_POLL_MS, webhookPollMs: WEBHOOK_POLL_MS ? Number(WEBHOOK_POLL_MS) : 1000 },
      writes: { sent: writes.length, ok: ok.length, refused: writes.length - ok.length, achievedPerSecond: perSecond(writes.length, loadEnd), latencyMs: percentiles(writeLatency) },
      feed: { events: feedLagFromEvent.length, eventsPerSecond: perSecond(feedLagFromEvent.length, lastFeed), missing: ok.length - feedLagFromEvent.length, lagFromOccurredAtMs: percentiles(feedLagFromEvent), lagFromAnswerMs: percentiles(feedLagFromAnswer), allCustomerEventsRead: feedEvents },
      receiver: {
        events: deliveryLagFromEvent.length,
        eventsPerSecond: perSecond(deliveryLagFromEvent.length, lastDelivery),
        missing: ok.length - deliveryLagFromEvent.length,
        deliveries: rx.state.deliveries,
        duplicates: rx.state.duplicates,
        badSignatures: rx.state.badSignatures,
        outOfOrderPerRecord: outOfOrder,
        lagFromOccurredAtMs: percentiles(deliveryLagFromEvent),
        lagFromAnswerMs: percentiles(deliveryLagFromAnswer),
      },
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(`${ROOT}bench/results`, { recursive: true });
    const file = `${ROOT}bench/results/events-${result.at.replaceAll(':', '-').replace('.', '-')}.json`;
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`written ${file}`);
    if (result.feed.missing || result.receiver.missing || result.receiver.badSignatures || outOfOrder) process.exitCode = 1;
  } finally {
    proc.kill?.();
    await new Promise<void>((r) => rx.server.close(() => r()));
    await sleep(500);
    await db.drop().catch((e: unknown) => log(`cleanup: ${String(e)}`));
  }
}

await main();
