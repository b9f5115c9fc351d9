import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { contact, digits, tag } from '../../helpers/factories.js';
import { errorPaths, isProblem } from '../../helpers/problems.js';
import { auditFor, eventsFor, findRow } from '../../helpers/records.js';
import { byCreation, CONTACT_FIELDS } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const CONTACT_KEYS = ['id', 'customerId', 'name', 'title', 'decisionRole', 'phones', 'emails'];

const contactsNamed = (customerId: string, name: string) =>
  queryRows<{ id: string }>(app.db, sql`SELECT id FROM contacts WHERE customer_id = ${customerId}::uuid AND name = ${name}`);

const GQL_CREATE = `mutation($cid: ID!, $input: CreateContactInput!) { createContact(customerId: $cid, input: $input) { ${CONTACT_FIELDS} } }`;
const GQL_GET = `query($id: ID!) { contact(id: $id) { ${CONTACT_FIELDS} } }`;
const GQL_UPDATE = `mutation($id: ID!, $input: UpdateContactInput!, $v: Int) { updateContact(id: $id, input: $input, expectedVersion: $v) { ${CONTACT_FIELDS} } }`;
const GQL_DELETE = 'mutation($id: ID!, $v: Int) { deleteContact(id: $id, expectedVersion: $v) }';

t.test('REST: create, read, list, patch and delete a contact person', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `Contacts Co ${tag()}` });
  const body = { name: 'Dana Decider', title: 'CEO', decisionRole: 'DECISION_MAKER', phones: [`+49 171 ${digits()}`], emails: ['dana@contacts.example'] };
  const res = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/contacts`, body);
  t.equal(res.status, 201, res.raw);
  const id = res.body.id;
  t.equal(res.headers.location, `/v1/contacts/${id}`);
  t.equal(res.headers.etag, '"1"');
  for (const k of CONTACT_KEYS) t.ok(k in res.body, `field ${k}`);
  t.match(res.body, { ...body, customerId: cust.id, version: 1 });

  const minimal = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/contacts`, { name: 'Otto Other' });
  t.equal(minimal.status, 201);
  t.match(minimal.body, { name: 'Otto Other', title: null, decisionRole: 'OTHER', phones: [], emails: [] });

  const got = await app.rest(c.users.sales, 'GET', `/v1/contacts/${id}`);
  t.equal(got.status, 200);
  t.equal(got.headers.etag, '"1"');
  t.same(got.body, res.body);

  const list = await app.rest(c.users.sales, 'GET', `/v1/customers/${cust.id}/contacts`);
  t.equal(list.status, 200);
  t.same(list.body.data.map((x: any) => x.id), byCreation([res.body, minimal.body]), 'in creation order');
  t.equal(list.body.nextCursor, null);

  const p1 = await app.rest(c.users.sales, 'PATCH', `/v1/contacts/${id}`, { title: null, decisionRole: 'influencer' }, { 'if-match': '"1"' });
  t.equal(p1.status, 200, p1.raw);
  t.equal(p1.headers.etag, '"2"');
  t.match(p1.body, { name: 'Dana Decider', title: null, decisionRole: 'INFLUENCER', phones: body.phones, emails: body.emails, version: 2 });
  const stale = await app.rest(c.users.sales, 'PATCH', `/v1/contacts/${id}`, { name: 'Stale' }, { 'if-match': '"1"' });
  t.equal(stale.status, 412);
  t.ok(isProblem(stale.headers));
  t.equal((await findRow(app, 'contacts', id))?.name, 'Dana Decider');

  const noDelete = await app.rest(c.users.sales, 'DELETE', `/v1/contacts/${id}`);
  t.equal(noDelete.status, 403, 'sales holds no contacts:delete');
  t.ok(await findRow(app, 'contacts', id), 'still there');
  const staleDel = await app.rest(c.users.branchManager, 'DELETE', `/v1/contacts/${id}`, undefined, { 'if-match': '"1"' });
  t.equal(staleDel.status, 412);
  t.ok(await findRow(app, 'contacts', id), 'still there after a stale delete');
  const del = await app.rest(c.users.branchManager, 'DELETE', `/v1/contacts/${id}`, undefined, { 'if-match': '"2"' });
  t.equal(del.status, 204, del.raw);
  t.equal(del.raw, '');
  t.equal((await app.rest(c.users.sales, 'GET', `/v1/contacts/${id}`)).status, 404);
  t.equal((await app.rest(c.users.branchManager, 'DELETE', `/v1/contacts/${id}`)).status, 404, 'deleting twice is 404');
  t.notOk(await findRow(app, 'contacts', id));

  const audit = await auditFor(app, id);
  t.same(audit.map((a) => a.action), ['created', 'updated', 'deleted']);
  t.match(audit[0], { entity_type: 'contact', actor_id: c.users.sales.id, before: null, after: { name: 'Dana Decider' } });
  t.match(audit[1], { before: { title: 'CEO' }, after: { title: null } });
  t.match(audit[2], { actor_id: c.users.branchManager.id, after: null, before: { id } });
  t.same((await eventsFor(app, id)).map((e) => e.type), ['contact.created', 'contact.updated', 'contact.deleted']);
});

