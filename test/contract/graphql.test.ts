import { readFileSync } from 'node:fs';
import { buildClientSchema, buildSchema, getIntrospectionQuery, type GraphQLSchema, type IntrospectionQuery, lexicographicSortSchema, printSchema } from 'graphql';
import t from 'tap';
import { MAX_COMPLEXITY, MAX_DEPTH } from '../../src/plugins/graphql.js';
import { buildTestApp } from '../helpers/app.js';

// The GraphQL door's contract: schema.graphql is the schema's one source (the server serves exactly
// it and resolves every root field), the limits are the documented ones, errors carry codes.

const file = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
const sorted = (s: GraphQLSchema) => printSchema(lexicographicSortSchema(s));

const app = await buildTestApp();
t.teardown(() => app.close());

t.test('the served schema is schema.graphql', async (t) => {
  const admin = await app.admin();
  const res = await app.gql(admin, getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }));
  t.equal(res.status, 200);
  t.notOk(res.errors, JSON.stringify(res.errors));
  const served = buildClientSchema(res.data as IntrospectionQuery);
  t.equal(sorted(served), sorted(buildSchema(file)), 'introspection answers schema.graphql, descriptions included');
  // The instance mercurius executes against, too.
  t.equal(sorted(app.app.graphql.schema), sorted(buildSchema(file)));
});

t.test('every root field has a resolver', async (t) => {
  const schema = app.app.graphql.schema;
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    if (!root) continue;
    for (const field of Object.values(root.getFields())) t.type(field.resolve, 'function', `${root.name}.${field.name} is resolved`);
  }
});

t.test('the contract root fields of api.md §3 exist once built', async (t) => {
  const schema = buildSchema(file);
  const query = schema.getQueryType()?.getFields() ?? {};
  const mutation = schema.getMutationType()?.getFields() ?? {};
  for (const f of ['me', 'customer', 'customers', 'orgUnits']) t.ok(query[f], `Query.${f}`);
  for (const f of ['createCustomer', 'updateCustomer']) t.ok(mutation[f], `Mutation.${f}`);
  // Lists are Relay connections.
  const customers = schema.getType('CustomerConnection');
  t.ok(customers && 'getFields' in customers && customers.getFields().edges && customers.getFields().pageInfo, 'CustomerConnection has edges and pageInfo');
});

t.test('depth and cost limits are the documented ones; the depth limit counts data, not introspection', async (t) => {
  t.equal(MAX_DEPTH, 8);
  t.equal(MAX_COMPLEXITY, 5000);
  const admin = await app.admin();
  // Inline fragments count as a level, as mercurius counts them: 8 levels pass, 9 do not.
  const nested = (n: number) => `{ customers(first: 1) { edges { node { ${'... on Customer { '.repeat(n)}owner { unit { id } }${' }'.repeat(n)} } } } }`;
  t.same((await app.gql(admin, nested(2))).errors, undefined, 'depth 8 runs');
  const deep = await app.gql(admin, nested(3));
  t.equal(deep.status, 400);
  t.same(deep.codes, ['BAD_USER_INPUT']);
  t.match(deep.errors?.[0]?.message, /deeper than 8/);
  // GraphiQL's introspection query (15 deep) ran in the first test.
});

t.test('a request refused before GraphQL runs is the caller\'s fault, not an internal error', async (t) => {
  const admin = await app.admin();
  const post = (payload: string, type: string) =>
    app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${admin.token}`, 'content-type': type }, payload });
  const malformed = await post('{"query": "{ me { user { id } } "', 'application/json');
  t.equal(malformed.statusCode, 400);
  t.match(malformed.json(), { data: null, errors: [{ extensions: { code: 'BAD_USER_INPUT', status: 400 } }] });
  const plain = await post('{ me { user { id } } }', 'text/plain');
  t.equal(plain.statusCode, 400);
  t.match(plain.json(), { data: null, errors: [{ extensions: { code: 'BAD_USER_INPUT', status: 415 } }] });
  const fine = await post('{"query": "{ me { user { email } } }"}', 'application/json');
  t.equal(fine.json().data.me.user.email, 'admin@example.com');
});
