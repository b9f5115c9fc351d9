import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { contact, digits, tag } from '../../helpers/factories.js';
import { errorPaths, isProblem } from '../../helpers/problems.js';
import { auditFor, findRow } from '../../helpers/records.js';
import { customersNamed } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

async function original(c: Awaited<ReturnType<typeof company>>) {
  const k = tag();
  const reg = digits(6);
  const d = digits();
  const body = {
    kind: 'ORGANIZATION',
    name: `Acme ${k} GmbH`,
    registrationId: `HRB ${reg}`,
    phones: [`+49 30 ${d}`],
    emails: [`Sales-${k}@Acme.example`],
  };
  const res = await app.rest(c.users.sales, 'POST', '/v1/customers', body);
  if (res.status !== 201) throw new Error(res.raw);
  return { k, reg, d, body, row: res.body };
}

t.test('a duplicate the caller can see is refused with the candidate, on name, registration id, phone or email', async (t) => {
  const c = await company(app);
  const o = await original(c);
  const tries: [string, Record<string, unknown>, string][] = [
    ['normalised name', { name: `ACME ${o.k}` }, 'name'],
    ['registration id', { name: `Other ${tag()}`, registrationId: `hrb-${o.reg}` }, 'registrationId'],
    ['phone in another format', { name: `Other ${tag()}`, phones: [`0049 (30) ${o.d.slice(0, 4)}-${o.d.slice(4)}`] }, 'phone'],
    ['email in another case', { name: `Other ${tag()}`, emails: [`sales-${o.k}@ACME.EXAMPLE`] }, 'email'],
  ];
  for (const [label, extra, on] of tries) {
    const body: Record<string, unknown> = { kind: 'ORGANIZATION', ...extra };
    const res = await app.rest(c.users.sales, 'POST', '/v1/customers', body);
    t.equal(res.status, 409, `${label}: ${res.raw}`);
    t.ok(isProblem(res.headers));
    t.equal(res.body.candidates.length, 1, label);
    t.match(res.body.candidates[0], { id: o.row.id, name: o.body.name, ownerUserId: c.users.sales.id, ownerUnitId: c.branch.id, lifecycleStage: 'SUSPECT' });
    t.ok(res.body.candidates[0].matchedOn.includes(on), `${label}: matchedOn ${JSON.stringify(res.body.candidates[0].matchedOn)}`);
    t.same(res.body.protectedMatches, [], 'nothing hidden');
    t.same(await customersNamed(app, body.name as string), [], `${label}: nothing written`);
  }
  // A manager above sees it too: a candidate, not a protected match.
  const mgr = await app.rest(c.users.branchManager, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name: `acme ${o.k} ltd.` });
  t.equal(mgr.status, 409);
  t.equal(mgr.body.candidates[0]?.id, o.row.id);

  const forced = await app.rest(c.users.sales, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ORGANIZATION', name: `ACME ${o.k}` });
  t.equal(forced.status, 201, forced.raw);
  t.not(forced.body.id, o.row.id);
  t.equal((await auditFor(app, forced.body.id))[0]?.action, 'created_despite_duplicates', 'the override is on record');
  const off = await app.rest(c.users.sales, 'POST', '/v1/customers?allowDuplicate=false', { kind: 'ORGANIZATION', name: `ACME ${o.k} AG` });
  t.equal(off.status, 409);
  t.equal(off.body.candidates.length, 2, 'both visible records are candidates');
});

