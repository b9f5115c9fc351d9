import t from 'tap';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { auditFor, eventsFor } from '../../helpers/records.js';

// The set-based pass of bulk loads of contact persons (customers/contacts-bulk.ts): a batch mixing every outcome
// is answered row by row as single upserts would answer it, writes one audit row and one event per written
// contact, and the same load again is UNCHANGED without a write; rows the pass leaves (faults, external ids in the
// body, a caller without integration:write) get the single upsert's answer.

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const erp = c.users.integration;

const contactCount = async (customerId: string) =>
  (await queryRows<{ n: number }>(app.db, sql`SELECT count(*)::int AS n FROM contacts WHERE customer_id = ${customerId}::uuid`))[0]!.n;

async function customersOf(k: string, n: number): Promise<[string, string, ...string[]]> {
  const rows = Array.from({ length: n }, (_, i) => ({ externalId: `CU-${k}-${i}`, kind: 'ORGANIZATION', name: `Contact holder ${k} ${i}` }));
  const res = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows });
  if (res.status !== 200) throw new Error(res.raw);
  return res.body.results.map((r: { id: string }) => r.id);
}

t.test('a batch mixing new, changed, unchanged and bad rows: each answered, audit and events per written contact, nothing for the rest', async (t) => {
  const k = tag();
  const [a, b] = await customersOf(k, 2);
  const base = [
    { externalId: `P-${k}-0`, customerId: a, name: 'Ann Adler', title: 'Buyer', emails: [`ann-${k}@a.example`] },
    { externalId: `P-${k}-1`, customer: { system: 'erp', externalId: `CU-${k}-1` }, name: 'Ben Berg', decisionRole: 'DECISION_MAKER' },
    { externalId: `P-${k}-2`, customerId: a, name: 'Cem Cakir', phones: ['+49 30 1234567'] },
  ];
  const first = await app.rest(erp, 'POST', '/v1/bulk/contacts', { system: 'erp', rows: base });
  t.equal(first.status, 200, first.raw);
  t.same(first.body.summary, { created: 3, updated: 0, unchanged: 0, failed: 0 });
  const ids = first.body.results.map((r: { id: string }) => r.id);
  const ben = await app.rest(erp, 'GET', `/v1/contacts/external/erp/P-${k}-1`);
  t.match(ben.body, { id: ids[1], customerId: b, name: 'Ben Berg', decisionRole: 'DECISION_MAKER', externalIds: { erp: `P-${k}-1` }, version: 1 });
  for (const id of ids) {
    const created = await eventsFor(app, id, 'contact.created');
    t.equal(created.length, 1, 'one contact.created event');
    t.same((await auditFor(app, id)).map((r) => r.action), ['created']);
  }

  const rows: unknown[] = [
    base[0], // unchanged (its mark)
    { ...base[1], title: 'Head of purchasing' }, // changed
    { externalId: `P-${k}-2`, name: 'Cem Cakir' }, // unchanged: the patch repeats what is stored
    { ...base[2], externalId: `P-${k}-3`, customerId: b, name: 'Dana Dorn' }, // new
    { externalId: `P-${k}-4`, customerId: a }, // bad: a new contact needs a name
    { externalId: `P-${k}-5`, customerId: a, name: 'Eve', decisionRole: 'BOSS' }, // bad: unknown role
    { ...base[0], customerId: b }, // bad: a contact stays with its customer (same id as row 0: after it)
    { externalId: `P-${k}-6`, customerId: b, name: 'Finn', externalIds: { crm2: `F-${k}` } }, // external ids in the body: the single upsert
  ];
  const res = await app.rest(erp, 'POST', '/v1/bulk/contacts', { system: 'erp', rows });
  t.equal(res.status, 200, res.raw);
  t.same(
    res.body.results.map((r: { status: string }) => r.status),
    ['UNCHANGED', 'UPDATED', 'UNCHANGED', 'CREATED', 'FAILED', 'FAILED', 'FAILED', 'CREATED'],
    res.raw,
  );
  t.same(res.body.summary, { created: 2, updated: 1, unchanged: 2, failed: 3 });
  t.same(res.body.results.slice(0, 3).map((r: { id: string }) => r.id), ids);
  t.match(res.body.results[4].error, { code: 'VALIDATION_FAILED', errors: [{ path: 'name' }] });
  t.match(res.body.results[5].error, { code: 'VALIDATION_FAILED', errors: [{ path: 'decisionRole' }] });
  t.match(res.body.results[6].error, { code: 'VALIDATION_FAILED', errors: [{ path: 'customerId', message: 'a contact stays with its customer' }] });

  t.same((await auditFor(app, ids[0])).map((r) => r.action), ['created'], 'the unchanged rows wrote nothing');
  t.same((await auditFor(app, ids[2])).map((r) => r.action), ['created']);
  t.same((await auditFor(app, ids[1])).map((r) => r.action), ['created', 'updated']);
  const updated = await eventsFor(app, ids[1], 'contact.updated');
  t.equal(updated.length, 1);
  t.match(updated[0]?.payload, { before: { title: null, version: 1 }, after: { title: 'Head of purchasing', version: 2 } });
  const dana = await app.rest(erp, 'GET', `/v1/contacts/external/erp/P-${k}-3`);
  t.match(dana.body, { id: res.body.results[3].id, customerId: b, name: 'Dana Dorn', phones: ['+49 30 1234567'], decisionRole: 'OTHER', version: 1 });
  const finn = await app.rest(erp, 'GET', `/v1/contacts/external/crm2/F-${k}`);
  t.match(finn.body, { id: res.body.results[7].id, externalIds: { erp: `P-${k}-6`, crm2: `F-${k}` } });
  t.equal(await contactCount(a), 2, 'no contact from the bad rows');
  t.equal(await contactCount(b), 3);

  // The same load once more: every row that wrote is UNCHANGED now, and nothing is written.
  const again = await app.rest(erp, 'POST', '/v1/bulk/contacts', { system: 'erp', rows });
  t.same(
    again.body.results.map((r: { status: string }) => r.status),
    ['UNCHANGED', 'UNCHANGED', 'UNCHANGED', 'UNCHANGED', 'FAILED', 'FAILED', 'FAILED', 'UNCHANGED'],
    again.raw,
  );
  t.same((await auditFor(app, ids[1])).map((r) => r.action), ['created', 'updated']);
  t.equal((await eventsFor(app, res.body.results[3].id, 'contact.updated')).length, 0);

  // Through the other door: the contacts as GraphQL reads them.
  const gql = await app.gql(erp, `query($x: String!) { contacts(filter: { externalId: $x }) { edges { node { id name title customerId version } } } }`, { x: `erp:P-${k}-1` });
  t.same(gql.data?.contacts.edges.map((e: { node: unknown }) => e.node), [{ id: ids[1], name: 'Ben Berg', title: 'Head of purchasing', customerId: b, version: 2 }], JSON.stringify(gql.errors));
});

