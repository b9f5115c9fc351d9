import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t, { type Test } from 'tap';
import { queryRows } from '../../src/db/client.js';
import { buildTestApp, company, type User } from '../helpers/app.js';

// Both doors validate with the same zod schemas: the same bad input is refused by REST (400, problem
// errors[].path) and by GraphQL (BAD_USER_INPUT, extensions.errors[].path) naming the same field, and
// nothing is written. The doors spell some names differently: a GraphQL input object's fields sit
// under `input.`, a list's filter fields under `filter.`, and `first`/`after` are REST's `limit`/`cursor`.

const app = await buildTestApp();
t.teardown(() => app.close());

const c = await company(app);
const admin = c.users.admin;
const long = (n: number) => 'x'.repeat(n);
const tag = () => randomUUID().slice(0, 8);

// Everything a write on a customer could leave behind: its own row and the rows hanging off it.
async function footprint(customerId: string) {
  const [row] = await queryRows<Record<string, unknown>>(
    app.db,
    sql`SELECT c.version, c.status, c.lifecycle_stage, c.name,
      (SELECT count(*) FROM contacts WHERE customer_id = c.id)::int AS contacts,
      (SELECT count(*) FROM interactions WHERE customer_id = c.id)::int AS interactions,
      (SELECT count(*) FROM actions WHERE customer_id = c.id)::int AS actions,
      (SELECT count(*) FROM handoffs WHERE customer_id = c.id)::int AS handoffs,
      (SELECT string_agg(status, ',' ORDER BY id) FROM handoffs WHERE customer_id = c.id) AS handoff_statuses,
      (SELECT count(*) FROM opportunities WHERE customer_id = c.id)::int AS opportunities,
      (SELECT count(*) FROM lifecycle_transitions WHERE customer_id = c.id)::int AS lifecycle_transitions,
      (SELECT count(*) FROM audit_log WHERE entity_id = c.id)::int AS audit,
      (SELECT count(*) FROM events WHERE entity_id = c.id)::int AS events
      FROM customers c WHERE c.id = ${customerId}::uuid`,
  );
  return row;
}

async function customersNamed(name: string): Promise<number> {
  const [r] = await queryRows<{ n: number }>(app.db, sql`SELECT count(*)::int AS n FROM customers WHERE name = ${name}`);
  return r?.n ?? 0;
}

type Rest = { method: 'GET' | 'POST' | 'PATCH'; url: string; body?: unknown };
type Gql = { query: string; variables: Record<string, unknown> };

// Sends both requests as `who` and checks each refuses naming its spelling of the field.
async function refusedByBoth(tt: Test, who: User, rest: Rest, restPath: string, gql: Gql, gqlPath: string) {
  const r = await app.rest(who, rest.method, rest.url, rest.body);
  tt.equal(r.status, 400, `REST ${rest.method} ${rest.url} refuses: ${r.raw}`);
  tt.equal(r.body?.code, 'VALIDATION_FAILED');
  tt.ok(
    (r.body?.errors ?? []).some((e: { path: string }) => e.path === restPath),
    `REST names ${restPath}: ${JSON.stringify(r.body?.errors)}`,
  );
  const g = await app.gql(who, gql.query, gql.variables);
  tt.same(g.codes, ['BAD_USER_INPUT'], JSON.stringify(g.errors));
  const paths = (g.errors?.[0]?.extensions?.errors ?? []).map((e: { path: string }) => e.path);
  tt.ok(paths.includes(gqlPath), `GraphQL names ${gqlPath}: ${JSON.stringify(paths)}`);
}

const FREEZE = 'mutation($id: ID!, $reason: String) { freezeCustomer(id: $id, reason: $reason) { id status } }';
const CREATE_CUSTOMER = 'mutation($input: CreateCustomerInput!) { createCustomer(input: $input, allowDuplicate: true) { id } }';
const UPDATE_CUSTOMER = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }';
const CREATE_CONTACT = 'mutation($id: ID!, $input: CreateContactInput!) { createContact(customerId: $id, input: $input) { id } }';
const RECORD = 'mutation($id: ID!, $input: RecordInteractionInput!) { recordInteraction(customerId: $id, input: $input) { id } }';
const LIFECYCLE = 'mutation($id: ID!, $input: LifecycleTransitionInput!) { transitionLifecycle(customerId: $id, input: $input) { id } }';
const HAND_OFF = 'mutation($id: ID!, $input: HandoffInput!) { handOffCustomer(customerId: $id, input: $input) { id } }';
const REJECT = 'mutation($id: ID!, $reason: String!) { rejectHandoff(id: $id, reason: $reason) { id status } }';
const CREATE_ACTION = 'mutation($input: CreateActionInput!) { createAction(input: $input) { id } }';
const CREATE_OPPORTUNITY = 'mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id } }';
const MERGE = 'mutation($id: ID!, $ids: [ID!]!) { mergeCustomers(id: $id, duplicateIds: $ids) { id } }';