t.test('contact list: keyset pages of 2 walk every contact once; bad cursor and limit refused', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `Many Contacts ${tag()}` });
  const rows = [];
  for (let i = 0; i < 5; i++) rows.push(await contact(app, c.users.sales, cust.id, { name: `P${i}` }));
  const made = byCreation(rows);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: any = await app.rest(c.users.sales, 'GET', `/v1/customers/${cust.id}/contacts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(res.status, 200, res.raw);
    t.ok(res.body.data.length <= 2);
    seen.push(...res.body.data.map((x: any) => x.id));
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor && pages < 10);
  t.same(seen, made, 'every contact once, in order');
  t.equal(pages, 3);
  for (const [q, path] of [
    ['limit=201', 'limit'],
    ['cursor=%%%', 'cursor'],
    ['cursor=bm90LWpzb24', 'cursor'],
    ['sort=name', 'sort'],
  ]) {
    const res = await app.rest(c.users.sales, 'GET', `/v1/customers/${cust.id}/contacts?${q}`);
    t.equal(res.status, 400, `${q}: ${res.raw}`);
    t.ok(errorPaths(res.body.errors).includes(path!), `${q}: ${res.raw}`);
  }
});

t.test('REST: bad contact input is 400 naming the field and writes nothing', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `Bad Contacts ${tag()}` });
  const existing = await contact(app, c.users.sales, cust.id, { name: 'Existing', title: 'CTO' });
  const createCases: [string, (n: string) => unknown, string][] = [
    ['unknown field', (name) => ({ name, shoeSize: 44 }), 'shoeSize'],
    ['wrong decisionRole', (name) => ({ name, decisionRole: 'BOSS' }), 'decisionRole'],
    ['bad email', (name) => ({ name, emails: ['at@'] }), 'emails.0'],
    ['bad phone', (name) => ({ name, phones: ['+49 30 1234567', 'phone'] }), 'phones.1'],
    ['customerId is not a body field', (name) => ({ name, customerId: cust.id }), 'customerId'],
    ['missing name', () => ({ title: 'x' }), 'name'],
  ];
  for (const [label, make, path] of createCases) {
    const name = `C ${tag()}`;
    const res = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/contacts`, make(name));
    t.equal(res.status, 400, `${label}: ${res.raw}`);
    t.ok(isProblem(res.headers));
    t.ok(errorPaths(res.body.errors).includes(path), `${label}: names ${path}: ${res.raw}`);
    t.same(await contactsNamed(cust.id, name), [], `${label}: nothing written`);
  }
  const badCustomer = await app.rest(c.users.sales, 'POST', '/v1/customers/12/contacts', { name: 'x' });
  t.equal(badCustomer.status, 400);
  t.ok(errorPaths(badCustomer.body.errors).includes('id'));
  const malformed = await app.inject({
    method: 'POST',
    url: `/v1/customers/${cust.id}/contacts`,
    headers: { authorization: `Bearer ${c.users.sales.token}`, 'content-type': 'application/json' },
    payload: '{"name": "Half',
  });
  t.equal(malformed.statusCode, 400);
  t.ok(errorPaths(JSON.parse(malformed.body).errors).includes('body'));

  const patchCases: [string, unknown, string][] = [
    ['unknown field', { nickname: 'x' }, 'nickname'],
    ['wrong decisionRole', { decisionRole: 'BOSS' }, 'decisionRole'],
    ['bad email', { emails: ['nope'] }, 'emails.0'],
    ['name cannot be cleared', { name: null }, 'name'],
    ['customerId is not patchable', { customerId: cust.id }, 'customerId'],
  ];
  for (const [label, body, path] of patchCases) {
    const res = await app.rest(c.users.sales, 'PATCH', `/v1/contacts/${existing.id}`, body);
    t.equal(res.status, 400, `${label}: ${res.raw}`);
    t.ok(errorPaths(res.body.errors).includes(path), `${label}: names ${path}: ${res.raw}`);
  }
  for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
    const res = await app.rest(c.users.branchManager, method, '/v1/contacts/not-a-uuid', method === 'PATCH' ? { name: 'x' } : undefined);
    t.equal(res.status, 400, `${method} bad uuid`);
    t.ok(errorPaths(res.body.errors).includes('id'));
  }
  t.match(await findRow(app, 'contacts', existing.id), { version: 1, name: 'Existing', title: 'CTO' });
  t.equal((await auditFor(app, existing.id)).length, 1, 'only the create is audited');
});

