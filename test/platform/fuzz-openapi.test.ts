// Hostile input over every operation of openapi.yaml: requests generated from the document (boundary
// and wrong-typed values, huge and odd strings, unknown fields and query parameters), malformed JSON
// and forged tokens. Whatever arrives: never a 5xx, every refusal problem+json with a `code`, and a
// refused request writes nothing (no audit row, no event, the main tables' row counts unchanged).
// Seeded and bounded: FUZZ_SEED and FUZZ_RUNS (per operation) replay or widen a run; a failure prints
// the seed and the request that failed.
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import t from 'tap';
import { parse } from 'yaml';
import { queryRows } from '../../src/db/client.js';
import { buildTestApp } from '../helpers/app.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const RUNS = Number(process.env.FUZZ_RUNS ?? 6);

type Schema = { $ref?: string; type?: string | string[]; format?: string; properties?: Record<string, Schema>; items?: Schema; enum?: unknown[]; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[]; required?: string[] };
type Param = { name: string; in: string; schema?: Schema };
type Operation = { parameters?: Param[]; requestBody?: { content: Record<string, { schema: Schema }> } };
type Doc = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };

const doc = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as Doc;
const resolve = (s: Schema | undefined): Schema => {
  let cur = s ?? {};
  for (let i = 0; cur.$ref && i < 10; i++) cur = doc.components?.schemas?.[cur.$ref.split('/').pop() as string] ?? {};
  return cur;
};

// Strings a careless parser, database driver or logger chokes on.
const oddString = fc.oneof(
  fc.constantFrom('', ' ', 'a\u0000b', '\u0000', '\u202Eevil\u202C', 'שלום عالم', '😀👨‍👩‍👧‍👦🏳️‍🌈', '\uD800', '\uDFFF x', "'; DROP TABLE customers; --", '%00', '../../etc/passwd', '${jndi:x}', '<script>1</script>', '\r\n\t', '1e309', '-0', 'NaN', 'null', '2026-02-30T25:61:00Z', '0000-01-01T00:00:00Z', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
  fc.constantFrom('x'.repeat(100_000), '😀'.repeat(30_000), 'a\u0000'.repeat(5000)),
  fc.string({ maxLength: 40, unit: 'binary' }),
);
const oddNumber = fc.constantFrom(0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e-308, 0.5, 1e21);
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: oddString },
  { weight: 2, arbitrary: oddNumber },
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.constant({ __proto__: { admin: true }, constructor: { prototype: 1 } }),
  fc.constant([[[[[[[[[[1]]]]]]]]]]),
  fc.array(oddString, { maxLength: 3 }),
);

// A plausible value for a schema: what a sloppy client might send, often valid, often not.
function plausible(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const alts = s.anyOf ?? s.oneOf ?? s.allOf;
  if (alts && alts.length > 0) return fc.oneof(...alts.map((a) => plausible(a, depth)));
  if (s.enum && s.enum.length > 0) return fc.constantFrom(...s.enum);
  const type = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (s.format === 'uuid') return fc.uuid();
  if (s.format === 'date-time') return fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (type === 'integer') return fc.integer({ min: -5, max: 300 });
  if (type === 'number') return fc.double({ noNaN: true, noDefaultInfinity: true });
  if (type === 'boolean') return fc.boolean();
  if (type === 'array') return depth > 2 ? fc.constant([]) : fc.array(plausible(s.items, depth + 1), { maxLength: 3 });
  if (type === 'object' || s.properties) return depth > 2 ? fc.constant({}) : bodyFor(s, depth + 1);
  return fc.string({ maxLength: 30 });
}

// Each known field: absent, plausible or odd; sometimes an unknown field besides.
function bodyFor(schema: Schema, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const s = resolve(schema);
  const fields = Object.entries(s.properties ?? {}).slice(0, 25);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, sub] of fields) model[name] = fc.oneof({ weight: 3, arbitrary: plausible(sub, depth) }, { weight: 2, arbitrary: oddValue });
  return fc
    .tuple(fc.record(model, { requiredKeys: [] }), fc.option(fc.tuple(fc.constantFrom('unknownField', 'id', 'version', 'createdBy', '__proto__'), oddValue), { freq: 3 }))
    .map(([body, extra]) => (extra ? { ...body, [extra[0]]: extra[1] } : body));
}

