import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { contact, digits, tag } from '../../helpers/factories.js';
import { errorPaths } from '../../helpers/problems.js';
import { auditFor, eventsFor, findRow } from '../../helpers/records.js';
import { CUSTOMER_FIELDS, customersNamed } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const CREATE = `mutation($input: CreateCustomerInput!, $allow: Boolean) { createCustomer(input: $input, allowDuplicate: $allow) { ${CUSTOMER_FIELDS} } }`;
const GET = `query($id: ID!) { customer(id: $id) { ${CUSTOMER_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCustomerInput!, $v: Int) { updateCustomer(id: $id, input: $input, expectedVersion: $v) { ${CUSTOMER_FIELDS} } }`;
const FREEZE = 'mutation($id: ID!, $reason: String, $v: Int) { freezeCustomer(id: $id, reason: $reason, expectedVersion: $v) { id status version } }';
const UNFREEZE = 'mutation($id: ID!, $v: Int) { unfreezeCustomer(id: $id, expectedVersion: $v) { id status version } }';
const LIST = `query($filter: CustomerFilter, $first: Int, $after: String, $sort: String) {
  customers(filter: $filter, first: $first, after: $after, sort: $sort) { edges { cursor node { id name status creditStatus } } pageInfo { hasNextPage endCursor } } }`;

// GraphQL spells an absent address line as null; REST leaves it out.
const compact = (o: Record<string, unknown> | null) => (o ? Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) : o);

t.test('createCustomer in GraphQL reads back the same through REST', async (t) => {
  const c = await company(app);
  const k = tag();
  const input = {
    kind: 'ORGANIZATION',
    name: `Graph ${k} Ltd`,
    registrationId: `GB${digits(8)}`,
    phones: [`+44 20 ${digits()}`],
    emails: [`hello-${k}@graph.example`],
    website: 'https://graph.example',
    industry: 'Software',
    region: 'London',
    address: { line1: '1 High St', city: 'London', country: 'GB' },
    roles: ['BUYER'],
    lifecycleStage: 'OPPORTUNITY',
    source: { channel: 'WEBSITE', campaign: 'q3' },
    externalIds: { erp: `G-${k}` },
    creditStatus: 'GOOD',
  };
  // The ERP-owned fields only an integration caller writes: the ERP creates the customer for the salesperson.
  const bySales = await app.gql(c.users.sales, CREATE, { input });
  t.same(bySales.codes, ['FORBIDDEN'], 'a salesperson may not set what the ERP owns');
  const g = await app.gql(c.users.integration, CREATE, { input: { ...input, ownerUserId: c.users.sales.id } });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  const created = g.data.createCustomer;
  t.match(created, { ...input, address: { line1: '1 High St', city: 'London', country: 'GB', line2: null }, status: 'ACTIVE', ownerUserId: c.users.sales.id, ownerUnitId: c.branch.id, version: 1, mergedIntoId: null });

  const r = await app.rest(c.users.sales, 'GET', `/v1/customers/${created.id}`);
  t.equal(r.status, 200);
  t.equal(r.headers.etag, '"1"');
  for (const [k2, v] of Object.entries(created)) {
    if (k2 === 'address') t.same(r.body.address, compact(v as Record<string, unknown>), 'address');
    else t.same(r.body[k2], v, `REST ${k2} equals GraphQL ${k2}`);
  }
  const audit = await auditFor(app, created.id);
  t.match(audit, [{ action: 'created', actor_id: c.users.integration.id }], 'audited like a REST create, by the one who created it');
  t.same((await eventsFor(app, created.id)).map((e) => e.type), ['customer.created']);
});