t.test("another partner's contacts are 404 through both doors, nothing leaked or written", async (t) => {
  const c = await company(app);
  const custName = `Hidden Cust ${tag()}`;
  const contactName = `Hidden Person ${tag()}`;
  const cust = await app.customer(c.users.partnerASales, { name: custName });
  const person = await contact(app, c.users.partnerASales, cust.id, { name: contactName, title: 'Buyer' });
  for (const who of [c.users.partnerBManager, c.users.partnerBSales, c.users.branchManager, c.users.partnerASubSales]) {
    const calls: [string, string, unknown?][] = [
      ['GET', `/v1/contacts/${person.id}`],
      ['PATCH', `/v1/contacts/${person.id}`, { title: 'Hijacked' }],
      ['DELETE', `/v1/contacts/${person.id}`],
      ['GET', `/v1/customers/${cust.id}/contacts`],
      ['POST', `/v1/customers/${cust.id}/contacts`, { name: 'Spy' }],
    ];
    for (const [method, url, body] of calls) {
      const res = await app.rest(who, method as 'GET', url, body);
      t.equal(res.status, 404, `${who.roles} ${method} ${url}: ${res.raw}`);
      t.notOk(res.raw.includes(contactName) || res.raw.includes(custName), 'no name leaked');
    }
    const gqlCalls: [string, Record<string, unknown>][] = [
      [GQL_GET, { id: person.id }],
      [GQL_UPDATE, { id: person.id, input: { title: 'Hijacked' } }],
      [GQL_DELETE, { id: person.id }],
      [GQL_CREATE, { cid: cust.id, input: { name: 'Spy' } }],
      ['query($id: ID!) { customer(id: $id) { contacts { name } } }', { id: cust.id }],
    ];
    for (const [q, vars] of gqlCalls) {
      const g = await app.gql(who, q, vars);
      t.same(g.codes, ['NOT_FOUND'], `${who.roles} ${q.slice(0, 30)}: ${JSON.stringify(g.errors)}`);
      t.notOk(JSON.stringify(g).includes(contactName) || JSON.stringify(g).includes(custName), 'no name leaked');
    }
  }
  t.match(await findRow(app, 'contacts', person.id), { version: 1, title: 'Buyer' });
  t.same(await contactsNamed(cust.id, 'Spy'), []);
  t.equal((await auditFor(app, person.id)).length, 1);
  t.equal((await app.rest(c.users.partnerAManager, 'GET', `/v1/contacts/${person.id}`)).status, 200, "the partner's manager sees it");
});