t.test('a 3 000-character freeze reason is refused by both doors; the customer stays active', async (t) => {
  const customer = await app.customer(c.users.sales);
  const before = await footprint(customer.id);
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: `/v1/customers/${customer.id}/freeze`, body: { reason: long(3000) } },
    'reason',
    { query: FREEZE, variables: { id: customer.id, reason: long(3000) } },
    'reason',
  );
  t.same(await footprint(customer.id), before, 'nothing written');
  t.equal(before?.status, 'ACTIVE');
});

t.test('over-long strings in a create are refused by both doors; no customer is made', async (t) => {
  const name = `Parity ${tag()} ${long(300)}`;
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: '/v1/customers?allowDuplicate=true', body: { kind: 'ORGANIZATION', name } },
    'name',
    { query: CREATE_CUSTOMER, variables: { input: { kind: 'ORGANIZATION', name } } },
    'input.name',
  );
  const website = `Parity ${tag()}`;
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: '/v1/customers?allowDuplicate=true', body: { kind: 'ORGANIZATION', name: website, website: long(501) } },
    'website',
    { query: CREATE_CUSTOMER, variables: { input: { kind: 'ORGANIZATION', name: website, website: long(501) } } },
    'input.website',
  );
  t.equal(await customersNamed(name), 0);
  t.equal(await customersNamed(website), 0);
});

t.test('a value outside an enum, and a value of the wrong type, are refused by both doors', async (t) => {
  const name = `Parity ${tag()}`;
  // roles is [String!] in the schema: the enum is the REST schema's, applied by GraphQL too.
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: '/v1/customers?allowDuplicate=true', body: { kind: 'ORGANIZATION', name, roles: ['BUYER', 'KING'] } },
    'roles.1',
    { query: CREATE_CUSTOMER, variables: { input: { kind: 'ORGANIZATION', name, roles: ['BUYER', 'KING'] } } },
    'input.roles.1',
  );
  // externalIds is JSON in the schema: its value types are the REST schema's.
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: '/v1/customers?allowDuplicate=true', body: { kind: 'ORGANIZATION', name, externalIds: { erp: 42 } } },
    'externalIds.erp',
    { query: CREATE_CUSTOMER, variables: { input: { kind: 'ORGANIZATION', name, externalIds: { erp: 42 } } } },
    'input.externalIds.erp',
  );
  t.equal(await customersNamed(name), 0, 'no customer made');

  const customer = await app.customer(c.users.sales);
  const before = await footprint(customer.id);
  await refusedByBoth(
    t,
    admin,
    { method: 'PATCH', url: `/v1/customers/${customer.id}`, body: { roles: ['emperor'] } },
    'roles.0',
    { query: UPDATE_CUSTOMER, variables: { id: customer.id, input: { roles: ['emperor'] } } },
    'input.roles.0',
  );
  await refusedByBoth(
    t,
    admin,
    { method: 'PATCH', url: `/v1/customers/${customer.id}`, body: { externalIds: { erp: ['a'] } } },
    'externalIds.erp',
    { query: UPDATE_CUSTOMER, variables: { id: customer.id, input: { externalIds: { erp: ['a'] } } } },
    'input.externalIds.erp',
  );
  t.same(await footprint(customer.id), before, 'nothing written');
});

