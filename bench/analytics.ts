import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSigner } from 'fast-jwt';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase, type Database } from '../src/db/client.js';
import { migrateAndBootstrap } from '../src/db/migrate.js';
import { createOrderService } from '../src/modules/orders/index.js';
import { loadPrincipal } from '../src/modules/org/index.js';
import { createValueService, recomputeCustomers } from '../src/modules/value/index.js';
import { median } from './load.js';
import { analyticsSql, buildOrg, bulkSql, insertOrg, type OrgSeed, SCALES, type ScaleName } from './seed.js';

// The analytics benchmark (issues 13 and 14), on a database of its own:
//  1. value: the full set-based recomputation of every customer (scores, classes, churn, history,
//     events, computed columns), timed with the Node process's memory sampled while it runs; then
//     the incremental update's cost on the write that triggers it: orders created through the
//     orders service with and without the value hook, alternated in the same run;
//  2. reports: funnel, conversion, forecast and sales performance through the HTTP layer
//     (app.inject) for an admin and a partner manager: p50 over BENCH_REPORT_RUNS requests.
// Usage: DATABASE_URL=postgresql://…/postgres BENCH_SCALE=large npm run bench:analytics
// BENCH_REUSE=1 keeps a seeded database (the base seed is bench/seed.ts's, the same as npm run bench's).
// BENCH_PARTS=value,incremental,reports picks parts; BENCH_FULL_RUNS (2), BENCH_WRITES (100) and
// BENCH_REPORT_RUNS (15) size them.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const env = process.env;
if (!env.DATABASE_URL) {
  console.error('npm run bench:analytics needs DATABASE_URL (a PostgreSQL server on which it creates its own database)');
  process.exit(2);
}
const scaleName = (env.BENCH_SCALE ?? 'default') as ScaleName;
if (!(scaleName in SCALES)) {
  console.error(`BENCH_SCALE must be one of ${Object.keys(SCALES).join(', ')}`);
  process.exit(2);
}
const scale = SCALES[scaleName];
const dbName = env.BENCH_DB ?? `keel_bench_analytics_${scaleName}`;
if (!/^[a-z_][a-z0-9_]*$/.test(dbName)) {
  console.error('BENCH_DB must be a plain lower-case identifier');
  process.exit(2);
}
const reuse = env.BENCH_REUSE === '1';
const writes = Number(env.BENCH_WRITES ?? 100);
const reportRuns = Number(env.BENCH_REPORT_RUNS ?? 15);
// Full recomputations in a row: the first on a database never scored writes every value; the next meet the steady state.
const fullRuns = Number(env.BENCH_FULL_RUNS ?? 2);
const only = env.BENCH_PARTS ? new Set(env.BENCH_PARTS.split(',')) : null; // value,incremental,reports
const resultsDir = env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench', 'results');
const SECRET = 'bench-secret-0123456789-0123456789-abcdefgh';
const ADMIN_EMAIL = 'admin@example.com';
const serverUrl = new URL(env.DATABASE_URL);
const benchUrl = new URL(env.DATABASE_URL);
benchUrl.pathname = `/${dbName}`;