t.test('a contact changed since the load marked it is decided on the stored record, not on the mark', async (t) => {
  const k = tag();
  const [a] = await customersOf(k, 2);
  const row = { externalId: `H-${k}`, customerId: a, name: 'Hana Hart', title: 'Buyer' };
  const first = await app.rest(erp, 'POST', '/v1/bulk/contacts', { system: 'erp', rows: [row] });
  const id = first.body.results[0].id;
  const patched = await app.rest(c.users.admin, 'PATCH', `/v1/contacts/${id}`, { title: 'Engineer' });
  t.equal(patched.status, 200, patched.raw);
  const res = await app.rest(erp, 'POST', '/v1/bulk/contacts', { system: 'erp', rows: [row] });
  t.match(res.body.results[0], { status: 'UPDATED', id });
  t.match((await app.rest(erp, 'GET', `/v1/contacts/${id}`)).body, { title: 'Buyer', version: 3 });
  t.match((await app.rest(erp, 'POST', '/v1/bulk/contacts', { system: 'erp', rows: [row] })).body.results[0], { status: 'UNCHANGED', id });
});

t.test('an atomic load with one bad row writes nothing; the same rows through a caller without integration:write get the single upsert\'s answers', async (t) => {
  const k = tag();
  const [a] = await customersOf(k, 2);
  const rows = [
    { externalId: `X-${k}-0`, customerId: a, name: 'Ida' },
    { externalId: `X-${k}-1`, customerId: a, name: '' },
    { externalId: `X-${k}-2`, customerId: a, name: 'Jon' },
  ];
  const atomic = await app.rest(erp, 'POST', '/v1/bulk/contacts', { system: 'erp', atomic: true, rows });
  t.equal(atomic.status, 422, atomic.raw);
  t.match(atomic.body, { code: 'BULK_ROWS_FAILED', summary: { failed: 1 } });
  t.same(atomic.body.results.map((r: { id: string | null }) => r.id), [null, null, null]);
  t.equal(await contactCount(a), 0, 'nothing written');

  // The admin may create contacts but holds integration:write too; a salesperson of the owning unit does not
  // write external ids: each row is refused as PUT /v1/contacts/external/… refuses it.
  const mine = await app.customer(c.users.sales, { name: `Own ${k}` });
  const single = await app.rest(c.users.sales, 'PUT', `/v1/contacts/external/erp/Y-${k}`, { customerId: mine.id, name: 'Kim' });
  const bulk = await app.rest(c.users.sales, 'POST', '/v1/bulk/contacts', { system: 'erp', rows: [{ externalId: `Y-${k}`, customerId: mine.id, name: 'Kim' }] });
  t.equal(bulk.status, 200, bulk.raw);
  if (single.status === 201) t.match(bulk.body.results[0], { status: 'CREATED' });
  else t.match(bulk.body.results[0], { status: 'FAILED', error: { code: single.body.code, status: single.status } });
  t.equal(await contactCount(mine.id), single.status === 201 ? 1 : 0);
});

