import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';
import { eventsFor } from '../../helpers/records.js';

// Bulk loads (api.md §2 Integration): JSON or NDJSON rows, per-row results, atomic, onDuplicate.

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const erp = c.users.integration;

const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');

t.test('JSON bulk of customers: created, then unchanged (nothing written), then updated; a bad row fails alone', async (t) => {
  const k = tag();
  const rows = Array.from({ length: 30 }, (_, i) => ({ externalId: `B-${k}-${i}`, kind: 'ORGANIZATION', name: `Bulk ${k} ${i}`, creditStatus: 'GOOD' }));
  const first = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows });
  t.equal(first.status, 200, first.raw);
  t.same(first.body.summary, { created: 30, updated: 0, unchanged: 0, failed: 0 });
  t.match(first.body.results[3], { index: 3, externalId: `B-${k}-3`, status: 'CREATED' });
  const id3 = first.body.results[3].id;
  const events = (await eventsFor(app, id3)).length;

  const again = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows });
  t.same(again.body.summary, { created: 0, updated: 0, unchanged: 30, failed: 0 });
  t.equal((await eventsFor(app, id3)).length, events, 'unchanged rows write no event');

  const changed = rows.map((r, i) => (i % 10 === 0 ? { ...r, industry: 'Steel' } : r));
  changed.push({ externalId: `B-${k}-bad`, kind: 'ORGANIZATION' } as never);
  const third = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: changed });
  t.same(third.body.summary, { created: 0, updated: 3, unchanged: 27, failed: 1 });
  const bad = third.body.results[30];
  t.match(bad, { index: 30, externalId: `B-${k}-bad`, id: null, status: 'FAILED', error: { code: 'VALIDATION_FAILED', status: 400, errors: [{ path: 'name' }] } });
  t.equal((await app.rest(erp, 'GET', `/v1/customers/external/erp/B-${k}-0`)).body.industry, 'Steel');
});

t.test('NDJSON bulk with options in the query; an unparsable line fails its row only', async (t) => {
  const k = tag();
  const body = `${ndjson([{ externalId: `N-${k}-1`, kind: 'PERSON', name: `Nd ${k} 1` }])}\n{not json\n${ndjson([{ externalId: `N-${k}-2`, kind: 'PERSON', name: `Nd ${k} 2` }])}\n`;
  const res = await app.inject({ method: 'POST', url: '/v1/bulk/customers?system=erp', headers: { authorization: `Bearer ${erp.token}`, 'content-type': 'application/x-ndjson' }, payload: body });
  t.equal(res.statusCode, 200, res.body);
  const answer = JSON.parse(res.body);
  t.same(answer.summary, { created: 2, updated: 0, unchanged: 0, failed: 1 });
  t.match(answer.results[1], { index: 1, status: 'FAILED', error: { code: 'VALIDATION_FAILED', errors: [{ path: 'row' }] } });
  const noSystem = await app.inject({ method: 'POST', url: '/v1/bulk/customers', headers: { authorization: `Bearer ${erp.token}`, 'content-type': 'application/x-ndjson' }, payload: body });
  t.equal(noSystem.statusCode, 400);
  t.match(JSON.parse(noSystem.body), { errors: [{ path: 'system' }] });
});

t.test('atomic: one bad row writes nothing and answers 422 with every row', async (t) => {
  const k = tag();
  const rows = [
    { externalId: `A-${k}-1`, kind: 'ORGANIZATION', name: `Atomic ${k} 1` },
    { externalId: `A-${k}-2`, kind: 'ORGANIZATION', name: `Atomic ${k} 2`, creditLimit: '10' },
  ];
  const res = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', atomic: true, rows });
  t.equal(problemOf(res, 422), null);
  t.equal(res.body.code, 'BULK_ROWS_FAILED');
  t.same(res.body.summary, { created: 0, updated: 0, unchanged: 0, failed: 1 });
  t.match(res.body.results[1], { status: 'FAILED', error: { errors: [{ path: 'creditCurrency' }] } });
  t.equal((await app.rest(erp, 'GET', `/v1/customers/external/erp/A-${k}-1`)).status, 404, 'the good row was rolled back');
});

t.test('onDuplicate link attaches the id to the existing CRM customer; contacts name their customer by external id', async (t) => {
  const k = tag();
  const crm = await app.customer(c.users.sales, { name: `Known ${k} Ltd` });
  const rows = [{ externalId: `K-${k}`, kind: 'ORGANIZATION', name: `Known ${k} Ltd` }];
  const fail = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows });
  t.match(fail.body.results[0], { status: 'FAILED', error: { code: 'DUPLICATE_CUSTOMER' } });
  const link = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', onDuplicate: 'link', rows });
  t.match(link.body.results[0], { status: 'UPDATED', id: crm.id });

  const contacts = await app.rest(erp, 'POST', '/v1/bulk/contacts', {
    system: 'erp',
    rows: [
      { externalId: `KP-${k}`, customer: { system: 'erp', externalId: `K-${k}` }, name: 'Pat' },
      { externalId: `KQ-${k}`, customerId: crm.id, name: 'Quinn' },
      { externalId: `KR-${k}`, customer: { system: 'erp', externalId: `none-${k}` }, name: 'Nobody' },
    ],
  });
  t.equal(contacts.status, 200, contacts.raw);
  t.same(contacts.body.summary, { created: 2, updated: 0, unchanged: 0, failed: 1 });
  t.match(contacts.body.results[2].error, { errors: [{ path: 'customer' }] });
  const listed = await app.rest(c.users.sales, 'GET', `/v1/customers/${crm.id}/contacts`);
  t.equal(listed.body.data.length, 2);
});

t.test('bulk input rules: unknown fields, too many rows, another partner\'s customers', async (t) => {
  const unknown = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [], extra: 1 });
  t.equal(problemOf(unknown, 400, ['extra']), null);
  const badSystem = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'ERP!', rows: [] });
  t.equal(problemOf(badSystem, 400, ['system']), null);
  const tooMany = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: Array.from({ length: 10_001 }, () => ({})) });
  t.equal(tooMany.status, 400);
  // A partner's user: the rows are its own upserts, within its visibility and without ERP-owned fields.
  const k = tag();
  await app.customer(c.users.partnerBSales, { name: `Hidden ${k}`, externalIds: { erp: `H-${k}` } });
  const partner = await app.rest(c.users.partnerASales, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [{ externalId: `H-${k}`, name: 'Mine' }] });
  t.equal(partner.status, 200, partner.raw);
  t.match(partner.body.results[0], { status: 'FAILED', id: null, error: { code: 'EXTERNAL_ID_TAKEN' } });
  t.notOk(partner.raw.includes('Hidden'));
});
