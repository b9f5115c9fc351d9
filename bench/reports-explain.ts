import { writeFileSync } from 'node:fs';
import { createSigner } from 'fast-jwt';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/client.js';
import { REPORT_WORK_MEM } from '../src/modules/reports/report-session.js';
import { captureSql, installSqlCapture } from './capture.js';
import { median } from './load.js';
import { buildOrg, SCALES, type ScaleName } from './seed.js';

// The plans behind the pipeline reports: each report of bench/analytics.ts is asked once as the admin
// and once as the big partner's manager through app.inject; every statement it sends is then run
// again under EXPLAIN (ANALYZE, BUFFERS) with the same values, in one transaction with the report's work_mem. Prints, per request, each statement's
// execution time and buffers; BENCH_EXPLAIN_OUT=<file> writes the full plans there. BENCH_EXPLAIN_RUNS=n
// first times n requests of each (p50 and max, as bench/analytics.ts does); BENCH_EXPLAIN=0 skips the plans.
// Usage: BENCH_DB_URL=postgresql://…/keel_bench_analytics_large BENCH_SCALE=large npx tsx bench/reports-explain.ts [report-filter]

const url = process.env.BENCH_DB_URL;
if (!url) {
  console.error('BENCH_DB_URL must name a database seeded by npm run bench:analytics');
  process.exit(2);
}
const filter = process.argv[2];
const runs = Number(process.env.BENCH_EXPLAIN_RUNS ?? 0);
const explain = process.env.BENCH_EXPLAIN !== '0';
const SECRET = 'bench-secret-0123456789-0123456789-abcdefgh';
const half = new Date(Date.now() - 182 * 86_400_000).toISOString().slice(0, 10);
const reports: [string, string][] = [
  ['funnel', '/v1/reports/funnel'],
  ['funnel by unit', '/v1/reports/funnel?groupBy=unit'],
  ['conversion', `/v1/reports/conversion?from=${half}`],
  ['forecast', '/v1/reports/forecast'],
  ['forecast by partner', '/v1/reports/forecast?groupBy=partner'],
  ['sales performance', `/v1/reports/sales-performance?from=${half}&groupBy=unit`],
];

async function main(): Promise<void> {
  installSqlCapture();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  // The personas bench/seed.ts makes (their ids follow from the org tree): the admin and the big partner's manager.
  const root = (await c.query(`SELECT id, path FROM org_units WHERE parent_id IS NULL`)).rows[0] as { id: string; path: string };
  const adminRow = (await c.query(`SELECT id FROM users WHERE lower(email) = 'admin@example.com'`)).rows[0] as { id: string };
  const org = buildOrg(root.id, root.path, adminRow.id, SCALES[(process.env.BENCH_SCALE ?? 'large') as ScaleName]);
  const admin = org.personas.admin;
  const pm = org.personas.partnerManager;
  const database = await createDatabase({ url: url!, poolSize: 2 });
  const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, LOG_LEVEL: 'silent', DATABASE_URL: url!, RATE_LIMIT_PER_MINUTE: '1000000' });
  const app = await buildApp(config, { database, migrate: false, logger: false });
  await app.ready();
  const sign = createSigner({ key: SECRET, algorithm: 'HS256', expiresIn: 3600 * 1000 });
  let full = '';
  try {
    for (const [what, path] of reports) {
      if (filter && !what.includes(filter)) continue;
      for (const [who, id] of [['admin', admin], ['partner manager', pm]] as const) {
        const headers = { authorization: `Bearer ${sign({ sub: id })}` };
        await app.inject({ method: 'GET', url: path, headers });
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t = process.hrtime.bigint();
          await app.inject({ method: 'GET', url: path, headers });
          times.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
        if (runs > 0) console.log(`p50 ${Math.round(median(times))} ms (max ${Math.round(Math.max(...times))}) over ${runs}: ${what} as ${who}`);
        if (!explain) continue;
        const t0 = Date.now();
        const stmts = await captureSql(async () => {
          const r = await app.inject({ method: 'GET', url: path, headers });
          if (r.statusCode !== 200) throw new Error(`${path}: ${r.statusCode} ${r.body.slice(0, 200)}`);
        });
        console.log(`\n## ${what} as ${who}: ${Date.now() - t0} ms, ${stmts.length} statements`);
        // As the report runs them: in one transaction with the report's work_mem (report-session.ts).
        await c.query('BEGIN');
        await c.query(`SET LOCAL work_mem = '${REPORT_WORK_MEM}'`);
        for (const s of stmts) {
          if (/^\s*(BEGIN|COMMIT|SET|RESET|SELECT set_config)/i.test(s.text)) continue;
          const plan = (await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${s.text}`, s.values)).rows.map((r: Record<string, string>) => r['QUERY PLAN'] ?? '');
          const exec = plan.find((l) => l.startsWith('Execution Time'));
          const buf = plan.find((l) => l.trim().startsWith('Buffers'));
          console.log(`  ${exec ?? '?'} | ${buf?.trim() ?? ''} | ${s.text.replace(/\s+/g, ' ').slice(0, 110)}`);
          full += `\n### ${what} as ${who}\n${s.text}\n${JSON.stringify(s.values)}\n${plan.join('\n')}\n`;
        }
        await c.query('COMMIT');
      }
    }
  } finally {
    await app.close();
    await c.end();
  }
  if (process.env.BENCH_EXPLAIN_OUT) writeFileSync(process.env.BENCH_EXPLAIN_OUT, full);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
