import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { getIntrospectionQuery } from 'graphql';
import t from 'tap';
import { queryRows } from '../../src/db/client.js';
import { checkQueryText, GRAPHQL_LIMITS } from '../../src/plugins/graphql-limits.js';
import { buildTestApp } from '../helpers/app.js';

// Hostile GraphQL requests are refused with 400 BAD_USER_INPUT before anything is parsed by
// mercurius, validated or executed: never INTERNAL_SERVER_ERROR, never run, never slow.

const app = await buildTestApp();
t.teardown(() => app.close());
const admin = await app.admin();

type Gql = { status: number; body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }; ms: number };

async function post(payload: unknown, contentType = 'application/json'): Promise<Gql> {
  const started = performance.now();
  const res = await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': contentType },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { status: res.statusCode, body: res.json(), ms: performance.now() - started };
}

async function get(qs: string): Promise<Gql> {
  const started = performance.now();
  const res = await app.inject({ method: 'GET', url: `/graphql?${qs}`, headers: { authorization: `Bearer ${admin.token}` } });
  return { status: res.statusCode, body: res.json(), ms: performance.now() - started };
}

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];
function refused(t: Tap, res: Gql, what: string, message?: RegExp) {
  t.equal(res.status, 400, `${what}: 400`);
  t.equal(res.body.data ?? null, null, `${what}: no data`);
  t.equal(res.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${what}: BAD_USER_INPUT`);
  t.notOk(res.body.errors?.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR'), `${what}: never an internal error`);
  if (message) t.match(res.body.errors?.[0]?.message, message, `${what}: says why`);
}

async function customersNamed(name: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(app.db, sql`SELECT count(*)::int AS n FROM customers WHERE name = ${name}`);
  return Number(row?.n ?? 0);
}

const create = (name: string) => `mutation { createCustomer(input: { kind: ORGANIZATION, name: "${name}" }) { id } }`;

t.test('a query that is not one string: 400 BAD_USER_INPUT, nothing runs', async (t) => {
  const name = `gql-shape-${randomUUID()}`;
  const cases: [string, unknown, RegExp][] = [
    ['a number', { query: 5 }, /query must be a string/],
    ['a boolean', { query: true }, /query must be a string/],
    ['an object', { query: { query: create(name) } }, /query must be a string/],
    ['an array of one mutation', { query: [create(name)] }, /single string/],
    ['missing', { variables: {} }, /query is required/],
    ['null', { query: null }, /query is required/],
    ['empty', { query: '' }, /query is required/],
    ['variables not an object', { query: create(name), variables: 'x' }, /variables must be an object/],
    ['operationName not a string', { query: create(name), operationName: 5 }, /operationName must be a string/],
    ['a batch', [{ query: create(name) }, { query: create(name) }], /batched requests are not supported/],
    ['a batch of one', [{ query: create(name) }], /batched requests are not supported/],
    ['a bare string body', JSON.stringify(create(name)), /JSON object/],
    ['a number body', '42', /JSON object/],
  ];
  for (const [what, payload, message] of cases) refused(t, await post(payload), what, message);
  t.equal(await customersNamed(name), 0, 'no mutation ran');
});

t.test('GET: the same shape rules', async (t) => {
  refused(t, await get('query=5'), 'a query that does not parse', /Syntax Error/);
  refused(t, await post({ query: '5' }), 'a bare number as text', /Syntax Error/);
  refused(t, await get(`query=${encodeURIComponent('{ me { user { id } } }')}&query=x`), 'query given twice', /single string/);
  refused(t, await get('variables=%7B%7D'), 'no query', /query is required/);
  const ok = await get(`query=${encodeURIComponent('{ me { user { id } } }')}`);
  t.equal(ok.status, 200, 'a plain GET query still works');
});

t.test('a one-operation request still works, with application/graphql too', async (t) => {
  const json = await post({ query: 'query Who { me { user { id } } }', operationName: 'Who', variables: null });
  t.equal(json.status, 200);
  t.match(json.body, { data: { me: { user: { id: admin.id } } } });
  const raw = await post('{ me { user { id } } }', 'application/graphql');
  t.equal(raw.status, 200);
});

t.test('a 2 000-fragment chain is refused fast, plain or through introspection', async (t) => {
  const chain = (n: number, on: string, leaf: string, root: string) =>
    `${root} ${Array.from({ length: n }, (_, i) => `fragment F${i} on ${on} { ${i + 1 < n ? `...F${i + 1}` : leaf} }`).join(' ')}`;
  const plain = await post({ query: chain(2000, 'Query', 'me { user { id } }', '{ ...F0 }') });
  refused(t, plain, 'plain chain of 2000');
  t.ok(plain.ms < 2000, `answered in ${Math.round(plain.ms)} ms`);
  const intro = await post({ query: chain(2000, '__Schema', 'queryType { name }', '{ __schema { ...F0 } }') });
  refused(t, intro, 'introspection chain of 2000');
  const shorter = await post({ query: chain(150, 'Query', 'me { user { id } }', '{ ...F0 }') });
  refused(t, shorter, 'chain of 150 (under the length limit)', /defines 150 fragments; at most 100/);
  const nested = await post({ query: chain(20, 'Query', 'me { user { id } }', '{ ...F0 }') });
  refused(t, nested, 'chain of 20', /fragments are nested more than 16 deep/);
  const fine = await post({ query: chain(10, 'Query', 'me { user { id } }', '{ ...F0 }') });
  t.equal(fine.status, 200, 'a chain of 10 runs');
  t.match(fine.body, { data: { me: { user: { id: admin.id } } } });
});

t.test('aliases of one field and the total number of selections are bounded', async (t) => {
  const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { user { id } }`).join(' ')} }`;
  const many = await post({ query: aliases(500) });
  refused(t, many, '500 aliases of me', /field me is selected more than 50 times/);
  t.ok(many.ms < 2000, `answered in ${Math.round(many.ms)} ms`);
  refused(t, await post({ query: aliases(51) }), '51 aliases');
  t.equal((await post({ query: aliases(50) })).status, 200, '50 aliases run');

  // Through fragments: 30 spreads of a fragment of 40 selections each, 1 260 fields in all.
  const typenames = Array.from({ length: 40 }, (_, i) => `t${i}: __typename`).join(' ');
  const wide = `fragment A on User { ${typenames} } { ${Array.from({ length: 30 }, (_, i) => `m${i}: me { user { ...A } }`).join(' ')} }`;
  refused(t, await post({ query: wide }), '1 260 selections through a fragment', /more than 1000 fields/);
  // The same field spread in by several fragments counts once per selection.
  const spreads = `fragment B on Query { ${Array.from({ length: 30 }, (_, i) => `b${i}: me { user { id } }`).join(' ')} } fragment C on Query { ${Array.from({ length: 30 }, (_, i) => `c${i}: me { user { id } }`).join(' ')} } { ...B ...C }`;
  refused(t, await post({ query: spreads }), '60 selections of me through two fragments', /field me is selected more than 50 times/);
});

t.test('deep nesting and very long documents: 400, not a stack overflow', async (t) => {
  refused(t, await post({ query: `${'{ a '.repeat(5000)}${'}'.repeat(5000)}` }), '5 000 levels', /nested more than|tokens/);
  refused(t, await post({ query: `${'{ a '.repeat(40)}${'}'.repeat(40)}` }), '40 levels', /nested more than 32 levels/);
  refused(t, await post({ query: `{ me { user { id } } } # ${'x'.repeat(60_000)}` }), 'over 50 000 characters', /longer than 50000 characters/);
  refused(t, await post({ query: `{ ${'a '.repeat(12_000)} }` }), 'over 10 000 tokens', /more than 10000 tokens/);
});

t.test('the introspection query GraphiQL and code generators send is within the limits', async (t) => {
  t.equal(checkQueryText(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true })), null);
  const res = await post({ query: getIntrospectionQuery() });
  t.equal(res.status, 200);
  t.match(res.body, { data: { __schema: { queryType: { name: 'Query' } } } });
  t.ok(GRAPHQL_LIMITS.maxSelections >= 1000 && GRAPHQL_LIMITS.maxSameField >= 50, 'the documented limits');
});

t.test('GraphQL error messages speak GraphQL: the duplicate refusal names the argument, not a query parameter', async (t) => {
  const name = `Gql Duplicate ${randomUUID()}`;
  t.equal((await post({ query: create(name) })).status, 200);
  const dup = await post({ query: create(name) });
  const err = dup.body.errors?.[0];
  t.equal(err?.extensions?.code, 'CONFLICT');
  t.notMatch(err?.message, /\?allowDuplicate|=true/, 'no REST query parameter in the message');
  t.match(err?.message, /allowDuplicate: true/, 'names the GraphQL argument');
  const rest = await app.rest(admin, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name });
  t.equal(rest.status, 409);
  t.match(rest.body.detail, /\?allowDuplicate=true/, 'the REST door keeps its own wording');
});
