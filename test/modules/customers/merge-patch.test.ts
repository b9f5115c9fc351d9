import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, contact, customRole, interaction, opportunity, tag, testPipeline } from '../../helpers/factories.js';
import { errorPaths, gqlPaths, problemOf } from '../../helpers/problems.js';
import { auditFor } from '../../helpers/records.js';

// PATCH is a JSON merge patch (RFC 7386, api.md §1 "Concurrency"): nested objects merge key by key,
// null removes a key, and the merged record is validated as a create would be.

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
// External ids are written by callers holding integration:write (api.md §1); the admin holds it.
const admin = c.users.admin;

const ADDRESS = { line1: 'Am Kai 4', line2: 'Hof 2', city: 'Kiel', postalCode: '24103', country: 'DE' };

async function customerWithEverything() {
  const k = tag();
  return app.customer(c.users.sales, {
    name: `Nordhafen ${k}`,
    address: ADDRESS,
    source: { channel: 'EVENT', campaign: 'Hannover Messe', detail: 'booth 4' },
  });
}

t.test('address: one member changes, the others stay; null removes one member', async (t) => {
  const cu = await customerWithEverything();
  const res = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cu.id}`, { address: { city: 'Lübeck' } });
  t.equal(res.status, 200, res.raw);
  t.same(res.body.address, { ...ADDRESS, city: 'Lübeck' });
  t.equal(res.headers.etag, '"2"');
  const removed = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cu.id}`, { address: { line2: null, postalCode: '23552' } });
  t.equal(removed.status, 200, removed.raw);
  const { line2: _gone, ...rest } = ADDRESS;
  t.same(removed.body.address, { ...rest, city: 'Lübeck', postalCode: '23552' });
  const read = await app.rest(c.users.sales, 'GET', `/v1/customers/${cu.id}`);
  t.same(read.body.address, removed.body.address, 'stored as answered');
});

t.test('address: a plain string is the whole new address; null clears it', async (t) => {
  const cu = await customerWithEverything();
  const res = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cu.id}`, { address: 'Holstenstr. 1' });
  t.equal(res.status, 200, res.raw);
  t.same(res.body.address, { line1: 'Holstenstr. 1' });
  const cleared = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cu.id}`, { address: null });
  t.equal(cleared.status, 200, cleared.raw);
  t.equal(cleared.body.address, null);
});

t.test('externalIds: one system id changes or goes, the others stay', async (t) => {
  const k = tag();
  const cu = await app.customer(admin, { name: `Ext ${k}`, externalIds: { erp: `E-${k}`, sap: `S-${k}` } });
  const removed = await app.rest(admin, 'PATCH', `/v1/customers/${cu.id}`, { externalIds: { sap: null } });
  t.equal(removed.status, 200, removed.raw);
  t.same(removed.body.externalIds, { erp: `E-${k}` }, 'sap removed, erp kept');
  const added = await app.rest(admin, 'PATCH', `/v1/customers/${cu.id}`, { externalIds: { crm: `C-${k}` } });
  t.equal(added.status, 200, added.raw);
  t.same(added.body.externalIds, { erp: `E-${k}`, crm: `C-${k}` }, 'crm added, erp kept');
  const bad = await app.rest(admin, 'PATCH', `/v1/customers/${cu.id}`, { externalIds: { erp: '' } });
  t.equal(problemOf(bad, 400, ['externalIds.erp']), null);
  const cleared = await app.rest(admin, 'PATCH', `/v1/customers/${cu.id}`, { externalIds: null });
  t.equal(cleared.status, 200, cleared.raw);
  t.same(cleared.body.externalIds, {});
});

t.test('source: merged key by key; a merged source without a channel is refused and writes nothing', async (t) => {
  const cu = await customerWithEverything();
  const res = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cu.id}`, { source: { campaign: 'Autumn fair', detail: null } });
  t.equal(res.status, 200, res.raw);
  t.same(res.body.source, { channel: 'EVENT', campaign: 'Autumn fair', referrerCustomerId: null, detail: null });

  const bare = await app.customer(c.users.sales, { name: `No source ${tag()}` });
  const refused = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${bare.id}`, { source: { campaign: 'x' } });
  t.equal(problemOf(refused, 400, ['source.channel']), null);
  const dropped = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cu.id}`, { source: { channel: null } });
  t.equal(problemOf(dropped, 400, ['source.channel']), null, 'the channel cannot be removed alone');
  const read = await app.rest(c.users.sales, 'GET', `/v1/customers/${bare.id}`);
  t.equal(read.body.version, bare.version, 'nothing written');
  t.equal(read.body.source, null);
});

t.test('a merge patch that changes nothing writes nothing', async (t) => {
  const cu = await customerWithEverything();
  const auditBefore = (await auditFor(app, cu.id)).length;
  const res = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cu.id}`, { address: { city: 'Kiel' }, source: { channel: 'EVENT' } });
  t.equal(res.status, 200, res.raw);
  t.equal(res.body.version, cu.version, 'same version');
  t.equal((await auditFor(app, cu.id)).length, auditBefore, 'no audit row');
});