const app = await buildTestApp({ DUPLICATE_PROBE_LIMIT_PER_HOUR: '100000' });
t.teardown(() => app.close());
const admin = await app.admin();
const region = await app.unit('REGION');
const seller = await app.user(region, ['sales']);
const customer = await app.customer(seller);
const opp = await app.rest(admin, 'POST', '/v1/opportunities', { customerId: customer.id, name: 'Fuzzed deal' });
const realIds = [customer.id, ...(opp.status === 201 ? [opp.body.id as string] : [])];

// Tokens that must never let a request through, nor break the server.
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const forged = [
  `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: admin.id, exp: now + 600 })}.`,
  `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: admin.id, exp: now + 600 })}.${'A'.repeat(43)}`,
  app.app.jwt.sign({ sub: admin.id, exp: now - 60 } as never),
  app.app.jwt.sign({ sub: '00000000-0000-4000-8000-000000000000' }),
  app.app.jwt.sign({ sub: 'not-a-uuid\u0000' }),
  'x.y.z',
  'keel_AAAAAAAA_' + 'B'.repeat(43),
  '😀'.repeat(100),
];

// Not idempotency_keys: a refused write sent with an Idempotency-Key keeps its answer for replay by
// design (docs/integration.md), which is the key's record, not data written.
const MAIN_TABLES = ['customers', 'contacts', 'interactions', 'opportunities', 'actions', 'orders', 'claims', 'handoffs', 'api_keys', 'webhooks', 'audit_log', 'events'];
async function tableCounts(): Promise<Record<string, number>> {
  const [row] = await queryRows<Record<string, number>>(app.db, sql.raw(`SELECT ${MAIN_TABLES.map((n) => `(SELECT count(*)::int FROM ${n}) AS ${n}`).join(', ')}`));
  return row ?? {};
}
async function lastWrite(): Promise<string> {
  const [row] = await queryRows<{ a: string | null; e: string | null }>(app.db, sql`SELECT (SELECT max(id) FROM audit_log)::text AS a, (SELECT max(id) FROM events)::text AS e`);
  return `${row?.a}/${row?.e}`;
}

type Req = { method: string; url: string; headers: Record<string, string>; payload?: string };
type Answer = { status: number; type: string; body: string };

async function send(r: Req): Promise<Answer> {
  const res = await app.inject({ method: r.method as 'GET', url: r.url, headers: r.headers, ...(r.payload !== undefined ? { payload: r.payload } : {}) });
  return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), body: res.body };
}

let successes = 0;
// A lone surrogate cannot be percent-encoded in a URL (UTF-8 has no form for it): replaced by U+FFFD there.
const wellFormed = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
const show = (r: Req) => `${r.method} ${r.url.slice(0, 200)} ${r.payload === undefined ? '' : r.payload.slice(0, 300)}`;

/** What is wrong with the answer to `r`, or null. A refused write must leave no trace. */
async function judge(r: Req): Promise<string | null> {
  const write = r.method !== 'GET';
  const before = write ? await lastWrite() : '';
  const a = await send(r);
  if (a.status < 300) successes++;
  if (a.status >= 500) return `${a.status} for ${show(r)}: ${a.body.slice(0, 300)}`;
  if (a.status >= 400) {
    if (!a.type.startsWith('application/problem+json')) return `${a.status} not problem+json (${a.type}) for ${show(r)}`;
    let code: unknown;
    try {
      code = (JSON.parse(a.body) as { code?: unknown }).code;
    } catch {
      return `${a.status} unparseable body for ${show(r)}`;
    }
    if (typeof code !== 'string' || !/^[A-Z][A-Z_]+$/.test(code)) return `${a.status} without a code for ${show(r)}: ${a.body.slice(0, 200)}`;
    if (write && (await lastWrite()) !== before) return `${a.status} but an audit row or event was written for ${show(r)}`;
  }
  return null;
}

const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([m]) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
    .map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
);
const started = Date.now();

