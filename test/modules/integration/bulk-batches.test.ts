import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { auditFor, count, eventsFor, ownershipOf } from '../../helpers/records.js';
import { lifecycleOf } from '../orders/support.js';

// Bulk loads batch by batch (lib/bulk.ts): the set-based pass answering unchanged rows, allocation of new leads,
// bulk orders, NDJSON streamed in batches, concurrency.

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const erp = c.users.integration;
const ndjson = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
const postNdjson = (url: string, body: string, who = erp) =>
  app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/x-ndjson' }, payload: body });

t.test('NDJSON over several batches: created, then unchanged by the set-based pass (no write, no event, same version)', async (t) => {
  const k = tag();
  const rows = Array.from({ length: 600 }, (_, i) => ({ externalId: `S-${k}-${i}`, kind: 'ORGANIZATION', name: `Set ${k} ${i}`, creditStatus: 'GOOD', address: { city: 'Berlin' } }));
  const first = await postNdjson('/v1/bulk/customers?system=erp', ndjson(rows));
  t.equal(first.statusCode, 200, first.body);
  const a = first.json();
  t.same(a.summary, { created: 600, updated: 0, unchanged: 0, failed: 0 });
  t.same(a.results.map((r: any) => r.index), rows.map((_, i) => i), 'one result per row, in order');
  const id = a.results[555].id;
  const events = (await eventsFor(app, id)).length;
  const audits = (await auditFor(app, id)).length;

  const again = await postNdjson('/v1/bulk/customers?system=erp', ndjson(rows));
  t.same(again.json().summary, { created: 0, updated: 0, unchanged: 600, failed: 0 });
  t.equal(again.json().results[555].id, id);
  t.equal((await eventsFor(app, id)).length, events, 'no event');
  t.equal((await auditFor(app, id)).length, audits, 'no audit row');
  t.equal((await app.rest(erp, 'GET', `/v1/customers/${id}`)).body.version, 1, 'same version');

  // A nested object repeated in part is a merge patch that changes nothing; one changed field is an update.
  const mixed = rows.slice(0, 20).map((r, i) => (i === 5 ? { ...r, address: { city: 'Potsdam' } } : { externalId: r.externalId, address: { city: 'Berlin' } }));
  const third = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: mixed });
  t.same(third.body.summary, { created: 0, updated: 1, unchanged: 19, failed: 0 });
  t.equal(third.body.results[5].status, 'UPDATED');
});

t.test('the set-based pass never answers for a row the upsert would refuse or change', async (t) => {
  const k = tag();
  const rows = [{ externalId: `R-${k}`, kind: 'ORGANIZATION', name: `Rule ${k}`, creditStatus: 'GOOD' }];
  t.equal((await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows })).body.summary.created, 1);
  // The executive reads every customer but may not update: a row repeating the record is still refused.
  const exec = await app.rest(c.users.executive, 'POST', '/v1/bulk/customers', { system: 'erp', rows });
  t.match(exec.body.results[0], { status: 'FAILED', error: { code: 'FORBIDDEN' } });
  // A partner sees neither the record nor its id: refused as taken, naming nothing.
  const partner = await app.rest(c.users.partnerAManager, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [{ externalId: `R-${k}`, name: `Rule ${k}` }] });
  t.equal(partner.status, 200, partner.raw);
  t.match(partner.body.results[0], { status: 'FAILED', id: null, error: { code: 'EXTERNAL_ID_TAKEN' } });
  t.notMatch(JSON.stringify(partner.body), /[0-9a-f]{8}-[0-9a-f]{4}-/, 'no record id leaks');
  // Within one load, a row repeating an id after a change is measured against the change.
  const twice = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [{ externalId: `R-${k}`, industry: 'Steel' }, { externalId: `R-${k}`, industry: null }, { externalId: `R-${k}`, industry: null }] });
  t.same(twice.body.results.map((r: any) => r.status), ['UPDATED', 'UPDATED', 'UNCHANGED']);
  // A salesperson's credit change is refused (field ownership), also in bulk; repeating it is no write.
  const link = await app.rest(erp, 'PUT', `/v1/customers/external/erp/O-${k}`, { kind: 'ORGANIZATION', name: `Own ${k}`, creditStatus: 'GOOD', ownerUserId: c.users.sales.id }, {});
  t.equal(link.status, 201, link.raw);
  const sales = await app.rest(c.users.sales, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [{ externalId: `O-${k}`, creditStatus: 'BLOCKED' }, { externalId: `O-${k}`, creditStatus: 'GOOD' }] });
  t.match(sales.body.results, [{ status: 'FAILED', error: { code: 'FORBIDDEN', errors: [{ path: 'creditStatus' }] } }, { status: 'UNCHANGED' }]);
});

