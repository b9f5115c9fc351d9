import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { customRole, tag } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { auditFor, eventsFor } from '../../helpers/records.js';

// Read and upsert by external id (api.md §2 Integration): customers, contacts and opportunities, both doors.

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const erp = c.users.integration;

t.test('customer PUT by external id: 201 + Location when absent, 200 merge patch when present, unchanged writes nothing', async (t) => {
  const k = tag();
  const url = `/v1/customers/external/erp/C-${k}`;
  const body = { kind: 'ORGANIZATION', name: `Upsert ${k}`, industry: 'Steel', ownerUserId: c.users.sales.id };
  const created = await app.rest(erp, 'PUT', url, body);
  t.equal(created.status, 201, created.raw);
  t.equal(created.headers.location, `/v1/customers/${created.body.id}`);
  t.equal(created.headers.etag, '"1"');
  t.same(created.body.externalIds, { erp: `C-${k}` });
  t.equal(created.body.ownerUserId, c.users.sales.id);

  const read = await app.rest(erp, 'GET', url);
  t.equal(read.status, 200);
  t.equal(read.body.id, created.body.id);

  const auditBefore = (await auditFor(app, created.body.id)).length;
  const eventsBefore = (await eventsFor(app, created.body.id)).length;
  const same = await app.rest(erp, 'PUT', url, body);
  t.equal(same.status, 200, same.raw);
  t.equal(same.body.version, 1, 'unchanged body: same version');
  t.equal((await auditFor(app, created.body.id)).length, auditBefore, 'no audit row');
  t.equal((await eventsFor(app, created.body.id)).length, eventsBefore, 'no event');

  const changed = await app.rest(erp, 'PUT', url, { industry: 'Glass', address: { city: 'Kiel' } });
  t.equal(changed.status, 200, changed.raw);
  t.match(changed.body, { version: 2, industry: 'Glass', name: `Upsert ${k}`, address: { city: 'Kiel' } });
  t.equal(changed.headers.etag, '"2"');

  const stale = await app.rest(erp, 'PUT', url, { industry: 'Wood' }, { 'if-match': '"1"' });
  t.equal(problemOf(stale, 412), null);

  // The sales owner may write through the same door, without touching what the ERP owns.
  const bySales = await app.rest(c.users.sales, 'PUT', url, { website: 'https://x.example' });
  t.equal(bySales.status, 200, bySales.raw);
  const salesNew = await app.rest(c.users.sales, 'PUT', `/v1/customers/external/erp/N-${k}`, { kind: 'PERSON', name: `Sales ${k}` });
  t.equal(problemOf(salesNew, 403, ['externalIds']), null, 'creating with an ERP id needs integration:write');
});

t.test('customer PUT: bad input is 400 naming the field, never 5xx', async (t) => {
  const k = tag();
  const cases: [string, unknown, string[]][] = [
    [`/v1/customers/external/erp/A-${k}`, { kind: 'ORGANIZATION' }, ['name']],
    [`/v1/customers/external/erp/A-${k}`, { name: `No kind ${k}` }, ['kind']],
    [`/v1/customers/external/erp/A-${k}`, { kind: 'ORGANIZATION', name: 'x', colour: 'red' }, ['colour']],
    [`/v1/customers/external/erp/A-${k}`, { kind: 'ORGANIZATION', name: 'x', externalIds: { erp: 'other' } }, ['externalIds.erp']],
    [`/v1/customers/external/erp/A-${k}`, { kind: 'ORGANIZATION', name: 'x', creditLimit: '100' }, ['creditCurrency']],
    [`/v1/customers/external/erp/A-${k}`, { kind: 'ORGANIZATION', name: 'x', creditLimit: 12.5 }, ['creditLimit']],
    [`/v1/customers/external/erp/A-${k}`, { kind: 'ORGANIZATION', name: 'x\u0000y' }, ['name']],
    [`/v1/customers/external/ERP/A-${k}`, { kind: 'ORGANIZATION', name: 'x' }, ['system']],
    [`/v1/customers/external/erp/${'x%00y'}`, { kind: 'ORGANIZATION', name: 'x' }, ['externalId']],
    // Longer than any path segment the router takes: refused before the route, naming the url.
    [`/v1/customers/external/erp/${'x'.repeat(201)}`, { kind: 'ORGANIZATION', name: 'x' }, ['url']],
  ];
  for (const [url, body, paths] of cases) {
    const res = await app.rest(erp, 'PUT', url, body);
    t.equal(problemOf(res, 400, paths), null, `${url.slice(0, 60)} ${JSON.stringify(body)}`);
  }
  const q = await app.rest(erp, 'PUT', `/v1/customers/external/erp/A-${k}?upsert=1`, { kind: 'ORGANIZATION', name: 'x' });
  t.equal(problemOf(q, 400), null, 'unknown query parameter');
  t.equal((await app.rest(erp, 'GET', `/v1/customers/external/erp/A-${k}`)).status, 404, 'nothing was created');
});