t.test('a match the caller cannot see is reported only as protected: no id, no name, no owner', async (t) => {
  const c = await company(app);
  const o = await original(c);
  const secrets = [o.row.id, o.body.name, c.users.sales.id, o.d, o.reg, `sales-${o.k}`, `Sales-${o.k}`];
  for (const [who, arbiter] of [
    [c.users.sales2, c.branch],
    [c.users.otherSales, c.region],
    [c.users.partnerBSales, c.region],
    [c.users.partnerAManager, c.region],
  ] as const) {
    const name = `acme ${o.k}`;
    const res = await app.rest(who, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name, emails: [`SALES-${o.k}@acme.example`] });
    t.equal(res.status, 409, `${who.roles}: ${res.raw}`);
    t.same(res.body.candidates, [], `${who.roles}: no visible candidate`);
    t.equal(res.body.protectedMatches.length, 1);
    const pm = res.body.protectedMatches[0];
    t.same(Object.keys(pm).sort(), ['contactUnitId', 'contactUnitName', 'matchedOn'], 'only what to do about it');
    t.same([...pm.matchedOn].sort(), ['email', 'name']);
    t.equal(pm.contactUnitId, arbiter.id, `${who.roles}: the unit above both arbitrates`);
    t.equal(pm.contactUnitName, arbiter.name);
    for (const s of secrets) t.notOk(res.raw.includes(s), `${who.roles}: does not leak ${s}`);
    t.same(await customersNamed(app, name), []);
  }
  // Visible and invisible matches together: each in its own list.
  const theirs = await app.customer(c.users.sales2, { name: `ACME ${o.k} Ltd` });
  const mixed = await app.rest(c.users.sales, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name: `Acme ${o.k}` });
  t.equal(mixed.status, 409);
  t.same(mixed.body.candidates.map((x: any) => x.id), [o.row.id]);
  t.equal(mixed.body.protectedMatches.length, 1);
  t.notOk(mixed.raw.includes(theirs.id), "the colleague's record id does not leak");
  t.notOk(mixed.raw.includes(c.users.sales2.id));
  // A partner's user cannot override a protected match (working another unit's customer unknowingly
  // is the collision the product prevents); the company's own staff still may, knowingly.
  const refused = await app.rest(c.users.partnerBSales, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ORGANIZATION', name: `acme ${o.k}` });
  t.equal(refused.status, 409, refused.raw);
  t.equal(refused.body.code, 'DUPLICATE_CUSTOMER');
  const forced = await app.rest(c.users.otherSales, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ORGANIZATION', name: `acme ${o.k}` });
  t.equal(forced.status, 201, forced.raw);
});

t.test('duplicates through GraphQL: CONFLICT with the same candidates; allowDuplicate creates', async (t) => {
  const c = await company(app);
  const o = await original(c);
  const q = 'mutation($input: CreateCustomerInput!, $allow: Boolean) { createCustomer(input: $input, allowDuplicate: $allow) { id name } }';
  const g = await app.gql(c.users.sales, q, { input: { kind: 'ORGANIZATION', name: `ACME ${o.k}` } });
  t.same(g.codes, ['CONFLICT'], JSON.stringify(g.errors));
  t.match(g.errors?.[0]?.extensions, { candidates: [{ id: o.row.id, name: o.body.name }], protectedMatches: [] });
  const hidden = await app.gql(c.users.partnerBSales, q, { input: { kind: 'ORGANIZATION', name: `Acme ${o.k}`, phones: [`+49-30-${o.d}`] } });
  t.same(hidden.codes, ['CONFLICT']);
  t.same(hidden.errors?.[0]?.extensions?.candidates, []);
  t.equal(hidden.errors?.[0]?.extensions?.protectedMatches.length, 1);
  t.notOk(JSON.stringify(hidden).includes(o.row.id));
  t.notOk(JSON.stringify(hidden).includes(o.body.name));
  t.same(await customersNamed(app, `Acme ${o.k}`), []);
  const forced = await app.gql(c.users.sales, q, { input: { kind: 'ORGANIZATION', name: `ACME ${o.k}` }, allow: true });
  t.same(forced.errors, undefined);
  t.equal(forced.data.createCustomer.name, `ACME ${o.k}`);
});

async function mergeFixture(c: Awaited<ReturnType<typeof company>>) {
  const k = tag();
  const survivor = await app.customer(c.users.sales, { name: `Merge ${k}`, phones: ['+49 40 111'], emails: [`a-${k}@m.example`], roles: ['BUYER'] });
  const dup1 = await app.customer(c.users.sales, { name: `Merge ${k} GmbH`, phones: ['+49 40 222', '+49 40 111'], emails: [`b-${k}@m.example`], registrationId: `REG${k}`, industry: 'Steel', externalIds: { erp: `E${k}` } });
  const dup2 = await app.customer(c.users.sales, { name: `MERGE ${k}`, emails: [`c-${k}@m.example`, `a-${k}@m.example`], roles: ['SUPPLIER'] });
  const contacts = {
    s: await contact(app, c.users.sales, survivor.id, { name: 'S1' }),
    d1a: await contact(app, c.users.sales, dup1.id, { name: 'D1a' }),
    d1b: await contact(app, c.users.sales, dup1.id, { name: 'D1b' }),
    d2: await contact(app, c.users.sales, dup2.id, { name: 'D2' }),
  };
  return { k, survivor, dup1, dup2, contacts };
}

