import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import pg from 'pg';

// The baseline: a bare Fastify server that runs, for each scenario, the same SQL statements the app
// sent for that request (captured from the app itself, see capture.ts), through a plain pg Pool.
// No auth, no validation, no ORM, no logging. What the app costs beyond this is its own overhead.

// `name`: the app sent it as a prepared statement; the baseline prepares it too (per connection, once).
export type BaselineStatement = { text: string; values: unknown[]; name?: string };
// `sampleId`: the id the statements were captured with; a request's `?id=` replaces it in the values.
// `shape`: `one` answers the first row (404 when none, like the app), `list` answers `{ data: rows }`.
export type BaselineRoute = { statements: BaselineStatement[]; sampleId?: string; shape: 'one' | 'list' };
export type BaselineSpec = { routes: Record<string, BaselineRoute> };

const specPath = process.env.BASELINE_SPEC;
const url = process.env.DATABASE_URL;
if (!specPath || !url) {
  console.error('baseline: BASELINE_SPEC and DATABASE_URL are required');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specPath, 'utf8')) as BaselineSpec;
const pool = new pg.Pool({ connectionString: url, max: Number(process.env.DB_POOL_SIZE ?? 10) });
pool.on('error', () => undefined);

const app = Fastify({ logger: false });

app.get<{ Params: { key: string }; Querystring: { id?: string } }>('/b/:key', async (req, reply) => {
  const route = spec.routes[req.params.key];
  if (!route) return reply.code(404).send({ error: 'no such route' });
  const id = req.query.id;
  let rows: unknown[] = [];
  for (const st of route.statements) {
    const values = id && route.sampleId ? st.values.map((v) => (v === route.sampleId ? id : v)) : st.values;
    const res = await pool.query(st.name ? { name: st.name, text: st.text, values } : { text: st.text, values });
    rows = res.rows;
  }
  if (route.shape === 'one') {
    if (rows.length === 0) return reply.code(404).send({ error: 'not found' });
    return rows[0];
  }
  return { data: rows };
});

const port = Number(process.env.PORT ?? 0);
await app.listen({ host: '127.0.0.1', port });
const addr = app.server.address();
// The parent reads the port from this line.
console.log(`baseline listening ${typeof addr === 'object' && addr ? addr.port : port}`);

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    void app.close().then(() => pool.end()).finally(() => process.exit(0));
  });
}
