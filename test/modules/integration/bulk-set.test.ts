import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { auditFor, eventsFor } from '../../helpers/records.js';

// The set-based pass of bulk loads of customers (customers/bulk-write.ts): the cases a batch written at once
// has and a row-by-row load did not — rows of one batch that name the same new id or the same identity, a batch
// mixing every outcome, and records out of the caller's sight named by external id.

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const erp = c.users.integration;

t.test('two rows of one batch with the same new external id make one customer: created, then its merge patch', async (t) => {
  const k = tag();
  const res = await app.rest(erp, 'POST', '/v1/bulk/customers', {
    system: 'erp',
    rows: [
      { externalId: `S-${k}`, kind: 'ORGANIZATION', name: `Same id ${k}` },
      { externalId: `S-${k}`, kind: 'ORGANIZATION', name: `Same id ${k}`, industry: 'Glass' },
      { externalId: `S-${k}`, kind: 'ORGANIZATION', name: `Same id ${k}`, industry: 'Glass' },
    ],
  });
  t.equal(res.status, 200, res.raw);
  t.same(res.body.summary, { created: 1, updated: 1, unchanged: 1, failed: 0 });
  const [a, b, d] = res.body.results;
  t.equal(a.status, 'CREATED');
  t.match(b, { status: 'UPDATED', id: a.id });
  t.match(d, { status: 'UNCHANGED', id: a.id });
  const read = await app.rest(erp, 'GET', `/v1/customers/external/erp/S-${k}`);
  t.match(read.body, { id: a.id, industry: 'Glass', version: 2 });
  t.same((await auditFor(app, a.id)).map((r) => r.action), ['created', 'updated']);
});

t.test('a row duplicating an earlier row of the same batch meets the duplicate rule; with onDuplicate=link it takes its id', async (t) => {
  const k = tag();
  const rows = [
    { externalId: `D1-${k}`, kind: 'ORGANIZATION', name: `Twin ${k} GmbH`, emails: [`info@twin-${k}.example`] },
    { externalId: `D2-${k}`, kind: 'ORGANIZATION', name: `Other ${k} AG`, emails: [`INFO@twin-${k}.example`] },
  ];
  const fail = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows });
  t.equal(fail.status, 200, fail.raw);
  t.equal(fail.body.results[0].status, 'CREATED');
  t.match(fail.body.results[1], { status: 'FAILED', id: null, error: { code: 'DUPLICATE_CUSTOMER', status: 409 } });
  const twin = fail.body.results[0].id;

  const k2 = tag();
  const linked = await app.rest(erp, 'POST', '/v1/bulk/customers', {
    system: 'erp',
    onDuplicate: 'link',
    rows: [
      { externalId: `L1-${k2}`, kind: 'ORGANIZATION', name: `Link twin ${k2}` },
      { externalId: `L2-${k2}`, kind: 'ORGANIZATION', name: `Link twin ${k2}` },
    ],
  });
  t.equal(linked.body.results[0].status, 'CREATED');
  t.match(linked.body.results[1], { status: 'FAILED', error: { code: 'DUPLICATE_CUSTOMER' } }, 'the first row holds an erp id already: not linked');
  t.equal((await app.rest(erp, 'GET', `/v1/customers/${twin}`)).body.name, `Twin ${k} GmbH`);
});