const log = (msg: string) => console.log(`[analytics ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const wants = (part: string) => !only || only.has(part);

async function withClient<T>(url: URL, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

async function orgOf(c: pg.ClientBase): Promise<OrgSeed> {
  const root = (await c.query(`SELECT id, path FROM org_units WHERE parent_id IS NULL`)).rows[0] as { id: string; path: string };
  const admin = (await c.query(`SELECT id FROM users WHERE lower(email) = lower($1)`, [ADMIN_EMAIL])).rows[0] as { id: string };
  return buildOrg(root.id, root.path, admin.id, scale);
}

async function seeded(): Promise<boolean> {
  try {
    return await withClient(benchUrl, async (c) => ((await c.query(`SELECT count(*)::int AS n FROM users WHERE email LIKE '%@bench.keel.dev'`)).rows[0] as { n: number }).n > 0);
  } catch {
    return false;
  }
}

/** The base seed (as npm run bench makes it) unless reused, then the analytics rows once. */
async function prepare(): Promise<{ org: OrgSeed; steps: Record<string, number> }> {
  const steps: Record<string, number> = {};
  const timed = async (label: string, c: pg.Client, text: string) => {
    const t = Date.now();
    await c.query(text);
    steps[label] = (Date.now() - t) / 1000;
    log(`  seeded ${label} in ${r1(steps[label]!)} s`);
  };
  if (!(reuse && (await seeded()))) {
    log(`creating database ${dbName}`);
    await withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
    const database = await createDatabase({ url: benchUrl.toString(), poolSize: 2 });
    await migrateAndBootstrap(database, ADMIN_EMAIL);
    await database.close();
    await withClient(benchUrl, async (c) => {
      await c.query(`SET synchronous_commit = off`);
      const org = await orgOf(c);
      await c.query('BEGIN');
      await insertOrg(c, org);
      for (const s of bulkSql(scale, org)) await timed(s.label, c, s.sql);
      await c.query('COMMIT');
    });
  } else log(`reusing database ${dbName}`);
  return withClient(benchUrl, async (c) => {
    const org = await orgOf(c);
    const hasOrders = ((await c.query(`SELECT EXISTS (SELECT 1 FROM orders) AS x`)).rows[0] as { x: boolean }).x;
    if (!hasOrders) {
      await c.query(`SET synchronous_commit = off`);
      await c.query('BEGIN');
      for (const s of analyticsSql(scale, org)) await timed(s.label, c, s.sql);
      await c.query('COMMIT');
      await timed('analyze', c, 'VACUUM ANALYZE');
    }
    return { org, steps };
  });
}

/** Peak RSS of this process while `f` runs, sampled every 100 ms. */
async function sampled<T>(f: () => Promise<T>): Promise<{ value: T; rssStartMb: number; rssPeakMb: number; rssEndMb: number }> {
  const mb = () => process.memoryUsage().rss / 1048576;
  const rssStartMb = mb();
  let rssPeakMb = rssStartMb;
  const timer = setInterval(() => {
    rssPeakMb = Math.max(rssPeakMb, mb());
  }, 100);
  try {
    const value = await f();
    return { value, rssStartMb: r1(rssStartMb), rssPeakMb: r1(Math.max(rssPeakMb, mb())), rssEndMb: r1(mb()) };
  } finally {
    clearInterval(timer);
  }
}

async function tempBytes(c: pg.Client): Promise<number> {
  return Number(((await c.query(`SELECT temp_bytes::text AS b FROM pg_stat_database WHERE datname = current_database()`)).rows[0] as { b: string }).b);
}

async function benchValue(database: Database): Promise<Record<string, unknown>> {
  const svc = createValueService(database);
  const out: Record<string, unknown> = {};
  const counts = await withClient(benchUrl, async (c) => (await c.query(
    `SELECT (SELECT count(*) FROM customers)::int AS customers, (SELECT count(*) FROM orders)::int AS orders,
       (SELECT count(*) FROM customers WHERE lifecycle_stage IN ('CUSTOMER','USER') AND status = 'ACTIVE')::int AS ranked`,
  )).rows[0]);
  out.population = counts;
  log(`value: ${JSON.stringify(counts)}`);
  // First run: every customer gets a value (inserts); second: the steady state a nightly run meets (few changes).
  for (const label of ['first', 'second', 'third'].slice(0, fullRuns)) {
    const temp0 = await withClient(benchUrl, tempBytes);
    const t0 = process.hrtime.bigint();
    const s = await sampled(() => svc.recomputeAll('system', 'RECOMPUTE'));
    const seconds = ms(t0) / 1000;
    const temp1 = await withClient(benchUrl, tempBytes);
    out[`full_${label}`] = { seconds: r2(seconds), ...s.value, node: { rssStartMb: s.rssStartMb, rssPeakMb: s.rssPeakMb, rssEndMb: s.rssEndMb }, postgresTempMb: r1((temp1 - temp0) / 1048576) };
    log(`  full recomputation (${label}): ${r2(seconds)} s, ${JSON.stringify(out[`full_${label}`])}`);
  }
  const classes = await withClient(benchUrl, async (c) => (await c.query(`SELECT value_class, count(*)::int AS n FROM customer_values GROUP BY 1 ORDER BY 1`)).rows);
  out.classes = classes;
  log(`  classes: ${JSON.stringify(classes)}`);
  return out;
}

async function benchIncremental(database: Database, org: OrgSeed): Promise<Record<string, unknown>> {
  const admin = await loadPrincipal(database.db, org.personas.admin);
  if (!admin) throw new Error('no admin');
  const plain = createOrderService(database);
  const hooked = createOrderService(database, { onValueInput: recomputeCustomers });
  const buyers = await withClient(benchUrl, async (c) =>
    ((await c.query(`SELECT id FROM customers WHERE lifecycle_stage IN ('CUSTOMER','USER') AND status = 'ACTIVE' ORDER BY id LIMIT $1`, [2 * writes + 20])).rows as { id: string }[]).map((r) => r.id),
  );
  const times = { without: [] as number[], with: [] as number[] };
  const one = async (svc: typeof plain, customerId: string, i: number) => {
    const t0 = process.hrtime.bigint();
    await svc.create(admin, { customerId, amount: String(100 + i), currency: 'EUR', number: `BENCH-INC-${Date.now()}-${i}` } as never);
    return ms(t0);
  };
  // Warm-up, then alternate so the machine's load falls on both alike.
  for (let i = 0; i < 10; i++) await one(i % 2 ? hooked : plain, buyers[2 * writes + i]!, i);
  for (let i = 0; i < writes; i++) {
    times.without.push(await one(plain, buyers[2 * i]!, i));
    times.with.push(await one(hooked, buyers[2 * i + 1]!, i));
  }
  const p50w = median(times.with);
  const p50o = median(times.without);
  const w = p50w ?? 0;
  const o = p50o ?? 0;
  const out = { writes, p50WithoutMs: r2(o), p50WithMs: r2(w), addedP50Ms: r2(w - o), ratio: r2(o > 0 ? w / o : 0) };
  log(`incremental: ${JSON.stringify(out)}`);
  return out;
}

async function benchReports(database: Database, org: OrgSeed): Promise<Record<string, unknown>> {
  const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, LOG_LEVEL: 'silent', DATABASE_URL: benchUrl.toString(), RATE_LIMIT_PER_MINUTE: '1000000' });
  const app = await buildApp(config, { database, migrate: false, logger: false });
  await app.ready();
  const sign = createSigner({ key: SECRET, algorithm: 'HS256', expiresIn: 8 * 3600 * 1000 });
  const personas = { admin: org.personas.admin, partnerManager: org.personas.partnerManager } as const;
  const half = new Date(Date.now() - 182 * 86_400_000).toISOString().slice(0, 10);
  const reports: [string, string][] = [
    ['funnel', '/v1/reports/funnel'],
    ['funnel by unit', '/v1/reports/funnel?groupBy=unit'],
    ['conversion, last two quarters', `/v1/reports/conversion?from=${half}`],
    ['forecast, next three months', '/v1/reports/forecast'],
    ['forecast by partner', '/v1/reports/forecast?groupBy=partner'],
    ['sales performance per unit, last two quarters', `/v1/reports/sales-performance?from=${half}&groupBy=unit`],
  ];
  const out: Record<string, unknown>[] = [];
  try {
    for (const [what, url] of reports) {
      for (const [persona, id] of Object.entries(personas)) {
        const headers = { authorization: `Bearer ${sign({ sub: id })}` };
        const first = await app.inject({ method: 'GET', url, headers });
        if (first.statusCode !== 200) throw new Error(`${url} as ${persona}: ${first.statusCode} ${first.body.slice(0, 300)}`);
        const times: number[] = [];
        for (let i = 0; i < reportRuns; i++) {
          const t0 = process.hrtime.bigint();
          const res = await app.inject({ method: 'GET', url, headers });
          times.push(ms(t0));
          if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`);
        }
        const row = { report: what, persona, p50Ms: r1(median(times) ?? 0), maxMs: r1(Math.max(...times)), runs: reportRuns, bytes: first.body.length };
        out.push(row);
        log(`report ${what} as ${persona}: p50 ${row.p50Ms} ms (max ${row.maxMs}, ${row.bytes} bytes)`);
      }
    }
  } finally {
    await app.close();
  }
  return { reports: out };
}

async function main(): Promise<void> {
  const started = new Date();
  const load0 = os.loadavg().map(r2);
  const { org, steps } = await prepare();
  const database = await createDatabase({ url: benchUrl.toString(), poolSize: 4 });
  const result: Record<string, unknown> = { scale: scaleName, sizes: scale, database: dbName, startedAt: started.toISOString(), cpus: os.cpus().length, loadAverageAtStart: load0, seedSeconds: steps };
  try {
    if (wants('value')) result.value = await benchValue(database);
    if (wants('incremental')) result.incremental = await benchIncremental(database, org);
    if (wants('reports')) result.reports = await benchReports(database, org);
  } finally {
    await database.close();
  }
  result.loadAverageAtEnd = os.loadavg().map(r2);
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `analytics-${scaleName}-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`written ${file}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
