// Hostile input over every GraphQL mutation of schema.graphql: variables generated from the argument
// types (plausible, boundary and wrong-typed values, odd and huge strings, unknown input fields).
// Whatever arrives: never a 5xx nor an INTERNAL_SERVER_ERROR, every error with an extensions.code, and
// a mutation that answers an error writes nothing (no audit row, no event). Seeded: FUZZ_SEED, FUZZ_RUNS.
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { buildSchema, getNamedType, type GraphQLInputType, isEnumType, isInputObjectType, isListType, isNonNullType, isScalarType, type GraphQLNamedType } from 'graphql';
import t from 'tap';
import { queryRows } from '../../src/db/client.js';
import { buildTestApp } from '../helpers/app.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const RUNS = Number(process.env.FUZZ_RUNS ?? 6);
const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

const oddString = fc.oneof(
  fc.constantFrom('', ' ', 'a\u0000b', '\u202Eevil', '😀👨‍👩‍👧', '\uD800', "'; DROP TABLE customers; --", '00000000-0000-0000-0000-000000000000', '2026-02-30T25:00:00Z', '-1', '1e309', 'x'.repeat(100_000)),
  fc.string({ maxLength: 30, unit: 'binary' }),
);
const oddValue: fc.Arbitrary<unknown> = fc.oneof(oddString, fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 + 2, 1e308, 0.5), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({ unknownField: 1 }));

function valueOf(type: GraphQLInputType, ids: string[], depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return valueOf(type.ofType, ids, depth);
  if (isListType(type)) return depth > 2 ? fc.constant([]) : fc.array(valueOf(type.ofType, ids, depth + 1), { maxLength: 3 });
  const named = getNamedType(type) as GraphQLNamedType;
  if (isEnumType(named)) return fc.constantFrom(...named.getValues().map((v) => v.name));
  if (isInputObjectType(named)) {
    if (depth > 2) return fc.constant({});
    const fields = Object.values(named.getFields());
    return fc.record(Object.fromEntries(fields.map((f) => [f.name, fc.oneof({ weight: 3, arbitrary: valueOf(f.type, ids, depth + 1) }, { weight: 1, arbitrary: oddValue })])), { requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name) });
  }
  if (isScalarType(named)) {
    if (named.name === 'ID') return fc.oneof(fc.constantFrom(...ids), fc.uuid(), oddString);
    if (named.name === 'Int') return fc.oneof(fc.integer({ min: -3, max: 300 }), fc.constantFrom(2 ** 31 - 1, -(2 ** 31)));
    if (named.name === 'Float') return fc.double({ noNaN: true, noDefaultInfinity: true });
    if (named.name === 'Boolean') return fc.boolean();
    if (named.name === 'DateTime') return fc.oneof(fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), oddString);
    if (named.name === 'JSON') return oddValue;
    return oddString;
  }
  return oddValue;
}

const app = await buildTestApp({ DUPLICATE_PROBE_LIMIT_PER_HOUR: '100000' });
t.teardown(() => app.close());
const admin = await app.admin();
const seller = await app.user(await app.unit('REGION'), ['sales']);
const customer = await app.customer(seller);
const ids = [customer.id, admin.id, seller.id];

async function lastWrite(): Promise<string> {
  const [row] = await queryRows<{ a: string | null; e: string | null }>(app.db, sql`SELECT (SELECT max(id) FROM audit_log)::text AS a, (SELECT max(id) FROM events)::text AS e`);
  return `${row?.a}/${row?.e}`;
}

const mutations = Object.values(schema.getMutationType()?.getFields() ?? {});

t.test(`every GraphQL mutation (${mutations.length}), seed ${SEED}, ${RUNS} runs each`, async (t) => {
  for (const [i, field] of mutations.entries()) {
    const named = getNamedType(field.type);
    const selection = isScalarType(named) || isEnumType(named) ? '' : ' { __typename }';
    const defs = field.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
    const call = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
    const query = `mutation${defs ? `(${defs})` : ''} { ${field.name}${call ? `(${call})` : ''}${selection} }`;
    // Mostly well-typed variables (they reach the resolvers and services); sometimes wrong-typed ones.
    const variables = fc.oneof(
      { weight: 4, arbitrary: fc.record(Object.fromEntries(field.args.map((a) => [a.name, valueOf(a.type, ids)])), { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.record(Object.fromEntries(field.args.map((a) => [a.name, oddValue])), { requiredKeys: [] }) },
    );
    const token = fc.constantFrom(admin.token, admin.token, seller.token);
    const result = await fc.check(
      fc.asyncProperty(variables, token, async (vars, tok) => {
        const before = await lastWrite();
        const res = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, payload: JSON.stringify({ query, variables: vars }) });
        const show = `${field.name} ${JSON.stringify(vars).slice(0, 300)}`;
        if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${show}: ${res.body.slice(0, 300)}`);
        const body = JSON.parse(res.body) as { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: unknown } }[] };
        for (const e of body.errors ?? []) {
          if (typeof e.extensions?.code !== 'string') throw new Error(`an error without extensions.code for ${show}: ${res.body.slice(0, 300)}`);
          if (e.extensions.code === 'INTERNAL_SERVER_ERROR') throw new Error(`internal error for ${show}: ${res.body.slice(0, 300)}`);
        }
        const failed = (body.errors?.length ?? 0) > 0 && (body.data?.[field.name] ?? null) === null;
        if (failed && (await lastWrite()) !== before) throw new Error(`a refused mutation wrote an audit row or event: ${show}`);
        return true;
      }),
      { seed: SEED + i, numRuns: RUNS, endOnFailure: true },
    );
    if (result.failed) t.fail(`${field.name}: ${String((result.errorInstance as Error | undefined)?.message ?? result.errorInstance)} (FUZZ_SEED=${SEED}, mutation seed ${SEED + i})`);
    else t.pass(`${field.name}: ${RUNS} generated calls`);
  }
});