t.test('where the GraphQL schema itself types the field, GraphQL refuses before any resolver, naming the field', async (t) => {
  const name = `Parity ${tag()}`;
  const r = await app.rest(admin, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ROBOT', name });
  t.equal(r.status, 400);
  t.ok(r.body.errors.some((e: { path: string }) => e.path === 'kind'), JSON.stringify(r.body.errors));
  const g = await app.gql(admin, CREATE_CUSTOMER, { input: { kind: 'ROBOT', name } });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.match(g.errors?.[0]?.message, /"input\.kind"/);
  const w = await app.gql(admin, CREATE_CUSTOMER, { input: { kind: 'ORGANIZATION', name: 42 } });
  t.same(w.codes, ['BAD_USER_INPUT']);
  t.match(w.errors?.[0]?.message, /"input\.name"/);
  const rw = await app.rest(admin, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ORGANIZATION', name: 42 });
  t.equal(rw.status, 400);
  t.ok(rw.body.errors.some((e: { path: string }) => e.path === 'name'));
  t.equal(await customersNamed(name), 0);
});

t.test("over-long strings in the writes on a customer's records are refused by both doors; nothing is written", async (t) => {
  const customer = await app.customer(c.users.sales);
  const before = await footprint(customer.id);
  const id = customer.id;
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: `/v1/customers/${id}/contacts`, body: { name: long(301) } },
    'name',
    { query: CREATE_CONTACT, variables: { id, input: { name: long(301) } } },
    'input.name',
  );
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: `/v1/customers/${id}/interactions`, body: { channel: 'PHONE', direction: 'OUTBOUND', subject: long(301) } },
    'subject',
    { query: RECORD, variables: { id, input: { channel: 'PHONE', direction: 'OUTBOUND', subject: long(301) } } },
    'input.subject',
  );
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: `/v1/customers/${id}/lifecycle-transitions`, body: { to: 'PROSPECT', reason: long(2001) } },
    'reason',
    { query: LIFECYCLE, variables: { id, input: { to: 'PROSPECT', reason: long(2001) } } },
    'input.reason',
  );
  const dueAt = new Date(Date.now() + 86_400_000).toISOString();
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: `/v1/customers/${id}/handoffs`, body: { toUnitId: c.otherBranch.id, dueAt, note: long(2001) } },
    'note',
    { query: HAND_OFF, variables: { id, input: { toUnitId: c.otherBranch.id, dueAt, note: long(2001) } } },
    'input.note',
  );
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: `/v1/customers/${id}/actions`, body: { title: long(301) } },
    'title',
    { query: CREATE_ACTION, variables: { input: { customerId: id, title: long(301) } } },
    'input.title',
  );
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: '/v1/opportunities', body: { customerId: id, name: long(301) } },
    'name',
    { query: CREATE_OPPORTUNITY, variables: { input: { customerId: id, name: long(301) } } },
    'input.name',
  );
  await refusedByBoth(
    t,
    admin,
    { method: 'POST', url: `/v1/customers/${id}/merge`, body: { duplicateIds: ['not-an-id'] } },
    'duplicateIds.0',
    { query: MERGE, variables: { id, ids: ['not-an-id'] } },
    'duplicateIds.0',
  );
  t.same(await footprint(id), before, 'nothing written');
});

t.test('a blank rejection reason is refused by both doors; the handoff stays pending', async (t) => {
  const customer = await app.customer(c.users.sales);
  const h = await app.rest(c.users.sales, 'POST', `/v1/customers/${customer.id}/handoffs`, {
    toUnitId: c.otherBranch.id,
    dueAt: new Date(Date.now() + 86_400_000).toISOString(),
  });
  t.equal(h.status, 201, h.raw);
  const before = await footprint(customer.id);
  await refusedByBoth(
    t,
    c.users.otherSales,
    { method: 'POST', url: `/v1/handoffs/${h.body.id}/reject`, body: { reason: '   ' } },
    'reason',
    { query: REJECT, variables: { id: h.body.id, reason: '   ' } },
    'reason',
  );
  t.same(await footprint(customer.id), before, 'nothing written');
  t.equal(before?.handoff_statuses, 'PENDING');
});

t.test('list arguments are the REST query parameters: the same limits, named as each door names them', async (t) => {
  const CUSTOMERS = 'query($filter: CustomerFilter, $first: Int) { customers(filter: $filter, first: $first) { edges { node { id } } } }';
  await refusedByBoth(t, admin, { method: 'GET', url: `/v1/customers?q=${long(201)}` }, 'q', { query: CUSTOMERS, variables: { filter: { q: long(201) } } }, 'filter.q');
  await refusedByBoth(t, admin, { method: 'GET', url: '/v1/customers?limit=500' }, 'limit', { query: CUSTOMERS, variables: { first: 500 } }, 'first');
  const OPPORTUNITIES = 'query($filter: OpportunityFilter) { opportunities(filter: $filter) { edges { node { id } } } }';
  await refusedByBoth(
    t,
    admin,
    { method: 'GET', url: '/v1/opportunities?amountMin=lots' },
    'amountMin',
    { query: OPPORTUNITIES, variables: { filter: { amountMin: 'lots' } } },
    'filter.amountMin',
  );
  const REPORT = 'query($from: DateTime) { sourceReport(from: $from) { totals { customers } } }';
  await refusedByBoth(t, admin, { method: 'GET', url: '/v1/reports/sources?from=yesterday' }, 'from', { query: REPORT, variables: { from: 'yesterday' } }, 'from');
});

t.test('a yes/no argument is the REST query flag: a null argument means not given', async (t) => {
  const DELEGATIONS = 'query($filter: DelegationFilter) { delegations(filter: $filter) { edges { node { id active } } } }';
  for (const active of [true, false, null]) {
    const g = await app.gql(admin, DELEGATIONS, { filter: { active } });
    t.same(g.errors, undefined, `active: ${active}`);
    if (active !== null) t.ok(g.data.delegations.edges.every((e: { node: { active: boolean } }) => e.node.active === active));
  }
  const name = `Parity ${tag()}`;
  const g = await app.gql(admin, 'mutation($input: CreateCustomerInput!) { createCustomer(input: $input, allowDuplicate: null) { id } }', { input: { kind: 'ORGANIZATION', name } });
  t.same(g.errors, undefined, 'allowDuplicate: null is not given');
});
