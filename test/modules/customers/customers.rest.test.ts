import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { digits, tag } from '../../helpers/factories.js';
import { errorPaths, isProblem } from '../../helpers/problems.js';
import { auditFor, eventsFor, findRow } from '../../helpers/records.js';
import { auditMentioning, customersNamed } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

// The names api.md §2a fixes for a customer.
const FIXED_FIELDS = [
  'id', 'kind', 'name', 'registrationId', 'phones', 'emails', 'website', 'industry', 'region', 'address', 'roles',
  'lifecycleStage', 'status', 'source', 'ownerUserId', 'ownerUnitId', 'externalIds', 'version', 'createdAt', 'updatedAt',
];

t.test('POST /v1/customers creates with every field; GET reads it back with ETag', async (t) => {
  const c = await company(app);
  const k = tag();
  const referrer = await app.customer(c.users.sales, { name: `Referrer ${k}` });
  const body = {
    kind: 'ORGANIZATION',
    name: `Acme ${k} GmbH`,
    registrationId: `HRB ${digits(6)}`,
    phones: [`+49 30 ${digits()}`],
    emails: [`Info-${k}@Acme.example`],
    website: 'https://acme.example',
    industry: 'Machinery',
    region: 'Berlin',
    address: { line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
    roles: ['BUYER', 'SUPPLIER'],
    lifecycleStage: 'PROSPECT',
    source: { channel: 'REFERRAL', campaign: 'spring', referrerCustomerId: referrer.id, detail: 'met at the fair' },
    externalIds: { erp: `E-${k}` },
    creditStatus: 'GOOD',
  };
  // Every field at once: the ERP-owned ones (externalIds, creditStatus) only an integration caller
  // writes, so the ERP creates it for the salesperson; the salesperson alone is refused.
  const bySales = await app.rest(c.users.sales, 'POST', '/v1/customers', { ...body, name: `Other ${k}` });
  t.equal(bySales.status, 403, bySales.raw);
  const res = await app.rest(c.users.integration, 'POST', '/v1/customers', { ...body, ownerUserId: c.users.sales.id });
  t.equal(res.status, 201, res.raw);
  const id = res.body.id;
  t.match(id, /^[0-9a-f-]{36}$/);
  t.equal(res.headers.location, `/v1/customers/${id}`);
  t.equal(res.headers.etag, '"1"');
  for (const f of FIXED_FIELDS) t.ok(f in res.body, `field ${f} present`);
  t.match(res.body, {
    kind: 'ORGANIZATION',
    name: body.name,
    registrationId: body.registrationId,
    phones: body.phones,
    emails: body.emails,
    website: body.website,
    industry: 'Machinery',
    region: 'Berlin',
    address: body.address,
    lifecycleStage: 'PROSPECT',
    status: 'ACTIVE',
    source: { channel: 'REFERRAL', campaign: 'spring', referrerCustomerId: referrer.id, detail: 'met at the fair' },
    externalIds: { erp: `E-${k}` },
    creditStatus: 'GOOD',
    ownerUserId: c.users.sales.id,
    ownerUnitId: c.branch.id,
    version: 1,
  });
  t.same([...res.body.roles].sort(), ['BUYER', 'SUPPLIER']);
  t.match(res.body.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

  const got = await app.rest(c.users.sales, 'GET', `/v1/customers/${id}`);
  t.equal(got.status, 200);
  t.equal(got.headers.etag, '"1"');
  t.same(got.body, res.body, 'GET answers what POST answered');
});

t.test('create needs only name and kind; the owner defaults to the caller and the stage to SUSPECT', async (t) => {
  const c = await company(app);
  const name = `Minimal ${tag()}`;
  const res = await app.rest(c.users.sales, 'POST', '/v1/customers', { name, kind: 'PERSON' });
  t.equal(res.status, 201, res.raw);
  t.match(res.body, { name, kind: 'PERSON', lifecycleStage: 'SUSPECT', status: 'ACTIVE', ownerUserId: c.users.sales.id, ownerUnitId: c.branch.id, phones: [], emails: [], roles: [], source: null, version: 1 });
});

t.test('POST /v1/customers refuses bad input with problem+json naming the field, and writes nothing', async (t) => {
  const c = await company(app);
  const cases: [string, (name: string) => unknown, string][] = [
    ['unknown field', (name) => ({ name, kind: 'ORGANIZATION', bogus: 1 }), 'bogus'],
    ['wrong kind enum', (name) => ({ name, kind: 'ALIEN' }), 'kind'],
    ['wrong lifecycleStage enum', (name) => ({ name, kind: 'ORGANIZATION', lifecycleStage: 'WHALE' }), 'lifecycleStage'],
    ['bad email', (name) => ({ name, kind: 'ORGANIZATION', emails: ['not-an-email'] }), 'emails.0'],
    ['bad phone', (name) => ({ name, kind: 'ORGANIZATION', phones: ['+49 30 1234567', 'call me maybe'] }), 'phones.1'],
    ['wrong source channel', (name) => ({ name, kind: 'ORGANIZATION', source: { channel: 'PIGEON' } }), 'source.channel'],
    ['unknown field in source', (name) => ({ name, kind: 'ORGANIZATION', source: { channel: 'MEDIA', budget: 5 } }), 'source.budget'],
    ['bad ownerUserId', (name) => ({ name, kind: 'ORGANIZATION', ownerUserId: 'nope' }), 'ownerUserId'],
    ['empty name', () => ({ name: '   ', kind: 'ORGANIZATION' }), 'name'],
  ];
  for (const [label, make, path] of cases) {
    const name = `Bad ${tag()}`;
    const res = await app.rest(c.users.sales, 'POST', '/v1/customers', make(name));
    t.equal(res.status, 400, `${label}: ${res.raw}`);
    t.ok(isProblem(res.headers), `${label}: problem+json`);
    t.match(res.body, { type: String, title: String, status: 400, detail: String }, label);
    t.ok(errorPaths(res.body.errors).includes(path), `${label}: errors[].path names ${path} (got ${JSON.stringify(res.body.errors)})`);
    t.notOk(res.raw.includes('at '), `${label}: no stack trace`);
    t.same(await customersNamed(app, name), [], `${label}: no customer written`);
    t.equal(await auditMentioning(app, name), 0, `${label}: no audit written`);
  }

  const name = `Malformed ${tag()}`;
  const res = await app.inject({
    method: 'POST',
    url: '/v1/customers',
    headers: { authorization: `Bearer ${c.users.sales.token}`, 'content-type': 'application/json' },
    payload: `{"name": "${name}", "kind": "ORGANIZATION",`,
  });
  t.equal(res.statusCode, 400, res.body);
  t.ok(isProblem(res.headers), 'malformed JSON: problem+json');
  t.ok(errorPaths(JSON.parse(res.body).errors).includes('body'), res.body);
  t.same(await customersNamed(app, name), [], 'malformed JSON: nothing written');

  const q = await app.rest(c.users.sales, 'POST', `/v1/customers?allowDuplicate=maybe`, { name: `Q ${tag()}`, kind: 'PERSON' });
  t.equal(q.status, 400, q.raw);
  t.ok(errorPaths(q.body.errors).includes('allowDuplicate'), q.raw);
});

t.test('GET /v1/customers and /{id} refuse bad parameters', async (t) => {
  const c = await company(app);
  const cases: [string, string][] = [
    ['/v1/customers?limit=201', 'limit'],
    ['/v1/customers?limit=0', 'limit'],
    ['/v1/customers?cursor=not-a-cursor', 'cursor'],
    [`/v1/customers?cursor=${Buffer.from('["x"]').toString('base64url')}`, 'cursor'],
    ['/v1/customers?lifecycleStage=WHALE', 'lifecycleStage'],
    ['/v1/customers?status=GONE', 'status'],
    ['/v1/customers?source=PIGEON', 'source'],
    ['/v1/customers?ownerUnitId=12', 'ownerUnitId'],
    ['/v1/customers?updatedAfter=yesterday', 'updatedAfter'],
    ['/v1/customers?sort=color', 'sort'],
    ['/v1/customers?sort=-password', 'sort'],
    ['/v1/customers?colour=red', 'colour'],
    ['/v1/customers/not-a-uuid', 'id'],
    ['/v1/customers/not-a-uuid/contacts', 'id'],
  ];
  for (const [url, path] of cases) {
    const res = await app.rest(c.users.sales, 'GET', url);
    t.equal(res.status, 400, `${url}: ${res.raw}`);
    t.ok(isProblem(res.headers), `${url}: problem+json`);
    t.ok(errorPaths(res.body.errors).includes(path), `${url}: errors[].path names ${path} (got ${JSON.stringify(res.body.errors)})`);
  }
});

t.test('PATCH refuses bad input and writes nothing', async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales, { name: `Patchee ${tag()}`, emails: ['a@b.example'] });
  const url = `/v1/customers/${cust.id}`;
  const cases: [string, unknown, string][] = [
    ['lifecycleStage is not patched', { lifecycleStage: 'CUSTOMER' }, 'lifecycleStage'],
    ['status is not patched', { status: 'FROZEN' }, 'status'],
    ['unknown field', { name: 'x', nickname: 'y' }, 'nickname'],
    ['wrong kind', { kind: 'ROBOT' }, 'kind'],
    ['bad email', { emails: ['a@b.example', 'nope@'] }, 'emails.1'],
    ['bad phone', { phones: ['abc'] }, 'phones.0'],
    ['name cannot be cleared', { name: null }, 'name'],
    ['wrong role enum', { roles: ['FRIEND'] }, 'roles.0'],
  ];
  for (const [label, body, path] of cases) {
    const res = await app.rest(c.users.sales, 'PATCH', url, body);
    t.equal(res.status, 400, `${label}: ${res.raw}`);
    t.ok(isProblem(res.headers), `${label}: problem+json`);
    t.ok(errorPaths(res.body.errors).includes(path), `${label}: errors[].path names ${path} (got ${JSON.stringify(res.body.errors)})`);
  }
  const bad = await app.rest(c.users.sales, 'PATCH', '/v1/customers/123', { name: 'x' });
  t.equal(bad.status, 400);
  t.ok(errorPaths(bad.body.errors).includes('id'), bad.raw);
  const ifMatch = await app.rest(c.users.sales, 'PATCH', url, { name: 'x' }, { 'if-match': 'yesterday' });
  t.equal(ifMatch.status, 400, ifMatch.raw);
  t.ok(errorPaths(ifMatch.body.errors).includes('If-Match'), ifMatch.raw);
  const malformed = await app.inject({
    method: 'PATCH',
    url,
    headers: { authorization: `Bearer ${c.users.sales.token}`, 'content-type': 'application/json' },
    payload: '{"name": ',
  });
  t.equal(malformed.statusCode, 400);
  t.ok(isProblem(malformed.headers));

  const row = await findRow(app, 'customers', cust.id);
  t.equal(row?.version, 1, 'version unchanged');
  t.equal(row?.name, cust.name, 'name unchanged');
  t.equal(row?.lifecycle_stage, 'SUSPECT', 'stage unchanged');
  t.equal((await auditFor(app, cust.id)).length, 1, 'only the create is audited');
});