t.test('allocation: leads created by bulk and by PUT …/external without an owner are allocated round-robin like single creates', async (t) => {
  const region = `Fair-${tag()}`;
  const rule = await app.rest(c.users.admin, 'POST', '/v1/allocation-rules', { name: `fair ${region}`, order: 10, match: { region, source: 'EVENT' }, target: { unitId: c.branch.id }, strategy: 'ROUND_ROBIN' });
  t.equal(rule.status, 201, rule.raw);
  const k = tag();
  const lead = (i: number, extra: Record<string, unknown> = {}) => ({ externalId: `L-${k}-${i}`, kind: 'ORGANIZATION', name: `Lead ${k} ${i}`, region, source: { channel: 'EVENT', campaign: 'Hannover fair' }, ...extra });
  const res = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [...Array.from({ length: 6 }, (_, i) => lead(i)), lead(6, { ownerUnitId: c.branch.id })] });
  t.same(res.body.summary, { created: 7, updated: 0, unchanged: 0, failed: 0 }, res.raw);
  const owners = await Promise.all(res.body.results.map(async (r: any) => (await app.rest(c.users.admin, 'GET', `/v1/customers/${r.id}`)).body.ownerUserId));
  const allocated = owners.slice(0, 6);
  t.equal(allocated.filter((o) => o === c.users.sales.id).length, 3, 'three each');
  t.equal(allocated.filter((o) => o === c.users.sales2.id).length, 3, 'three each');
  t.equal(owners[6], null, 'an explicit owner (the unit pool) is not allocated');
  const first = res.body.results[0].id;
  t.match(await ownershipOf(app, first), [{ cause: 'ALLOCATION' }]);
  t.match((await eventsFor(app, first, 'customer.owner_changed'))[0]?.payload.after, { cause: 'ALLOCATION', ruleId: rule.body.id });
  const receiver = owners[0] === c.users.sales.id ? c.users.sales : c.users.sales2;
  const agenda = await app.rest(receiver, 'GET', '/v1/agenda?limit=200');
  t.ok(agenda.body.data.some((a: any) => a.customerId === first && a.title.startsWith('New lead allocated')), 'on the receiver’s agenda');

  const put = await app.rest(erp, 'PUT', `/v1/customers/external/erp/L-${k}-put`, { kind: 'ORGANIZATION', name: `Lead ${k} put`, region, source: { channel: 'EVENT' } }, {});
  t.equal(put.status, 201, put.raw);
  t.equal(put.body.ownerUnitId, c.branch.id);
  t.ok([c.users.sales.id, c.users.sales2.id].includes(put.body.ownerUserId), 'the upsert allocates too');
  t.match(await ownershipOf(app, put.body.id), [{ cause: 'ALLOCATION' }]);
  // Loaded again unchanged: no second allocation.
  const again = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: Array.from({ length: 6 }, (_, i) => lead(i)) });
  t.equal(again.body.summary.unchanged, 6);
  t.equal((await ownershipOf(app, first)).length, 1);
  // The rows the set-based pass created are marked with the version their create left, allocation included, so
  // the unchanged load above was answered on the marks.
  const marks = await queryRows<{ row_version: number | null; version: number }>(
    app.db,
    sql`SELECT e.row_version, c.version FROM external_ids e JOIN customers c ON c.id = e.record_id
        WHERE e.resource_type = 'customer' AND e.system = 'erp' AND e.external_id = ANY(${sql.param(Array.from({ length: 6 }, (_, i) => `L-${k}-${i}`))}::text[])`,
  );
  t.equal(marks.length, 6);
  t.ok(marks.every((m) => m.row_version === m.version && m.version > 1), JSON.stringify(marks));
});