t.test('application/merge-patch+json is accepted as JSON is', async (t) => {
  const cu = await customerWithEverything();
  const patch = (payload: string, type = 'application/merge-patch+json') =>
    app.inject({ method: 'PATCH', url: `/v1/customers/${cu.id}`, headers: { authorization: `Bearer ${c.users.sales.token}`, 'content-type': type }, payload });
  const res = await patch(JSON.stringify({ address: { city: 'Flensburg' } }));
  t.equal(res.statusCode, 200, res.body);
  t.same(JSON.parse(res.body).address, { ...ADDRESS, city: 'Flensburg' });
  const withCharset = await patch(JSON.stringify({ industry: 'Shipping' }), 'application/merge-patch+json; charset=utf-8');
  t.equal(withCharset.statusCode, 200, withCharset.body);
  const malformed = await patch('{"address":');
  t.equal(malformed.statusCode, 400);
  t.equal(JSON.parse(malformed.body).code, 'VALIDATION_FAILED');
  const poisoned = await patch('{"__proto__":{"x":1}}');
  t.equal(poisoned.statusCode, 400, 'prototype poisoning refused as in application/json');
  const opp = await opportunity(app, c.users.sales, cu.id);
  const onOpp = await app.inject({
    method: 'PATCH',
    url: `/v1/opportunities/${opp.id}`,
    headers: { authorization: `Bearer ${c.users.sales.token}`, 'content-type': 'application/merge-patch+json' },
    payload: JSON.stringify({ qualification: { needDefined: true } }),
  });
  t.equal(onOpp.statusCode, 200, onOpp.body);
});

t.test('opportunity qualification: facts merge one by one, null removes one', async (t) => {
  const cu = await customerWithEverything();
  const opp = await opportunity(app, c.users.sales, cu.id, { qualification: { needDefined: true, budgetKnown: true } });
  const res = await app.rest(c.users.sales, 'PATCH', `/v1/opportunities/${opp.id}`, { qualification: { budgetKnown: null, purchaseMotive: 'Replacement' } });
  t.equal(res.status, 200, res.raw);
  t.same(res.body.qualification, { needDefined: true, purchaseMotive: 'Replacement' });
});

t.test('GraphQL updateCustomer merges the same way', async (t) => {
  const k = tag();
  const cu = await app.customer(admin, { name: `Gql ${k}`, address: ADDRESS, externalIds: { erp: `E-${k}`, sap: `S-${k}` } });
  const g = await app.gql(
    admin,
    `mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { version address { line1 line2 city postalCode country } externalIds } }`,
    { id: cu.id, input: { address: { city: 'Lübeck', line2: null }, externalIds: { sap: null } } },
  );
  t.equal(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.updateCustomer.address, { line1: 'Am Kai 4', line2: null, city: 'Lübeck', postalCode: '24103', country: 'DE' });
  t.same(g.data.updateCustomer.externalIds, { erp: `E-${k}` });
  t.equal(g.data.updateCustomer.version, cu.version + 1);
});

t.test('GraphQL updateCustomer: a source patch without a channel keeps the stored one', async (t) => {
  const cu = await customerWithEverything();
  const g = await app.gql(
    c.users.sales,
    `mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { source { channel campaign detail } } }`,
    { id: cu.id, input: { source: { campaign: 'Online' } } },
  );
  t.equal(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.updateCustomer.source, { channel: 'EVENT', campaign: 'Online', detail: 'booth 4' });
  const bare = await app.customer(c.users.sales, { name: `No source ${tag()}` });
  const refused = await app.gql(
    c.users.sales,
    `mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }`,
    { id: bare.id, input: { source: { campaign: 'Online' } } },
  );
  t.same(gqlPaths(refused), ['source.channel']);
});