t.test('PATCH is a JSON merge patch: absent unchanged, null clears, version increments, If-Match honoured', async (t) => {
  const c = await company(app);
  const k = tag();
  const cust = await app.customer(c.users.sales, {
    name: `Merge Patch ${k}`,
    website: 'https://mp.example',
    industry: 'Textiles',
    region: 'South',
    phones: [`+49 89 ${digits()}`],
    address: { line1: 'Street 1', city: 'Munich' },
    source: { channel: 'EVENT', campaign: 'expo' },
    registrationId: `REG-${k}`,
  });
  const url = `/v1/customers/${cust.id}`;

  const p1 = await app.rest(c.users.sales, 'PATCH', url, { industry: null, region: 'North', address: null }, { 'if-match': '"1"' });
  t.equal(p1.status, 200, p1.raw);
  t.equal(p1.headers.etag, '"2"');
  t.match(p1.body, { version: 2, website: 'https://mp.example', industry: null, region: 'North', address: null, phones: cust.phones, name: cust.name, registrationId: `REG-${k}` });
  t.match(p1.body.source, { channel: 'EVENT', campaign: 'expo' }, 'absent source unchanged');

  const stale = await app.rest(c.users.sales, 'PATCH', url, { region: 'East' }, { 'if-match': '"1"' });
  t.equal(stale.status, 412, stale.raw);
  t.ok(isProblem(stale.headers));
  t.equal((await findRow(app, 'customers', cust.id))?.region, 'North', 'a stale If-Match writes nothing');

  const p2 = await app.rest(c.users.sales, 'PATCH', url, { source: null, registrationId: null, phones: [] }, { 'if-match': 'W/"2"' });
  t.equal(p2.status, 200, p2.raw);
  t.match(p2.body, { version: 3, source: null, registrationId: null, phones: [], region: 'North' });

  const noIfMatch = await app.rest(c.users.sales, 'PATCH', url, { name: `Renamed ${k}` });
  t.equal(noIfMatch.status, 200, 'If-Match is optional');
  t.equal(noIfMatch.body.version, 4);
  const got = await app.rest(c.users.sales, 'GET', url);
  t.equal(got.headers.etag, '"4"');
  t.equal(got.body.name, `Renamed ${k}`);
  t.equal(got.body.website, 'https://mp.example', 'never-touched field survives every patch');
  t.equal((await auditFor(app, cust.id)).length, 4, 'one audit row per successful write');

  // A patch that changes nothing writes nothing: same version, no audit row.
  for (const body of [{}, { name: `Renamed ${k}`, website: 'https://mp.example' }]) {
    const same = await app.rest(c.users.sales, 'PATCH', url, body, { 'if-match': '"4"' });
    t.equal(same.status, 200, same.raw);
    t.equal(same.body.version, 4, 'no new version for a no-op');
  }
  t.equal((await auditFor(app, cust.id)).length, 4, 'no audit row for a no-op');
});