t.test('merge (REST): contacts move, phones and emails are united, duplicates become MERGED and read-only', async (t) => {
  const c = await company(app);
  const f = await mergeFixture(c);
  const url = `/v1/customers/${f.survivor.id}/merge`;

  const denied = await app.rest(c.users.sales, 'POST', url, { duplicateIds: [f.dup1.id] });
  t.equal(denied.status, 403, `sales holds no merge permission: ${denied.raw}`);
  t.ok(isProblem(denied.headers));

  const bad: [unknown, string][] = [
    [{ duplicateIds: [] }, 'duplicateIds'],
    [{ duplicateIds: ['nope'] }, 'duplicateIds.0'],
    [{ duplicateIds: [f.survivor.id] }, 'duplicateIds'],
    [{ duplicateIds: [f.dup1.id], keep: 'all' }, 'keep'],
    [{}, 'duplicateIds'],
  ];
  for (const [body, path] of bad) {
    const res = await app.rest(c.users.branchManager, 'POST', url, body);
    t.equal(res.status, 400, `${JSON.stringify(body)}: ${res.raw}`);
    t.ok(errorPaths(res.body.errors).includes(path), `${JSON.stringify(body)} names ${path}: ${res.raw}`);
  }
  const stale = await app.rest(c.users.branchManager, 'POST', url, { duplicateIds: [f.dup1.id] }, { 'if-match': '"9"' });
  t.equal(stale.status, 412);
  const ghost = await app.rest(c.users.branchManager, 'POST', url, { duplicateIds: [f.dup1.id, '00000000-0000-4000-8000-000000000000'] });
  t.equal(ghost.status, 404, 'an unknown duplicate is 404 and nothing is merged');
  for (const x of [f.survivor, f.dup1, f.dup2]) t.match(await findRow(app, 'customers', x.id), { version: 1, status: 'ACTIVE', merged_into_id: null }, 'refusals wrote nothing');
  t.equal((await app.rest(c.users.sales, 'GET', `/v1/customers/${f.survivor.id}/contacts`)).body.data.length, 1);

  const res = await app.rest(c.users.branchManager, 'POST', url, { duplicateIds: [f.dup1.id, f.dup2.id] }, { 'if-match': '"1"' });
  t.equal(res.status, 200, res.raw);
  t.equal(res.headers.etag, '"2"');
  t.match(res.body, { id: f.survivor.id, name: f.survivor.name, status: 'ACTIVE', version: 2, registrationId: `REG${f.k}`, industry: 'Steel', externalIds: { erp: `E${f.k}` } });
  t.same([...res.body.phones].sort(), ['+49 40 111', '+49 40 222']);
  t.same([...res.body.emails].sort(), [`a-${f.k}@m.example`, `b-${f.k}@m.example`, `c-${f.k}@m.example`]);
  t.same([...res.body.roles].sort(), ['BUYER', 'SUPPLIER']);

  const contacts = await app.rest(c.users.sales, 'GET', `/v1/customers/${f.survivor.id}/contacts`);
  t.same(contacts.body.data.map((x: any) => x.name).sort(), ['D1a', 'D1b', 'D2', 'S1'], 'every contact moved to the survivor');
  for (const x of contacts.body.data) t.equal(x.customerId, f.survivor.id);
  t.same((await app.rest(c.users.sales, 'GET', `/v1/customers/${f.dup1.id}/contacts`)).body.data, []);

  for (const d of [f.dup1, f.dup2]) {
    const got = await app.rest(c.users.sales, 'GET', `/v1/customers/${d.id}`);
    t.equal(got.status, 200, 'a merged record is still readable');
    t.match(got.body, { status: 'MERGED', mergedIntoId: f.survivor.id, version: 2 });
  }
  const patch = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${f.dup1.id}`, { industry: 'Paper' });
  t.equal(patch.status, 409, `a merged customer refuses PATCH: ${patch.raw}`);
  t.ok(isProblem(patch.headers));
  t.equal((await app.rest(c.users.branchManager, 'POST', `/v1/customers/${f.dup1.id}/freeze`)).status, 409);
  t.equal((await app.rest(c.users.sales, 'POST', `/v1/customers/${f.dup1.id}/contacts`, { name: 'Late' })).status, 409);
  t.equal((await app.rest(c.users.branchManager, 'POST', url, { duplicateIds: [f.dup1.id] })).status, 409, 'cannot merge twice');
  t.equal((await app.rest(c.users.branchManager, 'POST', `/v1/customers/${f.dup1.id}/merge`, { duplicateIds: [f.survivor.id] })).status, 409, 'a merged record cannot survive');
  t.equal((await findRow(app, 'customers', f.dup1.id))?.industry, 'Steel');

  const list = await app.rest(c.users.sales, 'GET', `/v1/customers?q=merge ${f.k}`);
  t.same(list.body.data.map((x: any) => x.id), [f.survivor.id], 'merged records leave the default list');
  const merged = await app.rest(c.users.sales, 'GET', `/v1/customers?status=MERGED&q=merge ${f.k}`);
  t.same(merged.body.data.map((x: any) => x.id).sort(), [f.dup1.id, f.dup2.id].sort());

  // Nobody can create the survivor's phone again without seeing it as a candidate.
  const again = await app.rest(c.users.sales, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name: `Fresh ${tag()}`, phones: ['+49 (40) 222'] });
  t.equal(again.status, 409);
  t.same(again.body.candidates.map((x: any) => x.id), [f.survivor.id], 'the merged duplicate is no longer a candidate');

  const sAudit = await auditFor(app, f.survivor.id);
  t.match(sAudit.at(-1), { action: 'merge_survived', actor_id: c.users.branchManager.id, after: { mergedIds: [f.dup1.id, f.dup2.id] } });
  t.match((await auditFor(app, f.dup1.id)).at(-1), { action: 'merged', before: { status: 'ACTIVE' }, after: { status: 'MERGED', mergedIntoId: f.survivor.id } });
  // Each moved contact carries its own history of the move.
  for (const x of contacts.body.data.filter((x: any) => x.name !== 'S1')) {
    t.match((await auditFor(app, x.id)).at(-1), { action: 'moved_by_merge', actor_id: c.users.branchManager.id, after: { customerId: f.survivor.id } }, `contact ${x.name}`);
  }
});

t.test('allowDuplicate: the audit row names the duplicates it overrode, and only when there were some', async (t) => {
  const c = await company(app);
  const o = await original(c);
  const forced = await app.rest(c.users.sales, 'POST', '/v1/customers?allowDuplicate=true', { ...o.body, registrationId: undefined, emails: [] });
  t.equal(forced.status, 201, forced.raw);
  t.match((await auditFor(app, forced.body.id))[0], { action: 'created_despite_duplicates', after: { overriddenDuplicateIds: [o.row.id] } });
  const fresh = await app.rest(c.users.sales, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'PERSON', name: `Nobody Like ${tag()}` });
  t.equal(fresh.status, 201, fresh.raw);
  t.equal((await auditFor(app, fresh.body.id))[0]?.action, 'created', 'no duplicate, nothing overridden');
});

t.test('mergeCustomers (GraphQL): the same rules and the same result', async (t) => {
  const c = await company(app);
  const f = await mergeFixture(c);
  const q = 'mutation($id: ID!, $d: [ID!]!, $v: Int) { mergeCustomers(id: $id, duplicateIds: $d, expectedVersion: $v) { id phones emails version contacts { name } } }';
  t.same((await app.gql(c.users.sales, q, { id: f.survivor.id, d: [f.dup1.id] })).codes, ['FORBIDDEN']);
  t.same((await app.gql(c.users.branchManager, q, { id: f.survivor.id, d: [f.survivor.id] })).codes, ['BAD_USER_INPUT']);
  t.same((await app.gql(c.users.branchManager, q, { id: f.survivor.id, d: ['nope'] })).codes, ['BAD_USER_INPUT']);
  t.same((await app.gql(c.users.branchManager, q, { id: f.survivor.id, d: [f.dup1.id], v: 3 })).codes, ['PRECONDITION_FAILED']);
  t.match(await findRow(app, 'customers', f.dup1.id), { status: 'ACTIVE', version: 1 });

  const g = await app.gql(c.users.branchManager, q, { id: f.survivor.id, d: [f.dup1.id, f.dup2.id], v: 1 });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.equal(g.data.mergeCustomers.version, 2);
  t.same(g.data.mergeCustomers.contacts.map((x: any) => x.name).sort(), ['D1a', 'D1b', 'D2', 'S1']);
  t.same([...g.data.mergeCustomers.emails].sort(), [`a-${f.k}@m.example`, `b-${f.k}@m.example`, `c-${f.k}@m.example`]);
  const dup = await app.gql(c.users.sales, 'query($id: ID!) { customer(id: $id) { status mergedIntoId contacts { id } } }', { id: f.dup2.id });
  t.same(dup.data.customer, { status: 'MERGED', mergedIntoId: f.survivor.id, contacts: [] });
  const upd = await app.gql(c.users.sales, 'mutation($id: ID!) { updateCustomer(id: $id, input: { industry: "x" }) { id } }', { id: f.dup2.id });
  t.same(upd.codes, ['CONFLICT'], 'a merged customer refuses updates');
  const r = await app.rest(c.users.sales, 'GET', `/v1/customers/${f.dup1.id}`);
  t.match(r.body, { status: 'MERGED', mergedIntoId: f.survivor.id }, 'REST sees the GraphQL merge');
});