t.test('another partner\'s record by external id: 404 to read, refused without naming it to write', async (t) => {
  const k = tag();
  const theirs = await app.customer(c.users.partnerBSales, { name: `Theirs ${k}`, externalIds: { erp: `P-${k}` } });
  for (const who of [c.users.partnerASales, c.users.partnerAManager]) {
    const res = await app.rest(who, 'GET', `/v1/customers/external/erp/P-${k}`);
    t.equal(problemOf(res, 404), null);
    t.notOk(res.raw.includes(theirs.id));
  }
  // A caller that may write external ids but sees only its own records.
  const role = await customRole(app, 'OWN', ['customers:read', 'customers:create', 'customers:update', 'integration:write']);
  const narrow = await app.user(c.branch, [role.name]);
  const put = await app.rest(narrow, 'PUT', `/v1/customers/external/erp/P-${k}`, { kind: 'ORGANIZATION', name: `Mine ${k}` });
  t.equal(problemOf(put, 409, ['externalIds.erp']), null);
  t.equal(put.body.code, 'EXTERNAL_ID_TAKEN');
  t.notOk(put.raw.includes(theirs.id), 'the holder is never named');
  t.equal((await app.rest(narrow, 'GET', `/v1/customers/external/erp/P-${k}`)).status, 404);
  // Creating or patching another record with the taken id: the same refusal.
  const mine = await app.rest(narrow, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name: `Mine2 ${k}`, externalIds: { erp: `P-${k}` } });
  t.equal(problemOf(mine, 409, ['externalIds.erp']), null);
  t.notOk(mine.raw.includes(theirs.id));
});

t.test('two concurrent PUTs of the same new external id make one customer', async (t) => {
  const k = tag();
  const url = `/v1/customers/external/erp/R-${k}`;
  const body = { kind: 'ORGANIZATION', name: `Race ${k}` };
  const answers = await Promise.all([app.rest(erp, 'PUT', url, body), app.rest(erp, 'PUT', url, body), app.rest(erp, 'PUT', url, body)]);
  t.same(answers.map((a) => a.status).sort(), [200, 200, 201], answers.map((a) => a.raw).join('\n'));
  t.equal(new Set(answers.map((a) => a.body.id)).size, 1, 'one record');
  const list = await app.rest(erp, 'GET', `/v1/customers?externalId=erp:R-${k}&status=ALL`);
  t.equal(list.body.data.length, 1);
});

t.test('onDuplicate: fail refuses, link attaches the id to the one match, create makes another', async (t) => {
  const k = tag();
  const crm = await app.customer(c.users.sales, { name: `Linked ${k} GmbH` });
  const body = { kind: 'ORGANIZATION', name: `Linked ${k} GmbH` };
  const fail = await app.rest(erp, 'PUT', `/v1/customers/external/erp/L-${k}`, body);
  t.equal(fail.status, 409, fail.raw);
  t.equal(fail.body.code, 'DUPLICATE_CUSTOMER');
  const link = await app.rest(erp, 'PUT', `/v1/customers/external/erp/L-${k}?onDuplicate=link`, body);
  t.equal(link.status, 200, link.raw);
  t.equal(link.body.id, crm.id, 'the existing customer took the id');
  t.same(link.body.externalIds, { erp: `L-${k}` });
  const again = await app.rest(erp, 'PUT', `/v1/customers/external/erp/L2-${k}?onDuplicate=link`, body);
  t.equal(again.status, 409, 'a match that already holds an id of this system is not linked again');
  const create = await app.rest(erp, 'PUT', `/v1/customers/external/erp/L2-${k}?onDuplicate=create`, body);
  t.equal(create.status, 201, create.raw);
  t.not(create.body.id, crm.id);
  t.equal(problemOf(await app.rest(erp, 'PUT', `/v1/customers/external/erp/L3-${k}?onDuplicate=merge`, body), 400, ['onDuplicate']), null);
});

