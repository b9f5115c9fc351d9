// Bulk load benchmark (issue 11 item 8): `npm run bench:bulk`. Upserts BULK_BENCH_ROWS (10 000) customers by
// external id through POST /v1/bulk/customers as one NDJSON request — new, the same again unchanged, then 10 %
// changed — and the same for contact persons and orders; each beside PostgreSQL COPY of the same rows into a bare table in the same
// run (the physical limit), with the ratio. Also the server's peak RSS during the 10 000-row NDJSON load against
// its idle RSS. The server runs as its own process (src/server.ts), so its RSS is its own.
// Targets (reported, not asserted): new ≥ 20 000 rows/s, unchanged ≥ 50 000 rows/s.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createSigner } from 'fast-jwt';
import pg from 'pg';
import { createDatabase } from '../src/db/client.js';
import { migrateAndBootstrap } from '../src/db/migrate.js';
import { RssSampler } from './load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROWS = Number(process.env.BULK_BENCH_ROWS ?? 10_000);
// BULK_BENCH_STEPS=customers runs the customer steps only (contacts and orders need the customers, so the customer
// steps always run); the default is customers,contacts,orders.
const STEPS = (process.env.BULK_BENCH_STEPS ?? 'customers,contacts,orders').split(',');
const ORDERS = STEPS.includes('orders');
const CONTACTS = STEPS.includes('contacts');
const SECRET = 'bench-bulk-secret-0123456789abcdef0123456789abcdef';
const ADMIN_EMAIL = 'admin@bench-bulk.local';
if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL names a PostgreSQL server (the benchmark creates its own database keel_bench_bulk on it)');
const serverUrl = new URL(process.env.DATABASE_URL);
const dbName = process.env.BENCH_DB ?? 'keel_bench_bulk';
const benchUrl = new URL(serverUrl.toString());
benchUrl.pathname = `/${dbName}`;
const log = (m: string) => console.error(`[bench:bulk] ${m}`);

async function admin(q: string) {
  const c = new pg.Client({ connectionString: serverUrl.toString() });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

// Rows are generated as the request streams, so the client holds no 10 000-row body.
const customerRow = (i: number, changed = false) => ({ externalId: `BB-${i}`, kind: 'ORGANIZATION', name: `Bulk bench ${i} GmbH`, region: `R${i % 7}`, industry: changed && i % 10 === 0 ? 'Changed' : 'Steel', creditStatus: 'GOOD' });
const contactRow = (i: number, changed = false) => ({
  externalId: `BC-${i}`,
  customer: { system: 'erp', externalId: `BB-${i}` },
  name: `Person ${i}`,
  title: changed && i % 10 === 0 ? 'Changed' : 'Buyer',
  emails: [`person${i}@bench.example`],
});
const orderRow = (i: number, changed = false) => ({
  externalId: `BO-${i}`,
  customer: { system: 'erp', externalId: `BB-${i}` },
  number: `SO-${i}`,
  currency: 'EUR',
  status: changed && i % 10 === 0 ? 'PAID' : 'ORDERED',
  lines: [{ product: 'Boiler', quantity: '2', unitPrice: '100.50' }],
});

function postNdjson(port: number, token: string, path: string, rowOf: (i: number) => unknown): Promise<{ status: number; ms: number; summary: unknown }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { summary?: unknown };
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, summary: body.summary ?? body });
      });
    });
    req.on('error', reject);
    // Rows go in pieces of about 64 KB, as a client streaming a file sends them (one chunk per row would measure
    // the server's per-chunk handling rather than the load).
    Readable.from((function* () {
      let piece = '';
      for (let i = 0; i < ROWS; i++) {
        piece += `${JSON.stringify(rowOf(i))}\n`;
        if (piece.length >= 65_536) {
          yield piece;
          piece = '';
        }
      }
      if (piece !== '') yield piece;
    })()).pipe(req);
  });
}

// COPY of the same rows (as CSV) into a bare table through psql's COPY FROM STDIN.
function copyRows(table: string, columns: string, lineOf: (i: number) => string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn('psql', [benchUrl.toString(), '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${table} (${columns}) FROM STDIN WITH (FORMAT csv)`], { stdio: ['pipe', 'ignore', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`psql exited ${code}`))));
    Readable.from((function* () {
      for (let i = 0; i < ROWS; i++) yield `${lineOf(i)}\n`;
    })()).pipe(p.stdin);
  });
}

const rate = (ms: number) => Math.round(ROWS / (ms / 1000));