t.test("another partner's record is 404 on every customer route, nothing leaked, nothing written", async (t) => {
  const c = await company(app);
  const secret = `Secret Partner A Client ${tag()}`;
  const cust = await app.customer(c.users.partnerASales, { name: secret });
  const mine = await app.customer(c.users.partnerBManager, { name: `B Own ${tag()}` });
  const calls: [string, string, unknown?][] = [
    ['GET', `/v1/customers/${cust.id}`],
    ['PATCH', `/v1/customers/${cust.id}`, { industry: 'Hijacked' }],
    ['POST', `/v1/customers/${cust.id}/freeze`, {}],
    ['POST', `/v1/customers/${cust.id}/unfreeze`, {}],
    ['POST', `/v1/customers/${cust.id}/merge`, { duplicateIds: [mine.id] }],
    ['POST', `/v1/customers/${mine.id}/merge`, { duplicateIds: [cust.id] }],
    ['GET', `/v1/customers/${cust.id}/contacts`],
    ['POST', `/v1/customers/${cust.id}/contacts`, { name: 'Spy' }],
  ];
  for (const who of [c.users.partnerBManager, c.users.partnerBSales, c.users.sales, c.users.partnerASubSales]) {
    for (const [method, url, body] of calls) {
      if (who !== c.users.partnerBManager && url.includes(mine.id)) continue;
      const res = await app.rest(who, method as 'GET', url, body);
      t.equal(res.status, 404, `${who.roles} ${method} ${url}: ${res.raw}`);
      t.ok(isProblem(res.headers));
      t.notOk(res.raw.includes(secret), 'the name does not leak');
      t.notOk(res.raw.includes(c.users.partnerASales.id), 'the owner does not leak');
    }
  }
  const list = await app.rest(c.users.partnerBManager, 'GET', `/v1/customers?q=${encodeURIComponent(secret)}`);
  t.equal(list.status, 200);
  t.same(list.body.data, [], 'not in lists or search either');
  const byOwner = await app.rest(c.users.partnerBManager, 'GET', `/v1/customers?ownerUserId=${c.users.partnerASales.id}`);
  t.same(byOwner.body.data, [], 'nor by owner filter');
  const row = await findRow(app, 'customers', cust.id);
  t.match(row, { version: 1, status: 'ACTIVE', industry: null });
  t.equal((await auditFor(app, cust.id)).length, 1, 'only the create is audited');
  t.equal((await findRow(app, 'customers', mine.id))?.status, 'ACTIVE');
  // The partner's own manager sees it.
  t.equal((await app.rest(c.users.partnerAManager, 'GET', `/v1/customers/${cust.id}`)).status, 200);
});