t.test('a batch mixing new, changed, unchanged and bad rows: each answered, one audit row and one event per changed row', async (t) => {
  const k = tag();
  const base = Array.from({ length: 6 }, (_, i) => ({ externalId: `M-${k}-${i}`, kind: 'ORGANIZATION', name: `Mixed ${k} ${i}`, region: 'North', creditStatus: 'GOOD' }));
  const first = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: base.slice(0, 4) });
  t.same(first.body.summary, { created: 4, updated: 0, unchanged: 0, failed: 0 });
  const ids = first.body.results.map((r: { id: string }) => r.id);

  const rows: unknown[] = [
    base[0], // unchanged
    { ...base[1], region: 'South' }, // changed
    { ...base[2], creditStatus: 'BLOCKED' }, // changed credit: rescored
    { ...base[3], lifecycleStage: 'CUSTOMER' }, // bad: the stage changes only through transitions
    base[4], // new
    { externalId: `M-${k}-bad`, kind: 'ORGANIZATION' }, // bad: no name
    base[5], // new
    'not an object',
  ];
  const res = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows });
  t.equal(res.status, 200, res.raw);
  t.same(res.body.summary, { created: 2, updated: 2, unchanged: 1, failed: 3 });
  t.same(
    res.body.results.map((r: { status: string }) => r.status),
    ['UNCHANGED', 'UPDATED', 'UPDATED', 'FAILED', 'CREATED', 'FAILED', 'CREATED', 'FAILED'],
  );
  t.match(res.body.results[3].error, { code: 'VALIDATION_FAILED', errors: [{ path: 'lifecycleStage' }] });
  t.match(res.body.results[5].error, { code: 'VALIDATION_FAILED', errors: [{ path: 'name' }] });
  t.match(res.body.results[7].error, { errors: [{ path: 'row' }] });
  t.same(res.body.results.slice(0, 3).map((r: { id: string }) => r.id), ids.slice(0, 3));

  t.same((await auditFor(app, ids[0])).map((r) => r.action), ['created'], 'the unchanged row wrote nothing');
  t.same((await auditFor(app, ids[1])).map((r) => r.action), ['created', 'updated']);
  t.same((await auditFor(app, ids[3])).map((r) => r.action), ['created'], 'the bad row wrote nothing');
  const updated = await eventsFor(app, ids[1], 'customer.updated');
  t.equal(updated.length, 1);
  t.match(updated[0]?.payload, { before: { region: 'North', version: 1 }, after: { region: 'South', version: 2 } });
  t.equal((await app.rest(erp, 'GET', `/v1/customers/${ids[2]}`)).body.creditStatus, 'BLOCKED');
  for (const r of [res.body.results[4], res.body.results[6]]) {
    const created = await eventsFor(app, r.id, 'customer.created');
    t.equal(created.length, 1);
    t.match(created[0]?.payload, { before: null, after: { id: r.id, externalIds: { erp: r.externalId }, version: 1 } });
  }
});

t.test('records out of the caller\'s sight named by external id: a per-row refusal that reveals nothing', async (t) => {
  const k = tag();
  const hidden = await app.customer(c.users.partnerBSales, { name: `Hidden B ${k}`, externalIds: { erp: `HB-${k}` } });
  const customers = await app.rest(c.users.partnerASales, 'POST', '/v1/bulk/customers', {
    system: 'erp',
    rows: [{ externalId: `HB-${k}`, kind: 'ORGANIZATION', name: 'Taken over' }],
  });
  t.equal(customers.status, 200, customers.raw);
  t.match(customers.body.results[0], { status: 'FAILED', id: null, error: { code: 'EXTERNAL_ID_TAKEN' } });

  const contacts = await app.rest(c.users.partnerASales, 'POST', '/v1/bulk/contacts', {
    system: 'erp',
    rows: [
      { externalId: `CA-${k}`, customer: { system: 'erp', externalId: `nobody-${k}` }, name: 'Ann' },
      { externalId: `CB-${k}`, customer: { system: 'erp', externalId: `HB-${k}` }, name: 'Bob' },
      { externalId: `CC-${k}`, customerId: hidden.id, name: 'Cy' },
    ],
  });
  t.equal(contacts.status, 200, contacts.raw);
  t.same(contacts.body.results.map((r: { status: string }) => r.status), ['FAILED', 'FAILED', 'FAILED'], contacts.raw);
  // The same answer as for an id nobody holds.
  t.same(contacts.body.results[1].error, contacts.body.results[0].error);
  t.match(contacts.body.results[1].error, { code: 'VALIDATION_FAILED', detail: 'customer: no such customer', errors: [{ path: 'customer', message: 'no such customer' }] });
  t.match(contacts.body.results[2].error, { code: 'VALIDATION_FAILED', errors: [{ path: 'customerId', message: 'no such customer' }] });
  for (const raw of [customers.raw, contacts.raw]) {
    t.notOk(raw.includes(hidden.id), 'the hidden record is never named');
    t.notOk(raw.includes('Hidden B'));
  }
  t.same((await auditFor(app, hidden.id)).map((r) => r.action), ['created'], 'nothing written to the hidden record');
});