async function main() {
  log(`database ${dbName} on ${serverUrl.host}, ${ROWS} rows`);
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${dbName}`);
  const database = await createDatabase({ url: benchUrl.toString(), poolSize: 2 });
  await migrateAndBootstrap(database, ADMIN_EMAIL);
  await database.close();
  const c = new pg.Client({ connectionString: benchUrl.toString() });
  await c.connect();
  const adminId = (await c.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [ADMIN_EMAIL])).rows[0]?.id;
  if (!adminId) throw new Error('no admin user after bootstrap');
  await c.query('CREATE TABLE bench_copy_customers (external_id text, kind text, name text, region text, industry text, credit_status text)');
  await c.query('CREATE TABLE bench_copy_contacts (external_id text, customer_external_id text, name text, title text, emails text[])');
  await c.query('CREATE TABLE bench_copy_orders (external_id text, customer_external_id text, number text, currency text, status text, lines jsonb)');
  const token = createSigner({ key: SECRET, algorithm: 'HS256', expiresIn: 3_600_000 })({ sub: adminId });

  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', JWT_SECRET: SECRET, LOG_LEVEL: 'silent', DATABASE_URL: benchUrl.toString(), PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_PER_MINUTE: '100000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; i < 300; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status < 500) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const idle = new RssSampler(proc.pid ?? 0);
    idle.start(100);
    await new Promise((r) => setTimeout(r, 1_000));
    const idleRssMb = idle.stop().peakRssMb;

    const results: Record<string, unknown>[] = [];
    const step = async (label: string, path: string, rowOf: (i: number) => unknown, copyMs: number, sampleRss = false) => {
      const rss = new RssSampler(proc.pid ?? 0);
      if (sampleRss) rss.start(50);
      const r = await postNdjson(port, token, path, rowOf);
      const peak = sampleRss ? rss.stop().peakRssMb : undefined;
      const row = { step: label, status: r.status, seconds: +(r.ms / 1000).toFixed(2), rowsPerSecond: rate(r.ms), copyRowsPerSecond: rate(copyMs), ratioToCopy: +(rate(r.ms) / rate(copyMs)).toFixed(4), summary: r.summary, ...(peak !== undefined ? { peakRssMb: peak } : {}) };
      log(JSON.stringify(row));
      results.push(row);
    };
    const copyC = await copyRows('bench_copy_customers', 'external_id, kind, name, region, industry, credit_status', (i) => { const r = customerRow(i); return `${r.externalId},${r.kind},${r.name},${r.region},${r.industry},${r.creditStatus}`; });
    await step('customers new', '/v1/bulk/customers?system=erp', (i) => customerRow(i), copyC, true);
    await step('customers unchanged', '/v1/bulk/customers?system=erp', (i) => customerRow(i), copyC, true);
    await step('customers 10% changed', '/v1/bulk/customers?system=erp', (i) => customerRow(i, true), copyC);
    if (CONTACTS) {
      const copyP = await copyRows('bench_copy_contacts', 'external_id, customer_external_id, name, title, emails', (i) => { const r = contactRow(i); return `${r.externalId},BB-${i},${r.name},${r.title},"{${r.emails.join(',')}}"`; });
      await step('contacts new', '/v1/bulk/contacts?system=erp', (i) => contactRow(i), copyP);
      await step('contacts unchanged', '/v1/bulk/contacts?system=erp', (i) => contactRow(i), copyP);
      await step('contacts 10% changed', '/v1/bulk/contacts?system=erp', (i) => contactRow(i, true), copyP);
    }
    if (!ORDERS) {
      console.log(JSON.stringify({ rows: ROWS, loadAverage: os.loadavg().map((x) => +x.toFixed(2)), cpus: os.cpus().length, idleRssMb, results }, null, 2));
      return;
    }
    const copyO = await copyRows('bench_copy_orders', 'external_id, customer_external_id, number, currency, status, lines', (i) => { const r = orderRow(i); return `${r.externalId},BB-${i},${r.number},${r.currency},${r.status},"${JSON.stringify(r.lines).replaceAll('"', '""')}"`; });
    await step('orders new', '/v1/bulk/orders?system=erp', (i) => orderRow(i), copyO);
    await step('orders unchanged', '/v1/bulk/orders?system=erp', (i) => orderRow(i), copyO);
    await step('orders 10% changed', '/v1/bulk/orders?system=erp', (i) => orderRow(i, true), copyO);
    console.log(JSON.stringify({ rows: ROWS, loadAverage: os.loadavg().map((x) => +x.toFixed(2)), cpus: os.cpus().length, idleRssMb, results }, null, 2));
  } finally {
    proc.kill('SIGTERM');
    await c.end();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  }
}

await main();