t.test('freeze and unfreeze: a frozen customer leaves the default list, is listed with status=FROZEN, GET still works', async (t) => {
  const c = await company(app);
  const k = tag();
  const cust = await app.customer(c.users.sales, { name: `Dormant ${k}` });
  const other = await app.customer(c.users.sales, { name: `Lively ${k}` });

  const forbidden = await app.rest(c.users.sales, 'POST', `/v1/customers/${cust.id}/freeze`, {});
  t.equal(forbidden.status, 403, 'sales has no freeze permission on a record it sees');
  t.ok(isProblem(forbidden.headers));
  t.equal((await findRow(app, 'customers', cust.id))?.status, 'ACTIVE');

  const stale = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${cust.id}/freeze`, { reason: 'dormant' }, { 'if-match': '"7"' });
  t.equal(stale.status, 412, stale.raw);
  const badBody = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${cust.id}/freeze`, { reason: 'x', why: 'y' });
  t.equal(badBody.status, 400);
  t.ok(errorPaths(badBody.body.errors).includes('why'), badBody.raw);
  const badId = await app.rest(c.users.branchManager, 'POST', '/v1/customers/zzz/freeze', {});
  t.equal(badId.status, 400);
  t.ok(errorPaths(badId.body.errors).includes('id'), badId.raw);
  t.equal((await findRow(app, 'customers', cust.id))?.version, 1, 'refusals wrote nothing');

  const fr = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${cust.id}/freeze`, { reason: 'dormant for 2 years' }, { 'if-match': '"1"' });
  t.equal(fr.status, 200, fr.raw);
  t.equal(fr.headers.etag, '"2"');
  t.match(fr.body, { id: cust.id, status: 'FROZEN', version: 2 });

  const list = await app.rest(c.users.sales, 'GET', '/v1/customers');
  const ids = list.body.data.map((x: any) => x.id);
  t.ok(ids.includes(other.id), 'active one listed');
  t.notOk(ids.includes(cust.id), 'frozen one left the default list');
  const frozen = await app.rest(c.users.sales, 'GET', '/v1/customers?status=FROZEN');
  t.same(frozen.body.data.map((x: any) => x.id), [cust.id]);
  const got = await app.rest(c.users.sales, 'GET', `/v1/customers/${cust.id}`);
  t.equal(got.status, 200);
  t.equal(got.body.status, 'FROZEN');

  const again = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${cust.id}/freeze`);
  t.equal(again.status, 200, `freezing a frozen customer is a no-op: ${again.raw}`);
  t.equal(again.body.version, 2);

  const un = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${cust.id}/unfreeze`, {});
  t.equal(un.status, 200, un.raw);
  t.match(un.body, { status: 'ACTIVE', version: 3 });
  t.equal(un.headers.etag, '"3"');
  const back = await app.rest(c.users.sales, 'GET', '/v1/customers');
  t.ok(back.body.data.some((x: any) => x.id === cust.id), 'back in the default list');
  const audit = await auditFor(app, cust.id);
  t.same(audit.map((a) => a.action.replace(/^created.*/, 'created')), ['created', 'frozen', 'unfrozen']);
  t.equal(audit[1]?.actor_id, c.users.branchManager.id);
  t.match(audit[1]?.after, { status: 'FROZEN', reason: 'dormant for 2 years' });
});

t.test('field-level security: partner_sales and marketing do not get creditStatus', async (t) => {
  const c = await company(app);
  const k = tag();
  const admin = await app.admin();
  const partnerCust = await app.rest(admin, 'POST', '/v1/customers', { name: `Credit P ${k}`, kind: 'ORGANIZATION', creditStatus: 'BLOCKED', ownerUserId: c.users.partnerASales.id });
  t.equal(partnerCust.status, 201, partnerCust.raw);
  t.equal(partnerCust.body.creditStatus, 'BLOCKED', 'admin sees it');
  const branchCust = await app.customer(c.users.sales, { name: `Credit B ${k}`, creditStatus: 'WATCH' });

  for (const [who, id] of [
    [c.users.partnerASales, partnerCust.body.id],
    [c.users.marketing, branchCust.id],
  ] as const) {
    const got = await app.rest(who, 'GET', `/v1/customers/${id}`);
    t.equal(got.status, 200, got.raw);
    t.notOk('creditStatus' in got.body, `${who.roles}: key absent on GET`);
    t.notOk(got.raw.includes('creditStatus'), `${who.roles}: not anywhere in the answer`);
    const listed = await app.rest(who, 'GET', `/v1/customers?q=${k}`);
    t.ok(listed.body.data.some((x: any) => x.id === id), `${who.roles}: the record is listed`);
    for (const x of listed.body.data) t.notOk('creditStatus' in x, `${who.roles}: key absent in lists`);
    const patched = await app.rest(who, 'PATCH', `/v1/customers/${id}`, { industry: 'Retail' });
    t.equal(patched.status, 200, patched.raw);
    t.notOk('creditStatus' in patched.body, `${who.roles}: key absent in PATCH answer`);
  }
  const created = await app.rest(c.users.partnerASales, 'POST', '/v1/customers', { name: `Credit Own ${k}`, kind: 'ORGANIZATION' });
  t.equal(created.status, 201);
  t.notOk('creditStatus' in created.body, 'key absent in the create answer');

  // What a role may not read it may not write either: 403 naming the field, nothing written.
  const sneak = await app.rest(c.users.partnerASales, 'POST', '/v1/customers', { name: `Credit Sneak ${k}`, kind: 'ORGANIZATION', creditStatus: 'GOOD' });
  t.equal(sneak.status, 403, sneak.raw);
  t.same(sneak.body.errors, [{ path: 'creditStatus', message: 'hidden from your roles' }]);
  t.equal((await app.rest(admin, 'GET', `/v1/customers?q=${encodeURIComponent(`Credit Sneak ${k}`)}`)).body.data.length, 0, 'nothing created');
  const overwrite = await app.rest(c.users.partnerASales, 'PATCH', `/v1/customers/${partnerCust.body.id}`, { creditStatus: 'GOOD' });
  t.equal(overwrite.status, 403, overwrite.raw);
  t.equal((await app.rest(admin, 'GET', `/v1/customers/${partnerCust.body.id}`)).body.creditStatus, 'BLOCKED', 'unchanged');

  const mgr = await app.rest(c.users.branchManager, 'GET', `/v1/customers/${branchCust.id}`);
  t.equal(mgr.body.creditStatus, 'WATCH', 'a manager sees it');
  t.equal((await findRow(app, 'customers', branchCust.id))?.credit_status, 'WATCH', 'hiding is not clearing');
});

t.test('owner rules: sales cannot give a customer to a user outside its reach; a manager can assign in its subtree', async (t) => {
  const c = await company(app);
  // Owners the caller cannot see do not exist for it: 400 as for an unknown id, so ids cannot be probed.
  // Owners it sees but may not assign to: 403. Either way nothing is written.
  const refused: [typeof c.users.sales, Record<string, string>, number, string][] = [
    [c.users.sales, { ownerUserId: c.users.otherSales.id }, 400, 'ownerUserId'],
    [c.users.sales, { ownerUnitId: c.otherBranch.id }, 400, 'ownerUnitId'],
    [c.users.branchManager, { ownerUserId: c.users.otherSales.id }, 400, 'ownerUserId'],
    [c.users.partnerAManager, { ownerUserId: c.users.partnerBSales.id }, 400, 'ownerUserId'],
    [c.users.partnerAManager, { ownerUserId: c.users.sales.id }, 400, 'ownerUserId'],
    [c.users.partnerAManager, { ownerUnitId: c.partnerB.id }, 400, 'ownerUnitId'],
    [c.users.sales, { ownerUserId: c.users.sales2.id }, 403, 'ownerUserId'],
    [c.users.partnerAManager, { ownerUnitId: c.region.id }, 403, 'ownerUnitId'],
    [c.users.branchManager, { ownerUnitId: c.region.id }, 403, 'ownerUnitId'],
  ];
  for (const [who, owner, status, path] of refused) {
    const name = `Owner Refused ${tag()}`;
    const res = await app.rest(who, 'POST', '/v1/customers', { name, kind: 'ORGANIZATION', ...owner });
    t.equal(res.status, status, `${who.roles} -> ${JSON.stringify(owner)}: ${res.raw}`);
    t.ok(isProblem(res.headers));
    t.same(errorPaths(res.body.errors), [path], `${who.roles} -> ${JSON.stringify(owner)} names ${path}`);
    t.same(await customersNamed(app, name), [], 'nothing written');
    t.equal(await auditMentioning(app, name), 0, 'no audit');
  }
  const ghostUnit = await app.rest(c.users.partnerAManager, 'POST', '/v1/customers', { name: `Owner Ghost Unit ${tag()}`, kind: 'ORGANIZATION', ownerUnitId: '00000000-0000-4000-8000-000000000000' });
  const hiddenUnit = await app.rest(c.users.partnerAManager, 'POST', '/v1/customers', { name: `Owner Hidden Unit ${tag()}`, kind: 'ORGANIZATION', ownerUnitId: c.partnerB.id });
  t.same(hiddenUnit.body.errors, ghostUnit.body.errors, "another partner's unit answers exactly like a unit that does not exist");

  for (const mgr of [c.users.branchManager, c.users.regionManager]) {
    const name = `Owner Assigned ${tag()}`;
    const res = await app.rest(mgr, 'POST', '/v1/customers', { name, kind: 'ORGANIZATION', ownerUserId: c.users.sales.id });
    t.equal(res.status, 201, res.raw);
    t.match(res.body, { ownerUserId: c.users.sales.id, ownerUnitId: c.branch.id });
    t.equal((await app.rest(c.users.sales, 'GET', `/v1/customers/${res.body.id}`)).status, 200, 'the new owner sees it');
  }
  const pool = await app.rest(c.users.regionManager, 'POST', '/v1/customers', { name: `Owner Pool ${tag()}`, kind: 'ORGANIZATION', ownerUnitId: c.branch.id });
  t.equal(pool.status, 201, pool.raw);
  t.match(pool.body, { ownerUserId: null, ownerUnitId: c.branch.id });

  // Reassigning through PATCH follows the same rule.
  const mine = await app.customer(c.users.sales, { name: `Owner Patch ${tag()}` });
  const away = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${mine.id}`, { ownerUserId: c.users.sales2.id });
  t.equal(away.status, 403, away.raw);
  const hidden = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${mine.id}`, { ownerUserId: c.users.otherSales.id });
  t.equal(hidden.status, 400, hidden.raw);
  t.equal((await findRow(app, 'customers', mine.id))?.owner_user_id, c.users.sales.id);
  const moved = await app.rest(c.users.branchManager, 'PATCH', `/v1/customers/${mine.id}`, { ownerUserId: c.users.sales2.id });
  t.equal(moved.status, 200, moved.raw);
  t.equal(moved.body.ownerUserId, c.users.sales2.id);
  t.equal((await app.rest(c.users.sales, 'GET', `/v1/customers/${mine.id}`)).status, 404, 'the former owner no longer sees it');
  t.equal((await auditFor(app, mine.id)).at(-1)?.action, 'owner_changed');
});

t.test('audit: create and update leave audit_log rows with actor and before/after, and events', async (t) => {
  const c = await company(app);
  const name = `Audited ${tag()}`;
  const res = await app.rest(c.users.sales, 'POST', '/v1/customers', { name, kind: 'ORGANIZATION', industry: 'Food' });
  t.equal(res.status, 201);
  const id = res.body.id;
  const upd = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${id}`, { industry: 'Beverages' });
  t.equal(upd.status, 200);

  const audit = await auditFor(app, id);
  t.equal(audit.length, 2);
  t.match(audit[0], { actor_id: c.users.sales.id, entity_type: 'customer', action: 'created', before: null, after: { id, name, industry: 'Food', ownerUserId: c.users.sales.id } });
  t.match(audit[1], { actor_id: c.users.sales.id, entity_type: 'customer', action: 'updated', before: { industry: 'Food', version: 1 }, after: { industry: 'Beverages', version: 2 } });
  t.equal(audit[1]?.on_behalf_of_id, null);
  t.notOk('searchText' in (audit[0]?.after ?? {}), 'derived search columns are not part of the snapshot');

  const events = await eventsFor(app, id);
  t.same(events.map((e) => e.type), ['customer.created', 'customer.updated']);
  t.match(events[0], { entity_type: 'customer', actor_id: c.users.sales.id, owner_unit_id: c.branch.id });
  t.match(events[1]?.payload, { before: { industry: 'Food' }, after: { industry: 'Beverages' } });
});
