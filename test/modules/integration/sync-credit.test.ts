import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, tag } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';
import { countRows } from '../../helpers/records.js';
import { sql } from 'drizzle-orm';

// Credit from the ERP, the sync's reads, and Idempotency-Key on every kind of write (docs/integration.md).

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const erp = c.users.integration;

t.test('credit: written by the integration, refused to a salesperson, hidden from partner roles', async (t) => {
  const k = tag();
  const put = await app.rest(erp, 'PUT', `/v1/customers/external/erp/CR-${k}`, {
    kind: 'ORGANIZATION', name: `Credit ${k}`, creditStatus: 'blocked', creditLimit: '050000.5', creditCurrency: 'EUR', ownerUserId: c.users.sales.id,
  });
  t.equal(put.status, 201, put.raw);
  t.match(put.body, { creditStatus: 'BLOCKED', creditLimit: '50000.50', creditCurrency: 'EUR' });
  const same = await app.rest(erp, 'PUT', `/v1/customers/external/erp/CR-${k}`, { creditLimit: '50000.50' });
  t.equal(same.body.version, 1, 'the same sum in another form changes nothing');
  for (const body of [{ creditStatus: 'GOOD' }, { creditLimit: '1.00' }, { creditCurrency: 'USD' }]) {
    const res = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${put.body.id}`, body);
    t.equal(problemOf(res, 403, Object.keys(body)), null, JSON.stringify(body));
  }
  t.equal((await app.rest(c.users.sales, 'PATCH', `/v1/customers/${put.body.id}`, { creditStatus: 'BLOCKED' })).status, 200, 'repeating the stored value is no write');
  const bad = await app.rest(erp, 'PATCH', `/v1/customers/${put.body.id}`, { creditStatus: 'MAYBE' });
  t.equal(problemOf(bad, 400, ['creditStatus']), null);
  const partnerCustomer = await app.rest(erp, 'PUT', `/v1/customers/external/erp/CP-${k}`, {
    kind: 'ORGANIZATION', name: `Partner credit ${k}`, creditStatus: 'WATCH', creditLimit: '10', creditCurrency: 'EUR', ownerUserId: c.users.partnerASales.id,
  });
  const asPartner = await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${partnerCustomer.body.id}`);
  t.equal(asPartner.status, 200);
  for (const f of ['creditStatus', 'creditLimit', 'creditCurrency', 'externalIds']) t.notOk(f in asPartner.body, `${f} hidden`);
  const g = await app.gql(c.users.partnerASales, `query($id: ID!) { customer(id: $id) { creditStatus creditLimit creditCurrency } }`, { id: partnerCustomer.body.id });
  t.same(g.data.customer, { creditStatus: null, creditLimit: null, creditCurrency: null });
  const sneak = await app.rest(c.users.partnerASales, 'PATCH', `/v1/customers/${partnerCustomer.body.id}`, { creditLimit: '999.00' });
  t.equal(sneak.status, 403);
});