t.test(`every operation of openapi.yaml (${operations.length}), seed ${SEED}, ${RUNS} runs each`, async (t) => {
  for (const [i, { path, method, op }] of operations.entries()) {
    const params = op.parameters ?? [];
    const pathParams = params.filter((p) => p.in === 'path');
    const queryParams = params.filter((p) => p.in === 'query');
    const bodySchema = op.requestBody?.content['application/json']?.schema;

    const pathValue = fc.oneof(fc.constantFrom(...realIds), fc.uuid(), oddString.map((s) => s.slice(0, 2000)));
    const queryArb = fc.record(Object.fromEntries(queryParams.map((q) => [q.name, fc.oneof(plausible(q.schema), oddString.map((s) => s.slice(0, 3000)))])), { requiredKeys: [] });
    const request = fc
      .record({
        pathValues: fc.tuple(...pathParams.map(() => pathValue), fc.constant(null)),
        query: queryArb,
        unknownQuery: fc.option(fc.constantFrom('foo', 'limit[]', '__proto__', 'sort'), { freq: 4 }),
        body: bodySchema ? fc.oneof({ weight: 5, arbitrary: bodyFor(bodySchema) as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: oddValue }) : fc.constant(undefined),
        token: fc.oneof({ weight: 6, arbitrary: fc.constant(admin.token) }, { weight: 1, arbitrary: fc.constant(seller.token) }, { weight: 1, arbitrary: fc.constantFrom(...forged) }),
        idempotencyKey: fc.option(oddString.map((s) => s.slice(0, 300)), { freq: 5 }),
      })
      .map(({ pathValues, query, unknownQuery, body, token, idempotencyKey }): Req => {
        let url = path;
        pathParams.forEach((p, k) => (url = url.replace(`{${p.name}}`, encodeURIComponent(wellFormed(String(pathValues[k]))))));
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(query)) qs.append(k, typeof v === 'string' ? v : JSON.stringify(v));
        if (unknownQuery) qs.append(unknownQuery, '1');
        const q = qs.toString();
        const headers: Record<string, string> = { authorization: `Bearer ${token}` };
        if (idempotencyKey !== null && method !== 'GET') headers['idempotency-key'] = idempotencyKey.replace(/[^\x20-\x7e]/g, '?');
        if (body !== undefined) headers['content-type'] = 'application/json';
        return { method, url: q ? `${url}?${q}` : url, headers, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) };
      });

    const countsBefore = await tableCounts();
    let anySuccess = false;
    const successesBefore = successes;
    const seed = SEED + i;
    const result = await fc.check(
      fc.asyncProperty(request, async (r) => {
        const wrong = await judge(r);
        if (wrong) throw new Error(wrong);
        return true;
      }),
      { seed, numRuns: RUNS, endOnFailure: true },
    );
    // Fixed hostile shapes besides: malformed JSON and a body of the wrong media type on writes,
    // forged tokens on every operation.
    const fixed: Req[] = [];
    const concrete = path.replace(/\{[^}]+\}/g, realIds[0] as string);
    for (const token of forged.slice(0, 3)) fixed.push({ method, url: concrete, headers: { authorization: `Bearer ${token}` } });
    if (method !== 'GET' && method !== 'DELETE') {
      for (const payload of ['{"name":', '{"a":1,"a":2', '[', 'nul', '\u0000', '{"x":"\uD800"}', `${'['.repeat(5000)}${']'.repeat(5000)}`, '{"__proto__":{"polluted":1}}']) {
        fixed.push({ method, url: concrete, headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' }, payload });
      }
      fixed.push({ method, url: concrete, headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'text/plain' }, payload: 'hello' });
    }
    for (const r of fixed) {
      const a = await send(r);
      if (a.status < 300) anySuccess = true;
      const wrong = a.status >= 500 ? `${a.status} for ${show(r)}` : a.status >= 400 && !a.type.startsWith('application/problem+json') ? `not problem+json for ${show(r)}` : null;
      t.equal(wrong, null, `${method} ${path}: fixed hostile request`);
    }
    if (result.failed) {
      t.fail(`${method} ${path}: ${String((result.errorInstance as Error | undefined)?.message ?? result.errorInstance)} — replay with FUZZ_SEED=${SEED} (operation seed ${seed}, path ${result.counterexamplePath})`);
    } else {
      t.pass(`${method} ${path}: ${RUNS} generated requests`);
    }
    // Unless some request of this operation succeeded (a generated body can be valid), the main tables are as they were.
    if (method !== 'GET' && !anySuccess && successes === successesBefore) t.same(await tableCounts(), countsBefore, `${method} ${path}: refused requests wrote nothing`);
  }
  t.comment(`fuzz took ${Math.round((Date.now() - started) / 1000)} s (loaded machine)`);
});