t.test('a transition answers with the record\'s new ETag and version', async (t) => {
  const cu = await app.customer(c.users.sales, { name: `Moves ${tag()}` });
  const moved = await app.rest(c.users.sales, 'POST', `/v1/customers/${cu.id}/lifecycle-transitions`, { to: 'PROSPECT' }, { 'if-match': `"${cu.version}"` });
  t.equal(moved.status, 201, moved.raw);
  const now = await app.rest(c.users.sales, 'GET', `/v1/customers/${cu.id}`);
  t.equal(moved.body.customerVersion, now.body.version);
  t.equal(moved.headers.etag, now.headers.etag);
  t.equal(moved.headers.etag, `"${cu.version + 1}"`);
  const next = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cu.id}`, { industry: 'Retail' }, { 'if-match': String(moved.headers.etag) });
  t.equal(next.status, 200, 'the answered ETag is good for the next write');

  const opp = await opportunity(app, c.users.sales, cu.id);
  const stage = await app.rest(c.users.sales, 'POST', `/v1/opportunities/${opp.id}/transitions`, { toStageKey: 'LOST', lostReason: 'No budget' }, { 'if-match': `"${opp.version}"` });
  t.equal(stage.status, 201, stage.raw);
  const o = await app.rest(c.users.sales, 'GET', `/v1/opportunities/${opp.id}`);
  t.equal(stage.body.opportunityVersion, o.body.version);
  t.equal(stage.headers.etag, o.headers.etag);
  t.equal(stage.headers.etag, `"${opp.version + 1}"`);
});

t.test('a bad phone is one error', async (t) => {
  for (const bad of ['abc', '12', '+49 (0) x']) {
    const res = await app.rest(c.users.sales, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name: `Phone ${tag()}`, phones: [bad] });
    t.equal(problemOf(res, 400, ['phones.0']), null, `${bad}: ${JSON.stringify(errorPaths(res.body?.errors))}`);
    t.equal(res.body.errors.length, 1);
  }
  const cu = await app.customer(c.users.sales, { name: `Phone ${tag()}` });
  const patch = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cu.id}`, { phones: ['+49 40 555 0199', 'no phone'] });
  t.equal(problemOf(patch, 400, ['phones.1']), null);
  const contact = await app.rest(c.users.sales, 'POST', `/v1/customers/${cu.id}/contacts`, { name: 'Eva', phones: ['x'] });
  t.equal(problemOf(contact, 400, ['phones.0']), null);
});

t.test('every PATCH route takes application/merge-patch+json: a member changes, null clears one', async (t) => {
  const cu = await customerWithEverything();
  const sales = c.users.sales;
  const person = await contact(app, sales, cu.id, { title: 'CFO' });
  const touch = await interaction(app, sales, cu.id, { subject: 'First call' });
  const todo = await action(app, sales, { customerId: cu.id }, { notes: 'bring samples' });
  const opp = await opportunity(app, sales, cu.id, { amount: '100.00', currency: 'EUR' });
  const unit = await app.unit('BRANCH', c.region);
  const user = await app.user(unit, ['sales']);
  const role = await customRole(app, 'OWN', ['customers:read']);
  const pipeline = await testPipeline(app);
  const cases: [string, string, Record<string, unknown>, (b: any) => boolean, typeof sales][] = [
    ['contact', `/v1/contacts/${person.id}`, { title: null }, (b) => b.title === null, sales],
    ['interaction', `/v1/interactions/${touch.id}`, { subject: null, outcome: 'Call back' }, (b) => b.subject === null && b.outcome === 'Call back', sales],
    ['action', `/v1/actions/${todo.id}`, { notes: null }, (b) => b.notes === null, sales],
    ['opportunity', `/v1/opportunities/${opp.id}`, { amount: null, currency: null }, (b) => b.amount === null, sales],
    ['org unit', `/v1/org-units/${unit.id}`, { name: `Renamed ${tag()}` }, (b) => b.name.startsWith('Renamed'), admin],
    ['user', `/v1/users/${user.id}`, { name: 'Renamed User' }, (b) => b.name === 'Renamed User', admin],
    ['role', `/v1/roles/${role.id}`, { permissions: ['customers:read', 'contacts:read'] }, (b) => b.permissions.length === 2, admin],
    ['pipeline', `/v1/pipelines/${pipeline.id}`, { productLine: null }, (b) => b.productLine === null, admin],
  ];
  for (const [what, url, body, holds, who] of cases) {
    const res = await app.inject({ method: 'PATCH', url, headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify(body) });
    t.equal(res.statusCode, 200, `${what}: ${res.body}`);
    t.ok(holds(JSON.parse(res.body)), `${what}: ${res.body}`);
  }
});