t.test('a merge carries the duplicates\' external ids to the survivor', async (t) => {
  const k = tag();
  const survivor = await app.customer(c.users.sales, { name: `Keep ${k}`, externalIds: { erp: `K-${k}` } });
  const dup = await app.customer(c.users.sales, { name: `Fold ${k}`, externalIds: { erp: `F-${k}`, sap: `S-${k}` } });
  const merged = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${survivor.id}/merge`, { duplicateIds: [dup.id] });
  t.equal(merged.status, 200, merged.raw);
  t.same(merged.body.externalIds, { erp: `K-${k}`, sap: `S-${k}` }, 'sap moved; the survivor keeps its own erp id');
  const bySap = await app.rest(erp, 'GET', `/v1/customers/external/sap/S-${k}`);
  t.equal(bySap.body.id, survivor.id);
  const byOldErp = await app.rest(erp, 'GET', `/v1/customers/external/erp/F-${k}`);
  t.match(byOldErp.body, { id: dup.id, status: 'MERGED', mergedIntoId: survivor.id, externalIds: { erp: `F-${k}` } });
  // The id that moved can be given to no one else.
  const taken = await app.rest(erp, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name: `Other ${k}`, externalIds: { sap: `S-${k}` } });
  t.equal(taken.body.code, 'EXTERNAL_ID_TAKEN');
});

t.test('GraphQL: customerByExternalId and upsertCustomerByExternalId, the same rules', async (t) => {
  const k = tag();
  const m = `mutation($s: String!, $x: String!, $in: UpsertCustomerInput!, $d: OnDuplicate) {
    upsertCustomerByExternalId(system: $s, externalId: $x, input: $in, onDuplicate: $d) { status customer { id version name externalIds } } }`;
  const first = await app.gql(erp, m, { s: 'erp', x: `G-${k}`, in: { kind: 'ORGANIZATION', name: `Gql ${k}` } });
  t.same(first.errors, undefined);
  t.equal(first.data.upsertCustomerByExternalId.status, 'CREATED');
  const again = await app.gql(erp, m, { s: 'erp', x: `G-${k}`, in: { name: `Gql ${k}` } });
  t.match(again.data.upsertCustomerByExternalId, { status: 'UNCHANGED', customer: { version: 1 } });
  const upd = await app.gql(erp, m, { s: 'erp', x: `G-${k}`, in: { name: `Gql ${k} AG` } });
  t.match(upd.data.upsertCustomerByExternalId, { status: 'UPDATED', customer: { version: 2 } });
  const bad = await app.gql(erp, m, { s: 'erp', x: `G2-${k}`, in: { kind: 'ORGANIZATION' } });
  t.same(gqlPaths(bad), ['input.name']);
  const q = `query($s: String!, $x: String!) { customerByExternalId(system: $s, externalId: $x) { id externalIds } }`;
  const read = await app.gql(erp, q, { s: 'erp', x: `G-${k}` });
  t.equal(read.data.customerByExternalId.id, first.data.upsertCustomerByExternalId.customer.id);
  const hidden = await app.gql(c.users.partnerASales, q, { s: 'erp', x: `G-${k}` });
  t.same(hidden.codes, ['NOT_FOUND']);
  const badSystem = await app.gql(erp, q, { s: 'Not A System', x: 'y' });
  t.same(gqlPaths(badSystem), ['system']);
});

t.test('contacts by external id: created on a customer named by its own external id, unchanged writes nothing, hidden from partners', async (t) => {
  const k = tag();
  await app.rest(erp, 'PUT', `/v1/customers/external/erp/CC-${k}`, { kind: 'ORGANIZATION', name: `Contacts ${k}`, ownerUserId: c.users.partnerASales.id });
  const url = `/v1/contacts/external/erp/P-${k}`;
  const body = { customer: { system: 'erp', externalId: `CC-${k}` }, name: `Ada ${k}`, decisionRole: 'DECISION_MAKER' };
  const created = await app.rest(erp, 'PUT', url, body);
  t.equal(created.status, 201, created.raw);
  t.equal(created.headers.location, `/v1/contacts/${created.body.id}`);
  t.same(created.body.externalIds, { erp: `P-${k}` });
  const same = await app.rest(erp, 'PUT', url, body);
  t.equal(same.status, 200, same.raw);
  t.equal(same.body.version, 1);
  const changed = await app.rest(erp, 'PUT', url, { title: 'CFO' });
  t.match(changed.body, { version: 2, title: 'CFO' });
  const moved = await app.rest(erp, 'PUT', url, { customerId: c.users.sales.id });
  t.equal(problemOf(moved, 400, ['customerId']), null, 'a contact stays with its customer');
  const noCustomer = await app.rest(erp, 'PUT', `/v1/contacts/external/erp/Q-${k}`, { name: 'x' });
  t.equal(problemOf(noCustomer, 400, ['customerId']), null);
  const ghost = await app.rest(erp, 'PUT', `/v1/contacts/external/erp/Q-${k}`, { name: 'x', customer: { system: 'erp', externalId: `none-${k}` } });
  t.equal(problemOf(ghost, 400, ['customer']), null);
  // The owner (a partner) sees the contact, not the ERP's ids.
  const asPartner = await app.rest(c.users.partnerASales, 'GET', `/v1/contacts/${created.body.id}`);
  t.equal(asPartner.status, 200);
  t.notOk('externalIds' in asPartner.body);
  t.equal((await app.rest(c.users.partnerBSales, 'GET', url)).status, 404);
  const list = await app.rest(erp, 'GET', `/v1/contacts?externalId=erp:P-${k}`);
  t.same(list.body.data.map((x: { id: string }) => x.id), [created.body.id]);
  const partnerWrite = await app.rest(c.users.partnerASales, 'PATCH', `/v1/contacts/${created.body.id}`, { externalIds: { erp: 'mine' } });
  t.equal(problemOf(partnerWrite, 403, ['externalIds']), null);
  const g = await app.gql(erp, `mutation($in: UpsertContactInput!) { upsertContactByExternalId(system: "erp", externalId: "${`P-${k}`}", input: $in) { status contact { id title externalIds } } }`, { in: { title: 'CFO' } });
  t.match(g.data.upsertContactByExternalId, { status: 'UNCHANGED', contact: { id: created.body.id } });
  const gRead = await app.gql(erp, `{ contactByExternalId(system: "erp", externalId: "P-${k}") { id } }`);
  t.equal(gRead.data.contactByExternalId.id, created.body.id);
});

t.test('opportunities by external id: created on the customer named by its external id, then merge-patched', async (t) => {
  const k = tag();
  const cu = await app.customer(c.users.sales, { name: `Deals ${k}`, externalIds: { erp: `D-${k}` } });
  const url = `/v1/opportunities/external/erp/O-${k}`;
  const created = await app.rest(erp, 'PUT', url, { customer: { system: 'erp', externalId: `D-${k}` }, name: `Deal ${k}`, amount: '1500', currency: 'EUR', ownerUserId: c.users.sales.id });
  t.equal(created.status, 201, created.raw);
  t.match(created.body, { customerId: cu.id, amount: '1500.00', externalIds: { erp: `O-${k}` } });
  const same = await app.rest(erp, 'PUT', url, { name: `Deal ${k}`, amount: '1500.00' });
  t.equal(same.status, 200);
  t.equal(same.body.version, created.body.version);
  const read = await app.rest(c.users.sales, 'GET', url);
  t.equal(read.body.id, created.body.id);
  t.equal((await app.rest(c.users.partnerASales, 'GET', url)).status, 404);
  const filtered = await app.rest(erp, 'GET', `/v1/opportunities?externalId=erp:O-${k}`);
  t.same(filtered.body.data.map((x: { id: string }) => x.id), [created.body.id]);
  const g = await app.gql(erp, `{ opportunityByExternalId(system: "erp", externalId: "O-${k}") { id externalIds } }`);
  t.equal(g.data.opportunityByExternalId.id, created.body.id);
  const gu = await app.gql(erp, `mutation { upsertOpportunityByExternalId(system: "erp", externalId: "O-${k}", input: { amount: "2000" }) { status opportunity { amount version } } }`);
  t.match(gu.data.upsertOpportunityByExternalId, { status: 'UPDATED', opportunity: { amount: '2000.00' } });
});