t.test('sync reads: updatedAfter and sort=updatedAt, status=ALL includes frozen and merged, both doors', async (t) => {
  const k = tag();
  const a = await app.customer(c.users.sales, { name: `Sync A ${k}` });
  const b = await app.customer(c.users.sales, { name: `Sync B ${k}` });
  const since = new Date(Date.now() - 1000).toISOString();
  await app.rest(c.users.branchManager, 'POST', `/v1/customers/${b.id}/freeze`, {});
  await app.rest(c.users.sales, 'PATCH', `/v1/customers/${a.id}`, { industry: 'Sync' });
  const active = await app.rest(c.users.sales, 'GET', `/v1/customers?sort=updatedAt&updatedAfter=${encodeURIComponent(since)}&ownerUserId=${c.users.sales.id}`);
  t.ok(active.body.data.some((x: { id: string }) => x.id === a.id));
  t.notOk(active.body.data.some((x: { id: string }) => x.id === b.id), 'frozen customers leave the default list');
  const all = await app.rest(c.users.sales, 'GET', `/v1/customers?status=ALL&sort=updatedAt&updatedAfter=${encodeURIComponent(since)}&ownerUserId=${c.users.sales.id}`);
  const ids = all.body.data.map((x: { id: string }) => x.id);
  t.ok(ids.includes(a.id) && ids.includes(b.id), 'status=ALL has both');
  t.ok(ids.indexOf(b.id) < ids.indexOf(a.id), 'oldest change first');
  const g = await app.gql(c.users.sales, `query($s: DateTime!) { customers(filter: { status: ALL, updatedAfter: $s, ownerUserId: "${c.users.sales.id}" }, sort: "updatedAt") { edges { node { id status } } } }`, { s: since });
  t.same(g.errors, undefined);
  t.ok(g.data.customers.edges.some((e: { node: { status: string } }) => e.node.status === 'FROZEN'));
  t.equal(problemOf(await app.rest(c.users.sales, 'GET', '/v1/customers?status=SOME'), 400, ['status']), null);
  t.equal(problemOf(await app.rest(c.users.sales, 'GET', '/v1/customers?updatedAfter=0000-01-01T00:00:00Z'), 400, ['updatedAfter']), null);
  t.equal(problemOf(await app.rest(c.users.sales, 'GET', '/v1/customers?externalId=nocolon'), 400, ['externalId']), null);

  // Contacts, opportunities and actions take the same parameters.
  const contacts = await app.rest(c.users.sales, 'GET', `/v1/contacts?sort=-updatedAt&updatedAfter=${encodeURIComponent(since)}&customerId=${a.id}`);
  t.equal(contacts.status, 200, contacts.raw);
  t.equal(problemOf(await app.rest(c.users.sales, 'GET', '/v1/contacts?sort=name'), 400, ['sort']), null);
  const opps = await app.rest(c.users.sales, 'GET', `/v1/opportunities?sort=updatedAt&updatedAfter=${encodeURIComponent(since)}`);
  t.equal(opps.status, 200, opps.raw);
  const act = await action(app, c.users.sales, { customerId: a.id });
  const acts = await app.rest(c.users.sales, 'GET', `/v1/customers/${a.id}/actions?sort=updatedAt&updatedAfter=${encodeURIComponent(since)}`);
  t.same(acts.body.data.map((x: { id: string }) => x.id), [act.id]);
  const none = await app.rest(c.users.sales, 'GET', `/v1/customers/${a.id}/actions?updatedAfter=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
  t.same(none.body.data, []);
});

t.test('Idempotency-Key on PUT, PATCH, DELETE and GraphQL mutations: a replay answers the first response and writes nothing', async (t) => {
  const k = tag();
  const key = `put-${k}`;
  const url = `/v1/customers/external/erp/I-${k}`;
  const first = await app.rest(erp, 'PUT', url, { kind: 'ORGANIZATION', name: `Idem ${k}` }, { 'idempotency-key': key });
  t.equal(first.status, 201);
  await app.rest(erp, 'PATCH', `/v1/customers/${first.body.id}`, { industry: 'Moved on' });
  const replay = await app.rest(erp, 'PUT', url, { kind: 'ORGANIZATION', name: `Idem ${k}` }, { 'idempotency-key': key });
  t.equal(replay.status, 201, 'the first answer, not a new one');
  t.equal(replay.headers['idempotent-replayed'], 'true');
  t.equal(replay.raw, first.raw);
  const reused = await app.rest(erp, 'PUT', url, { kind: 'ORGANIZATION', name: `Other ${k}` }, { 'idempotency-key': key });
  t.equal(problemOf(reused, 422), null);

  const pk = `patch-${k}`;
  const p1 = await app.rest(erp, 'PATCH', `/v1/customers/${first.body.id}`, { region: 'North' }, { 'idempotency-key': pk });
  const p2 = await app.rest(erp, 'PATCH', `/v1/customers/${first.body.id}`, { region: 'North' }, { 'idempotency-key': pk });
  t.equal(p2.raw, p1.raw);
  const contact = await app.rest(erp, 'POST', `/v1/customers/${first.body.id}/contacts`, { name: 'Del' });
  const dk = `del-${k}`;
  const admin = c.users.admin;
  const d1 = await app.rest(admin, 'DELETE', `/v1/contacts/${contact.body.id}`, undefined, { 'idempotency-key': dk });
  const d2 = await app.rest(admin, 'DELETE', `/v1/contacts/${contact.body.id}`, undefined, { 'idempotency-key': dk });
  t.same([d1.status, d2.status], [204, 204], 'the second DELETE replays the first instead of answering 404');

  const gk = `gql-${k}`;
  const m = `mutation { upsertCustomerByExternalId(system: "erp", externalId: "IG-${k}", input: { kind: ORGANIZATION, name: "Idem G ${k}" }) { status customer { id } } }`;
  const call = () => app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${erp.token}`, 'content-type': 'application/json', 'idempotency-key': gk }, payload: JSON.stringify({ query: m }) });
  const g1 = await call();
  const g2 = await call();
  t.equal(g2.body, g1.body, 'the mutation is answered from the stored response');
  t.match(JSON.parse(g2.body).data.upsertCustomerByExternalId, { status: 'CREATED' });

  // A failed write stores nothing: the key stays free for the retry.
  const fk = `fail-${k}`;
  const bad = await app.rest(erp, 'PATCH', `/v1/customers/${first.body.id}`, { region: 'x' }, { 'idempotency-key': fk, 'if-match': '"999"' });
  t.equal(bad.status, 412);
  t.equal(await countRows(app, 'idempotency_keys', sql`key = ${fk} AND state <> 'DONE'`), 0, 'no key is left in progress');
});