t.test('a REST-created customer reads the same through GraphQL', async (t) => {
  const c = await company(app);
  const k = tag();
  const res = await app.rest(c.users.partnerASales, 'POST', '/v1/customers', {
    kind: 'PERSON',
    name: `Rest Person ${k}`,
    phones: [`+33 1 ${digits()}`],
    emails: [`p-${k}@rest.example`],
    address: 'Rue 1',
    source: { channel: 'partner', detail: 'walk-in' },
  });
  t.equal(res.status, 201, res.raw);
  const g = await app.gql(c.users.partnerASales, GET, { id: res.body.id });
  t.same(g.errors, undefined);
  const node = g.data.customer;
  for (const [key, v] of Object.entries(res.body)) {
    if (key === 'address') t.same(compact(node.address), v, 'address');
    else if (key !== 'valueClass') t.same(node[key], v, `GraphQL ${key} equals REST ${key}`);
  }
  t.equal(node.creditStatus, null, 'hidden for partner_sales: null');
  t.equal(node.source.channel, 'PARTNER');
  t.same(node.address, { line1: 'Rue 1', line2: null, city: null, postalCode: null, region: null, country: null });
});

t.test('updateCustomer: merge patch, version check, null clears; REST sees the result', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `GUpd ${tag()}`, industry: 'Oil', region: 'West', website: 'https://w.example' });
  const u1 = await app.gql(c.users.sales, UPDATE, { id: cust.id, input: { industry: null, region: 'East' }, v: 1 });
  t.same(u1.errors, undefined, JSON.stringify(u1.errors));
  t.match(u1.data.updateCustomer, { industry: null, region: 'East', website: 'https://w.example', version: 2 });
  const stale = await app.gql(c.users.sales, UPDATE, { id: cust.id, input: { region: 'North' }, v: 1 });
  t.same(stale.codes, ['PRECONDITION_FAILED']);
  t.equal(stale.errors?.[0]?.extensions?.currentVersion, 2);
  const r = await app.rest(c.users.sales, 'GET', `/v1/customers/${cust.id}`);
  t.match(r.body, { industry: null, region: 'East', version: 2 });
  t.equal(r.headers.etag, '"2"');
  // And the other way round: a REST patch, then GraphQL.
  await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cust.id}`, { website: null }, { 'if-match': '"2"' });
  const g = await app.gql(c.users.sales, GET, { id: cust.id });
  t.match(g.data.customer, { website: null, region: 'East', version: 3 });
  const audit = await auditFor(app, cust.id);
  t.match(audit.at(-2), { action: 'updated', actor_id: c.users.sales.id, before: { region: 'West', industry: 'Oil' }, after: { region: 'East', industry: null } });
});

t.test('freezeCustomer / unfreezeCustomer and the status filter', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `GFreeze ${tag()}` });
  const denied = await app.gql(c.users.sales, FREEZE, { id: cust.id });
  t.same(denied.codes, ['FORBIDDEN'], 'sales may not freeze');
  const stale = await app.gql(c.users.branchManager, FREEZE, { id: cust.id, v: 5 });
  t.same(stale.codes, ['PRECONDITION_FAILED']);
  const f = await app.gql(c.users.branchManager, FREEZE, { id: cust.id, reason: 'gone quiet', v: 1 });
  t.same(f.data.freezeCustomer, { id: cust.id, status: 'FROZEN', version: 2 });
  const active = await app.gql(c.users.sales, LIST, { first: 50 });
  t.notOk(active.data.customers.edges.some((e: any) => e.node.id === cust.id), 'not in the default list');
  const frozen = await app.gql(c.users.sales, LIST, { filter: { status: 'FROZEN' } });
  t.same(frozen.data.customers.edges.map((e: any) => e.node.id), [cust.id]);
  const rest = await app.rest(c.users.sales, 'GET', '/v1/customers?status=FROZEN');
  t.same(rest.body.data.map((x: any) => x.id), [cust.id], 'REST agrees');
  t.equal((await app.gql(c.users.sales, GET, { id: cust.id })).data.customer.status, 'FROZEN', 'still readable');
  const u = await app.gql(c.users.branchManager, UNFREEZE, { id: cust.id, v: 2 });
  t.same(u.data.unfreezeCustomer, { id: cust.id, status: 'ACTIVE', version: 3 });
  t.match((await auditFor(app, cust.id)).map((a) => a.action), [/^created/, 'frozen', 'unfrozen']);
});

t.test('bad input is BAD_USER_INPUT and writes nothing', async (t) => {
  const c = await company(app);
  const createCases: [string, (name: string) => Record<string, unknown>, string | null][] = [
    ['unknown field', (name) => ({ name, kind: 'ORGANIZATION', bogus: 1 }), null],
    ['wrong kind enum', (name) => ({ name, kind: 'ALIEN' }), null],
    ['wrong lifecycleStage enum', (name) => ({ name, kind: 'ORGANIZATION', lifecycleStage: 'WHALE' }), null],
    ['bad email', (name) => ({ name, kind: 'ORGANIZATION', emails: ['not-an-email'] }), 'input.emails.0'],
    ['bad phone', (name) => ({ name, kind: 'ORGANIZATION', phones: ['call me'] }), 'input.phones.0'],
    ['wrong role', (name) => ({ name, kind: 'ORGANIZATION', roles: ['FRIEND'] }), 'input.roles.0'],
    ['bad ownerUserId', (name) => ({ name, kind: 'ORGANIZATION', ownerUserId: 'nope' }), 'input.ownerUserId'],
    ['empty name', () => ({ name: ' ', kind: 'ORGANIZATION' }), 'input.name'],
  ];
  for (const [label, make, path] of createCases) {
    const name = `GBad ${tag()}`;
    const g = await app.gql(c.users.sales, CREATE, { input: make(name) });
    t.same(g.codes, ['BAD_USER_INPUT'], `${label}: ${JSON.stringify(g.errors)}`);
    if (path) t.ok(errorPaths(g.errors?.[0]?.extensions?.errors).includes(path), `${label}: names ${path}: ${JSON.stringify(g.errors)}`);
    t.same(await customersNamed(app, name), [], `${label}: nothing written`);
  }
  // The same refusals written inline in the query document.
  const inline = await app.gql(c.users.sales, `mutation { createCustomer(input: { name: "GBad inline ${tag()}", kind: ORGANIZATION, colour: "red" }) { id } }`);
  t.same(inline.codes, ['BAD_USER_INPUT'], JSON.stringify(inline.errors));
  t.equal(inline.status, 400, 'refused before it runs');

  const cust = await app.customer(c.users.sales, { name: `GPatchee ${tag()}` });
  const updateCases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['lifecycleStage refused', { id: cust.id, input: { lifecycleStage: 'CUSTOMER' } }, {}],
    ['status refused', { id: cust.id, input: { status: 'FROZEN' } }, {}],
    ['bad email', { id: cust.id, input: { emails: ['x@'] } }, {}],
    ['name cannot be cleared', { id: cust.id, input: { name: null } }, {}],
    ['bad uuid', { id: 'not-a-uuid', input: { name: 'x' } }, {}],
    ['version below 1', { id: cust.id, input: { name: 'x' }, v: 0 }, {}],
  ];
  for (const [label, vars] of updateCases) {
    const g = await app.gql(c.users.sales, UPDATE, vars);
    t.same(g.codes, ['BAD_USER_INPUT'], `${label}: ${JSON.stringify(g.errors)}`);
  }
  const byId = await app.gql(c.users.sales, GET, { id: 'xyz' });
  t.same(byId.codes, ['BAD_USER_INPUT']);
  t.ok(errorPaths(byId.errors?.[0]?.extensions?.errors).includes('id'), JSON.stringify(byId.errors));
  t.same((await app.gql(c.users.sales, FREEZE, { id: 'xyz' })).codes, ['BAD_USER_INPUT']);
  t.same((await app.gql(c.users.sales, UNFREEZE, { id: 'xyz' })).codes, ['BAD_USER_INPUT']);
  const row = await findRow(app, 'customers', cust.id);
  t.match(row, { version: 1, lifecycle_stage: 'SUSPECT', status: 'ACTIVE', name: cust.name });
  t.equal((await auditFor(app, cust.id)).length, 1);

  const listCases: [string, Record<string, unknown>][] = [
    ['first > 200', { first: 201 }],
    ['first 0', { first: 0 }],
    ['bad cursor', { after: 'garbage' }],
    ['bad sort', { sort: 'colour' }],
    ['bad owner id', { filter: { ownerUnitId: 'x' } }],
    ['bad enum', { filter: { lifecycleStage: 'WHALE' } }],
    ['bad timestamp', { filter: { updatedAfter: 'yesterday' } }],
  ];
  for (const [label, vars] of listCases) {
    const g = await app.gql(c.users.sales, LIST, vars);
    t.same(g.codes, ['BAD_USER_INPUT'], `${label}: ${JSON.stringify(g.errors)}`);
  }
});

t.test("another partner's customer does not exist through GraphQL either", async (t) => {
  const c = await company(app);
  const secret = `GSecret ${tag()}`;
  const cust = await app.customer(c.users.partnerASales, { name: secret });
  const mine = await app.customer(c.users.partnerBManager, { name: `GMine ${tag()}` });
  const ops: [string, Record<string, unknown>][] = [
    [GET, { id: cust.id }],
    [UPDATE, { id: cust.id, input: { industry: 'Hijacked' } }],
    [FREEZE, { id: cust.id }],
    [UNFREEZE, { id: cust.id }],
    ['mutation($id: ID!, $d: [ID!]!) { mergeCustomers(id: $id, duplicateIds: $d) { id } }', { id: mine.id, d: [cust.id] }],
    ['mutation($id: ID!, $d: [ID!]!) { mergeCustomers(id: $id, duplicateIds: $d) { id } }', { id: cust.id, d: [mine.id] }],
    ['mutation($id: ID!) { createContact(customerId: $id, input: { name: "Spy" }) { id } }', { id: cust.id }],
  ];
  for (const [q, vars] of ops) {
    const g = await app.gql(c.users.partnerBManager, q, vars);
    t.same(g.codes, ['NOT_FOUND'], `${q.slice(0, 40)}: ${JSON.stringify(g.errors)}`);
    t.notOk(JSON.stringify(g).includes(secret), 'nothing leaked');
  }
  const list = await app.gql(c.users.partnerBManager, LIST, { filter: { q: secret } });
  t.same(list.data.customers.edges, []);
  t.match(await findRow(app, 'customers', cust.id), { version: 1, status: 'ACTIVE', industry: null });
  t.match(await findRow(app, 'customers', mine.id), { version: 1, status: 'ACTIVE' });
});

t.test('field-level security in GraphQL: creditStatus resolves to null for partner_sales and marketing', async (t) => {
  const c = await company(app);
  const k = tag();
  const admin = await app.admin();
  const pc = await app.rest(admin, 'POST', '/v1/customers', { name: `GCredit P ${k}`, kind: 'ORGANIZATION', creditStatus: 'BLOCKED', ownerUserId: c.users.partnerASales.id });
  t.equal(pc.status, 201, pc.raw);
  const bc = await app.customer(c.users.sales, { name: `GCredit B ${k}`, creditStatus: 'WATCH' });
  for (const [who, id] of [
    [c.users.partnerASales, pc.body.id],
    [c.users.marketing, bc.id],
  ] as const) {
    const g = await app.gql(who, 'query($id: ID!) { customer(id: $id) { id creditStatus } }', { id });
    t.same(g.errors, undefined);
    t.same(g.data.customer, { id, creditStatus: null }, `${who.roles}: null`);
    const l = await app.gql(who, LIST, { filter: { q: k } });
    const node = l.data.customers.edges.find((e: any) => e.node.id === id)?.node;
    t.ok(node, 'listed');
    t.equal(node?.creditStatus, null, `${who.roles}: null in the connection`);
    const u = await app.gql(who, 'mutation($id: ID!) { updateCustomer(id: $id, input: { industry: "Retail" }) { creditStatus } }', { id });
    t.same(u.data?.updateCustomer, { creditStatus: null }, JSON.stringify(u.errors));
  }
  const m = await app.gql(c.users.branchManager, 'query($id: ID!) { customer(id: $id) { creditStatus } }', { id: bc.id });
  t.equal(m.data.customer.creditStatus, 'WATCH', 'a manager sees it');
});

t.test('customers connection: cursors page through, pageInfo tells when to stop', async (t) => {
  const c = await company(app);
  const k = tag();
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await app.customer(c.users.sales, { name: `GPage ${k} ${i}` }));
  const seen: string[] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 10; guard++) {
    const g = await app.gql(c.users.sales, LIST, { first: 2, after, sort: 'name' });
    t.same(g.errors, undefined);
    const conn = g.data.customers;
    seen.push(...conn.edges.map((e: any) => e.node.name));
    for (const e of conn.edges) t.type(e.cursor, 'string');
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  t.same(seen, made.map((m) => m.name), 'every record exactly once, in name order');
  // An edge cursor resumes right after its edge.
  const first = await app.gql(c.users.sales, LIST, { first: 5, sort: 'name' });
  const third = first.data.customers.edges[2];
  const rest = await app.gql(c.users.sales, LIST, { first: 5, sort: 'name', after: third.cursor });
  t.same(rest.data.customers.edges.map((e: any) => e.node.name), made.slice(3).map((m) => m.name));
});

t.test('nested fields are batched: the same number of statements for 3 and 30 customers', async (t) => {
  const region = await app.unit('REGION');
  const branch = await app.unit('BRANCH', region);
  const manager = await app.user(region, ['manager']);
  const sellers = [await app.user(branch, ['sales']), await app.user(branch, ['sales']), await app.user(region, ['sales'])];
  const k = tag();
  for (let i = 0; i < 30; i++) {
    const owner = sellers[i % sellers.length]!;
    const cust = await app.customer(owner, { name: `Batch ${k} ${String(i).padStart(2, '0')}` });
    await contact(app, owner, cust.id, { name: `Contact ${i}a` });
    if (i % 2 === 0) await contact(app, owner, cust.id, { name: `Contact ${i}b` });
  }
  const q = `query($n: Int, $f: CustomerFilter) { customers(first: $n, filter: $f, sort: "name") {
    edges { node { name contacts { name } owner { email } ownerUnit { name } } } } }`;
  const run = (n: number) => app.countStatements(() => app.gql(manager, q, { n, f: { q: `batch ${k}` } }));
  const three = await run(3);
  const thirty = await run(30);
  t.same(three.result.errors, undefined, JSON.stringify(three.result.errors));
  t.same(thirty.result.errors, undefined, JSON.stringify(thirty.result.errors));
  t.equal(three.result.data.customers.edges.length, 3);
  t.equal(thirty.result.data.customers.edges.length, 30);
  t.comment(`statements per request: ${three.statements} for 3 customers, ${thirty.statements} for 30`);
  t.equal(thirty.statements, three.statements, `statements: ${three.statements} for 3, ${thirty.statements} for 30`);
  t.ok(thirty.statements <= 6, `a handful of statements in all (${thirty.statements})`);
  const nodes = thirty.result.data.customers.edges.map((e: any) => e.node);
  t.same(nodes[0].contacts.map((x: any) => x.name).sort(), ['Contact 0a', 'Contact 0b']);
  t.same(nodes[1].contacts.map((x: any) => x.name), ['Contact 1a']);
  t.equal(nodes[0].owner.email, sellers[0]!.email);
  t.equal(nodes[2].ownerUnit.name, region.name);
  t.equal(nodes[1].ownerUnit.name, branch.name);
});

t.test('depth and cost limits refuse a query before it runs', async (t) => {
  const c = await company(app);
  const baseline = await app.countStatements(() => app.gql(c.users.sales, '{ __typename }'));

  // customers(1) edges(2) node(3) four inline fragments(4-7) ownerUnit(8) id(9): one level too deep.
  const deep = '{ customers { edges { node { ... on Customer { ... on Customer { ... on Customer { ... on Customer { ownerUnit { id } } } } } } } } }';
  const d = await app.countStatements(() => app.gql(c.users.sales, deep));
  t.same(d.result.codes, ['BAD_USER_INPUT'], JSON.stringify(d.result.errors));
  t.equal(d.result.status, 400);
  t.equal(d.result.data, null);
  t.ok(d.statements <= baseline.statements, `the customers list never ran (${d.statements} vs ${baseline.statements})`);
  const viaFragment = `query { customers { edges { node { ...Deep } } } }
    fragment Deep on Customer { ... on Customer { ... on Customer { ... on Customer { ... on Customer { ownerUnit { id } } } } } }`;
  const df = await app.gql(c.users.sales, viaFragment);
  t.same(df.codes, ['BAD_USER_INPUT'], `a named fragment does not hide depth: ${JSON.stringify(df.errors)}`);
  const atLimit = '{ customers { edges { node { ... on Customer { ... on Customer { ... on Customer { ownerUnit { id } } } } } } } }';
  const al = await app.gql(c.users.sales, atLimit);
  t.same(al.errors, undefined, `depth 8 is allowed: ${JSON.stringify(al.errors)}`);

  const wide = `query($n: Int) { customers(first: $n) { edges { cursor node { ${CUSTOMER_FIELDS} contacts { id name title } owner { id email } ownerUnit { id name } } } } }`;
  const costly = await app.countStatements(() => app.gql(c.users.sales, wide, { n: 200 }));
  t.same(costly.result.codes, ['BAD_USER_INPUT'], JSON.stringify(costly.result.errors));
  t.match(costly.result.errors?.[0]?.message, /cost/);
  t.equal(costly.result.status, 400, 'refused before execution: 400, as a validation failure');
  t.equal(costly.result.data, null);
  t.ok(costly.statements <= baseline.statements, 'the costly query never ran');
  const literal = await app.gql(c.users.sales, wide.replace('query($n: Int)', '').replace('$n', '200'));
  t.same(literal.codes, ['BAD_USER_INPUT'], 'the same with first written inline');
  const ok = await app.gql(c.users.sales, wide, { n: 20 });
  t.same(ok.errors, undefined, 'a modest page of the same shape runs');
  // The document is cached by its text: the cost is still judged by each request's variables.
  const again = await app.gql(c.users.sales, wide, { n: 200 });
  t.same(again.codes, ['BAD_USER_INPUT'], 'the cached document with a costly variable is refused again');
  for (let i = 0; i < 3; i++) t.same((await app.gql(c.users.sales, wide, { n: 20 })).errors, undefined, `run ${i + 2} of the cached document`);
  t.same((await app.gql(c.users.sales, wide, { n: 200 })).codes, ['BAD_USER_INPUT'], 'and refused on a later run too');
});

t.test('nested owner and ownerUnit follow the visibility of users and units: a share shows the record, not its owner', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `Nested Owner ${tag()}` });
  const admin = await app.admin();
  t.equal((await app.rest(c.users.branchManager, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: cust.id, toUnitId: c.partnerA.id })).status, 201);
  const q = 'query($id: ID!) { customer(id: $id) { id owner { id email } ownerUnit { id name } } }';
  const asPartner = await app.gql(c.users.partnerASales, q, { id: cust.id });
  t.equal(asPartner.errors, undefined, JSON.stringify(asPartner.errors));
  t.same(asPartner.data.customer, { id: cust.id, owner: null, ownerUnit: null }, "the company's salesperson and branch stay hidden from the partner");
  const asManager = await app.gql(c.users.branchManager, q, { id: cust.id });
  t.match(asManager.data.customer, { owner: { id: c.users.sales.id }, ownerUnit: { id: c.branch.id } }, 'the branch manager sees both');
  const asAdmin = await app.gql(admin, q, { id: cust.id });
  t.match(asAdmin.data.customer.owner, { email: c.users.sales.email });
});