t.test('GraphQL: createContact, contact, updateContact, deleteContact — the same records as REST', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `GContacts ${tag()}` });
  const input = { name: 'Gina Gatekeeper', title: 'Assistant', decisionRole: 'GATEKEEPER', phones: [`+1 212 ${digits(7)}`], emails: ['gina@g.example'] };
  const g = await app.gql(c.users.sales, GQL_CREATE, { cid: cust.id, input });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  const created = g.data.createContact;
  t.match(created, { ...input, customerId: cust.id, version: 1 });
  const r = await app.rest(c.users.sales, 'GET', `/v1/contacts/${created.id}`);
  t.same(r.body, created, 'REST reads what GraphQL wrote');

  const viaRest = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/contacts`, { name: 'Terry Tech', decisionRole: 'TECHNICAL' });
  const rg = await app.gql(c.users.sales, GQL_GET, { id: viaRest.body.id });
  t.same(rg.data.contact, viaRest.body, 'GraphQL reads what REST wrote');
  const nested = await app.gql(c.users.sales, 'query($id: ID!) { customer(id: $id) { contacts { id name } } }', { id: cust.id });
  t.same(nested.data.customer.contacts.map((x: any) => x.id), byCreation([created, viaRest.body]));

  const u = await app.gql(c.users.sales, GQL_UPDATE, { id: created.id, input: { title: null, emails: [] }, v: 1 });
  t.same(u.errors, undefined, JSON.stringify(u.errors));
  t.match(u.data.updateContact, { title: null, emails: [], phones: input.phones, decisionRole: 'GATEKEEPER', version: 2 });
  t.same((await app.gql(c.users.sales, GQL_UPDATE, { id: created.id, input: { name: 'X' }, v: 1 })).codes, ['PRECONDITION_FAILED']);
  t.same((await app.gql(c.users.sales, GQL_DELETE, { id: created.id })).codes, ['FORBIDDEN'], 'sales cannot delete');
  t.same((await app.gql(c.users.branchManager, GQL_DELETE, { id: created.id, v: 1 })).codes, ['PRECONDITION_FAILED']);
  const d = await app.gql(c.users.branchManager, GQL_DELETE, { id: created.id, v: 2 });
  t.same(d.data, { deleteContact: true });
  t.equal((await app.rest(c.users.sales, 'GET', `/v1/contacts/${created.id}`)).status, 404);
  t.same((await auditFor(app, created.id)).map((a) => a.action), ['created', 'updated', 'deleted']);
});

t.test('GraphQL: bad contact input is BAD_USER_INPUT and writes nothing', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `GBadContacts ${tag()}` });
  const existing = await contact(app, c.users.sales, cust.id, { name: 'Keep Me' });
  const cases: [string, string, Record<string, unknown>, string | null][] = [
    ['unknown field', GQL_CREATE, { cid: cust.id, input: { name: 'N1', shoeSize: 1 } }, null],
    ['wrong enum', GQL_CREATE, { cid: cust.id, input: { name: 'N2', decisionRole: 'BOSS' } }, null],
    ['bad email', GQL_CREATE, { cid: cust.id, input: { name: 'N3', emails: ['x'] } }, 'input.emails.0'],
    ['bad phone', GQL_CREATE, { cid: cust.id, input: { name: 'N4', phones: ['abc'] } }, 'input.phones.0'],
    ['bad customer id', GQL_CREATE, { cid: 'nope', input: { name: 'N5' } }, 'customerId'],
    ['bad contact id', GQL_GET, { id: 'nope' }, 'id'],
    ['update: bad email', GQL_UPDATE, { id: existing.id, input: { emails: ['x'] } }, 'input.emails.0'],
    ['update: clear name', GQL_UPDATE, { id: existing.id, input: { name: null } }, 'input.name'],
    ['update: bad id', GQL_UPDATE, { id: 'nope', input: { name: 'Y' } }, 'id'],
    ['delete: bad id', GQL_DELETE, { id: 'nope' }, 'id'],
  ];
  for (const [label, q, vars, path] of cases) {
    const g = await app.gql(c.users.branchManager, q, vars);
    t.same(g.codes, ['BAD_USER_INPUT'], `${label}: ${JSON.stringify(g.errors)}`);
    if (path) t.ok(errorPaths(g.errors?.[0]?.extensions?.errors).includes(path), `${label}: names ${path}: ${JSON.stringify(g.errors)}`);
  }
  const rows = await queryRows<{ name: string }>(app.db, sql`SELECT name FROM contacts WHERE customer_id = ${cust.id}::uuid`);
  t.same(rows.map((r) => r.name), ['Keep Me'], 'nothing written');
  t.match(await findRow(app, 'contacts', existing.id), { version: 1, name: 'Keep Me' });
});