t.test('a new contact on a merged customer is the single upsert\'s refusal', async (t) => {
  const k = tag();
  const [a, b] = await customersOf(k, 2);
  const merged = await app.rest(c.users.admin, 'POST', `/v1/customers/${a}/merge`, { duplicateIds: [b] });
  t.ok(merged.status < 300, merged.raw);
  const res = await app.rest(erp, 'POST', '/v1/bulk/contacts', { system: 'erp', rows: [{ externalId: `Z-${k}`, customerId: b, name: 'Lea' }] });
  t.equal(res.status, 200, res.raw);
  t.match(res.body.results[0], { status: 'FAILED', id: null });
  t.equal(await contactCount(b), 0);
});

t.test('a batch of new contacts, and the same batch again, costs a bounded number of statements, not a few per row', async (t) => {
  const k = tag();
  const [a, b] = await customersOf(k, 2);
  const rows = Array.from({ length: 300 }, (_, i) => ({ externalId: `N-${k}-${i}`, ...(i % 2 ? { customerId: a } : { customer: { system: 'erp', externalId: `CU-${k}-1` } }), name: `Person ${i}` }));
  const load = () => app.rest(erp, 'POST', '/v1/bulk/contacts', { system: 'erp', rows });
  const created = await app.countStatements(load);
  t.same(created.result.body.summary, { created: 300, updated: 0, unchanged: 0, failed: 0 }, created.result.raw);
  t.ok(created.statements < 40, `300 new rows in ${created.statements} statements`);
  t.equal(await contactCount(a), 150);
  t.equal(await contactCount(b), 150);
  const again = await app.countStatements(load);
  t.same(again.result.body.summary, { created: 0, updated: 0, unchanged: 300, failed: 0 });
  t.ok(again.statements < 20, `300 unchanged rows in ${again.statements} statements`);
  const changed = await app.countStatements(() => app.rest(erp, 'POST', '/v1/bulk/contacts', { system: 'erp', rows: rows.map((r, i) => (i % 10 ? r : { ...r, title: 'Changed' })) }));
  t.same(changed.result.body.summary, { created: 0, updated: 30, unchanged: 270, failed: 0 });
  t.ok(changed.statements < 40, `30 changed rows of 300 in ${changed.statements} statements`);
  t.comment(`statements: new ${created.statements}, unchanged ${again.statements}, 10% changed ${changed.statements}`);
});