t.test('bulk orders: created with the customer by external id, lifecycle CUSTOMER then USER, unchanged, per-row faults, atomic', async (t) => {
  const k = tag();
  const cust = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [0, 1].map((i) => ({ externalId: `OC-${k}-${i}`, kind: 'ORGANIZATION', name: `Ord ${k} ${i}` })) });
  const [c0, c1] = cust.body.results.map((r: any) => r.id);
  const line = [{ product: 'Boiler', quantity: '2', unitPrice: '100.50' }];
  const rows = [
    { externalId: `SO-${k}-0`, customer: { system: 'erp', externalId: `OC-${k}-0` }, currency: 'EUR', lines: line },
    { externalId: `SO-${k}-1`, customerId: c1, currency: 'EUR', lines: line, status: 'PAID' },
    { externalId: `SO-${k}-bad`, customer: { system: 'erp', externalId: `OC-${k}-nobody` }, currency: 'EUR', lines: line },
    { externalId: `SO-${k}-euro`, customerId: c1, currency: 'euro', lines: line },
  ];
  const first = await postNdjson('/v1/bulk/orders?system=erp', ndjson(rows));
  t.equal(first.statusCode, 200, first.body);
  const a = first.json();
  t.same(a.summary, { created: 2, updated: 0, unchanged: 0, failed: 2 });
  t.match(a.results[2], { status: 'FAILED', error: { status: 400, errors: [{ path: 'customer' }] } });
  t.match(a.results[3], { status: 'FAILED', error: { code: 'VALIDATION_FAILED' } });
  const o0 = await app.rest(erp, 'GET', `/v1/orders/external/erp/SO-${k}-0`);
  t.match(o0.body, { customerId: c0, amount: '201.00', status: 'ORDERED', version: 1 });
  t.same((await lifecycleOf(app, c0)).map((x) => x.slice(1)), [['CUSTOMER', 'ORDER']]);

  const again = await app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows: rows.slice(0, 2) });
  t.same(again.body.summary, { created: 0, updated: 0, unchanged: 2, failed: 0 }, again.raw);
  const confirmed = await app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows: rows.slice(0, 2).map((r) => ({ externalId: r.externalId, status: 'CONFIRMED' })) });
  t.same(confirmed.body.summary, { created: 0, updated: 2, unchanged: 0, failed: 0 }, confirmed.raw);
  t.equal((await app.rest(erp, 'GET', `/v1/customers/${c0}`)).body.lifecycleStage, 'USER');
  t.equal((await eventsFor(app, o0.body.id, 'order.status_changed')).length, 1);
  const back = await app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows: [{ externalId: `SO-${k}-0`, status: 'PAID' }] });
  t.match(back.body.results[0], { status: 'FAILED', error: { code: 'ORDER_STATUS_BACKWARD' } });

  const atomic = await app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', atomic: true, rows: [{ externalId: `SO-${k}-new`, customerId: c1, currency: 'EUR', lines: line }, rows[2]] });
  t.equal(atomic.status, 422, atomic.raw);
  t.equal(atomic.body.code, 'BULK_ROWS_FAILED');
  t.equal((await app.rest(erp, 'GET', `/v1/orders/external/erp/SO-${k}-new`)).status, 404, 'nothing written');
  // Another partner's customer by id in a contact row: the row fails as an unknown customer, naming nothing.
  const partnerCust = await app.customer(c.users.partnerBSales, { name: `PB ${k}` });
  const hidden = await app.rest(c.users.partnerAManager, 'POST', '/v1/bulk/contacts', { system: 'erp', rows: [{ externalId: `CP-${k}`, customerId: partnerCust.id, name: 'Eve' }] });
  t.equal(hidden.status, 200, hidden.raw);
  t.match(hidden.body.results[0], { status: 'FAILED', id: null, error: { status: 400, errors: [{ path: 'customerId' }] } });
  t.notMatch(JSON.stringify(hidden.body), `PB ${k}`);
  // A salesperson cannot write orders.
  const sales = await app.rest(c.users.sales, 'POST', '/v1/bulk/orders', { system: 'erp', rows: [{ externalId: `SO-${k}-s`, customerId: c1, currency: 'EUR', lines: line }] });
  t.match(sales.body.results?.[0] ?? sales.body, { status: sales.status === 200 ? 'FAILED' : 403 });
});

t.test('concurrency: two bulk loads of the same new ids at once make one record each', async (t) => {
  const k = tag();
  const rows = Array.from({ length: 60 }, (_, i) => ({ externalId: `C-${k}-${i}`, kind: 'PERSON', name: `Conc ${k} ${i}` }));
  const [a, b] = await Promise.all([0, 1].map(() => app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows })));
  t.equal(a?.status, 200, String(a?.raw));
  t.equal(b?.status, 200, String(b?.raw));
  t.equal(a!.body.summary.failed + b!.body.summary.failed, 0);
  t.equal(a!.body.summary.created + b!.body.summary.created, 60, 'each id created once');
  const n = await count(app, sql`SELECT count(*)::int AS n FROM external_ids WHERE resource_type = 'customer' AND system = 'erp' AND external_id LIKE ${`C-${k}-%`}`);
  t.equal(n, 60);
  const made = await count(app, sql`SELECT count(*)::int AS n FROM customers WHERE name LIKE ${`Conc ${k} %`}`);
  t.equal(made, 60, 'one customer per id');
});

t.test('an NDJSON body over 10 000 rows is refused before any row is written, atomic or not', async (t) => {
  const k = tag();
  const body = `${JSON.stringify({ externalId: `X-${k}`, kind: 'PERSON', name: `Over ${k}` })}\n${'{}\n'.repeat(10_000)}`;
  for (const atomic of [false, true]) {
    const res = await postNdjson(`/v1/bulk/customers?system=erp&atomic=${atomic}`, body);
    t.equal(res.statusCode, 400, res.body.slice(0, 300));
    t.match(res.json(), { code: 'VALIDATION_FAILED', errors: [{ path: 'rows' }] });
  }
  t.equal((await app.rest(erp, 'GET', `/v1/customers/external/erp/X-${k}`)).status, 404, 'the first row was not written');
});
