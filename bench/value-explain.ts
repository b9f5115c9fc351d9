import { writeFileSync } from 'node:fs';
import { PgDialect } from 'drizzle-orm/pg-core';
import { type SQL, sql } from 'drizzle-orm';
import pg from 'pg';
import { valueRepository } from '../src/modules/value/value.repository.js';
import { changesSql, changesWriteSql, FULL_RUN_SETTINGS, type Model, rescoreSql } from '../src/modules/value/value.recompute.js';
import type { Principal } from '../src/lib/access.js';

// The plans behind the customer value recomputation, on a database seeded by npm run bench:analytics:
//  - full: the statement that computes, classes and compares every customer (what a full run keeps in
//    its temporary table), under the settings a full run uses;
//  - write: a full run's write statement (values, history, events) over its table of changed rows;
//  - one: the incremental statement for one ranked buyer with orders (compute, write, history, events).
// Each runs under EXPLAIN (ANALYZE, BUFFERS) in a transaction that is rolled back, so nothing is kept.
// BENCH_EXPLAIN_GENERIC=1 explains `one` under its generic plan, as the incremental update runs it.
// BENCH_EXPLAIN_ANALYZE=0 shows the plans without running them. Prints the execution time and the top of the plan; BENCH_EXPLAIN_OUT=<file> writes the full plans.
// Usage: BENCH_DB_URL=postgresql://…/keel_bench_value_default npx tsx bench/value-explain.ts [full|write|one]

const url = process.env.BENCH_DB_URL;
if (!url) {
  console.error('BENCH_DB_URL must name a database seeded by npm run bench:analytics');
  process.exit(2);
}
const which = process.argv[2];
const dialect = new PgDialect();
const analyze = process.env.BENCH_EXPLAIN_ANALYZE !== '0';
// BENCH_EXPLAIN_GENERIC=1: a statement with parameters is explained under its generic plan (the incremental update's).
const generic = process.env.BENCH_EXPLAIN_GENERIC === '1';
// More settings for the full statement, after a full run's own (e.g. BENCH_EXPLAIN_SET="SET LOCAL work_mem = '512MB'"), one per ';'.
const extra = (process.env.BENCH_EXPLAIN_SET ?? '').split(';').filter((x) => x.trim());

// A parameter as a literal for EXECUTE (its type comes from the prepared statement).
const literal = (c: pg.Client, v: unknown): string =>
  v === null || v === undefined ? 'NULL' : c.escapeLiteral(Array.isArray(v) ? `{${v.map((x) => JSON.stringify(String(x))).join(',')}}` : String(v));

async function explain(c: pg.Client, label: string, q: SQL, settings: string[] = [], before: SQL[] = []): Promise<string> {
  const { sql: text, params } = dialect.sqlToQuery(q);
  await c.query('BEGIN');
  try {
    for (const s of settings) await c.query(s);
    for (const b of before) {
      const q0 = dialect.sqlToQuery(b);
      await c.query(q0.sql, q0.params as unknown[]);
    }
    const t = Date.now();
    const options = `${analyze ? 'ANALYZE, BUFFERS, ' : ''}SETTINGS`;
    // The generic plan (what the incremental update runs under): prepared, then executed with the parameters.
    const res = generic && params.length
      ? (await c.query(`PREPARE explained AS ${text}`), await c.query(`SET LOCAL plan_cache_mode = force_generic_plan`),
        await c.query(`EXPLAIN (${options}) EXECUTE explained(${(params as unknown[]).map((v) => literal(c, v)).join(', ')})`))
      : await c.query(`EXPLAIN (${options}) ${text}`, params as unknown[]);
    const plan = res.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    console.log(`\n== ${label}: ${Date.now() - t} ms wall\n${plan.split('\n').filter((l) => /Execution Time|Planning Time|JIT|Timing|Settings/.test(l)).join('\n')}`);
    return `== ${label}\n${plan}\n`;
  } finally {
    await c.query('ROLLBACK');
    if (generic && params.length) await c.query('DEALLOCATE ALL');
  }
}

async function main(): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const [model] = (await c.query(`SELECT version, config FROM value_models ORDER BY version DESC LIMIT 1`)).rows as { version: number; config: Model['config'] }[];
  const m: Model = { version: model!.version, config: model!.config };
  let out = '';
  try {
    if (!which || which === 'full') out += await explain(c, 'full: changed rows', changesSql(m), [...FULL_RUN_SETTINGS, ...extra]);
    const admin = (await c.query(`SELECT u.id, u.email, u.name, u.unit_id, o.path FROM users u JOIN org_units o ON o.id = u.unit_id WHERE lower(u.email) = 'admin@example.com'`))
      .rows[0] as { id: string; email: string; name: string; unit_id: string; path: string };
    const actor: Principal = { userId: admin.id, email: admin.email, name: admin.name, kind: 'HUMAN', unitId: admin.unit_id, unitPath: admin.path, partnerPath: null, roles: [], delegatorIds: [] };
    if (!which || which === 'write') {
      const table = sql.identifier('value_changes_explain');
      const made = [sql`CREATE TEMP TABLE ${table} ON COMMIT DROP AS ${changesSql(m)}`, sql`ANALYZE ${table}`];
      out += await explain(c, 'write: the changed rows written', changesWriteSql(actor, m, 'RECOMPUTE', sql`${table}`), FULL_RUN_SETTINGS, made);
    }
    if (!which || which === 'one') {
      const cust = (await c.query(`SELECT o.customer_id AS id FROM orders o JOIN customers c ON c.id = o.customer_id
        WHERE c.status = 'ACTIVE' AND c.lifecycle_stage = 'CUSTOMER' ORDER BY o.ordered_at DESC LIMIT 1`)).rows[0] as { id: string };
      const cuts = (await c.query(`SELECT a_min_score::text AS a, c_max_score::text AS cm FROM value_runs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`)).rows[0] as
        | { a: string | null; cm: string | null }
        | undefined;
      const q = rescoreSql(actor, m, valueRepository.targetOf([cust.id]) as SQL, 'ORDER', { full: false, aMin: cuts?.a ?? null, cMax: cuts?.cm ?? null, planMode: 'auto' });
      out += await explain(c, 'one: incremental statement', q);
    }
  } finally {
    await c.end();
  }
  if (process.env.BENCH_EXPLAIN_OUT) writeFileSync(process.env.BENCH_EXPLAIN_OUT, out);
  else console.log(`\n${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
