import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { parse } from 'yaml';
import { queryRows } from '../../src/db/client.js';
import { CONTROL_CHARACTERS_MESSAGE, DATE_RANGE_MESSAGE } from '../../src/lib/schemas.js';
import { buildTestApp, company, type User } from '../helpers/app.js';
import { tag } from '../helpers/factories.js';
import { errorPaths, isProblem } from '../helpers/problems.js';

// The input rules every door shares (README "Input rules"): no control characters in any string,
// dates within 1900..9999, no unknown query parameter on any route. Each refusal is a 400
// problem+json naming the field, and writes nothing.

const app = await buildTestApp();
t.teardown(() => app.close());

const c = await company(app);
// A fresh admin of its own: every audit row it leaves is this file's.
const boss = await app.user(c.region, ['admin']);
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

async function writesBy(who: User): Promise<number> {
  const [r] = await queryRows<{ n: string | number }>(app.db, sql`SELECT count(*) AS n FROM audit_log WHERE actor_id = ${who.id}::uuid`);
  return Number(r?.n ?? 0);
}

async function created(res: { status: number; raw: string; body: any }): Promise<any> {
  if (res.status !== 201 && res.status !== 200) throw new Error(`fixture refused: ${res.status} ${res.raw}`);
  return res.body;
}

// One record of each kind the walk writes to, all made by `boss`.
const customer = await app.customer(boss, { name: `Rules ${tag()}` });
const contact = await created(await app.rest(boss, 'POST', `/v1/customers/${customer.id}/contacts`, { name: 'Ann Walker' }));
const interaction = await created(await app.rest(boss, 'POST', `/v1/customers/${customer.id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND' }));
const opp = await created(await app.rest(boss, 'POST', '/v1/opportunities', { customerId: customer.id, name: `Deal ${tag()}` }));
const action = await created(await app.rest(boss, 'POST', `/v1/opportunities/${opp.id}/actions`, { title: 'Call back' }));
// A lead of its own for the handoffs: the opportunity above has moved `customer` past PROSPECT.
const lead = await app.customer(boss, { name: `Lead ${tag()}` });
const handoff = await created(await app.rest(boss, 'POST', `/v1/customers/${lead.id}/handoffs`, { toUnitId: c.otherBranch.id, dueAt: inAnHour() }));
const unit = await created(await app.rest(boss, 'POST', '/v1/org-units', { name: `Unit ${tag()}`, kind: 'BRANCH', parentId: c.region.id }));
const user = await created(await app.rest(boss, 'POST', '/v1/users', { email: `walk-${tag()}@test.example`, name: 'Walker', unitId: c.branch.id, roles: ['sales'] }));

const address = { line1: 'Hafenstraße 1', line2: 'Hinterhaus', city: 'Lübeck', postalCode: '23552', region: 'SH', country: 'DE' };
const customerFields = {
  name: `Walk ${tag()}`,
  registrationId: 'HRB 1234',
  website: 'https://walk.example',
  industry: 'Steel',
  region: 'North',
  address,
  source: { channel: 'EVENT', campaign: 'Fair 2026', detail: 'met at the booth' },
  creditStatus: 'GOOD',
  externalIds: { erp: 'E-1' },
};
const qualification = { purchaseMotive: 'replace the old line', judgement: 'serious buyer' };
const stages = [
  { key: 'LEAD', name: 'Lead', probability: 10 },
  { key: 'WON', name: 'Won', probability: 100, terminal: true, outcome: 'WON' },
  { key: 'LOST', name: 'Lost', probability: 0, terminal: true, outcome: 'LOST' },
];

// `formatted`: every string of the body has a format of its own (a role's name is a key).
type Case = { label: string; method: 'POST' | 'PATCH'; url: string; body: Record<string, unknown>; formatted?: boolean };
const bodies: Case[] = [
  { label: 'customer create', method: 'POST', url: '/v1/customers', body: { kind: 'ORGANIZATION', ...customerFields } },
  { label: 'customer create, address as a line', method: 'POST', url: '/v1/customers', body: { kind: 'ORGANIZATION', name: `Walk ${tag()}`, address: 'Hafenstraße 1' } },
  { label: 'customer patch', method: 'PATCH', url: `/v1/customers/${customer.id}`, body: customerFields },
  { label: 'freeze', method: 'POST', url: `/v1/customers/${customer.id}/freeze`, body: { reason: 'dormant' } },
  { label: 'contact create', method: 'POST', url: `/v1/customers/${customer.id}/contacts`, body: { name: 'Bob', title: 'CFO' } },
  { label: 'contact patch', method: 'PATCH', url: `/v1/contacts/${contact.id}`, body: { name: 'Bob', title: 'CFO' } },
  { label: 'interaction create', method: 'POST', url: `/v1/customers/${customer.id}/interactions`, body: { channel: 'PHONE', direction: 'INBOUND', subject: 'Offer', notes: 'asked for a price', outcome: 'call back' } },
  { label: 'interaction patch', method: 'PATCH', url: `/v1/interactions/${interaction.id}`, body: { subject: 'Offer', notes: 'asked for a price', outcome: 'call back' } },
  { label: 'opportunity create', method: 'POST', url: '/v1/opportunities', body: { customerId: customer.id, name: `Deal ${tag()}`, qualification } },
  { label: 'opportunity patch', method: 'PATCH', url: `/v1/opportunities/${opp.id}`, body: { name: 'Bigger deal', qualification } },
  { label: 'stage transition', method: 'POST', url: `/v1/opportunities/${opp.id}/transitions`, body: { toStageKey: 'LOST', reason: 'gone', lostReason: 'price', competitor: 'Rival AG' } },
  { label: 'action create', method: 'POST', url: `/v1/opportunities/${opp.id}/actions`, body: { title: 'Send offer', notes: 'with the discount' } },
  { label: 'action patch', method: 'PATCH', url: `/v1/actions/${action.id}`, body: { title: 'Send offer', notes: 'with the discount' } },
  { label: 'handoff', method: 'POST', url: `/v1/customers/${lead.id}/handoffs`, body: { toUnitId: c.branch.id, dueAt: inAnHour(), note: 'your area' } },
  { label: 'handoff reject', method: 'POST', url: `/v1/handoffs/${handoff.id}/reject`, body: { reason: 'not ours' } },
  { label: 'lifecycle transition', method: 'POST', url: `/v1/customers/${customer.id}/lifecycle-transitions`, body: { to: 'PROSPECT', reason: 'showed interest' } },
  { label: 'org unit create', method: 'POST', url: '/v1/org-units', body: { name: `Unit ${tag()}`, kind: 'BRANCH', parentId: c.region.id } },
  { label: 'org unit patch', method: 'PATCH', url: `/v1/org-units/${unit.id}`, body: { name: `Unit ${tag()}` } },
  { label: 'user create', method: 'POST', url: '/v1/users', body: { email: `walk-${tag()}@test.example`, name: 'Walker Two', unitId: c.branch.id, roles: ['sales'] } },
  { label: 'user patch', method: 'PATCH', url: `/v1/users/${user.id}`, body: { name: 'Walker Three' } },
  { label: 'role create', method: 'POST', url: '/v1/roles', body: { name: `walk_${tag()}`, scope: 'OWN', permissions: ['customers:read'] }, formatted: true },
  { label: 'pipeline create', method: 'POST', url: '/v1/pipelines', body: { name: `Pipe ${tag()}`, productLine: 'machines', stages } },
];

// Keys whose values have a format of their own (enums, ids, e-mails, times, keys): a NUL there is
// refused by that format's message.
const FORMATTED = new Set(['creditStatus', 'kind', 'channel', 'direction', 'customerId', 'opportunityId', 'toUnitId', 'parentId', 'unitId', 'roles', 'scope', 'permissions', 'email', 'dueAt', 'toStageKey', 'to', 'key', 'outcome']);

type Path = (string | number)[];
function stringLeaves(v: unknown, path: Path = []): Path[] {
  if (typeof v === 'string') return [path];
  if (Array.isArray(v)) return v.flatMap((x, i) => stringLeaves(x, [...path, i]));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => stringLeaves(x, [...path, k]));
  return [];
}

function withNul<T>(body: T, path: Path): T {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  const s = at[last] as string;
  at[last] = `${s.slice(0, 1)}\u0000${s.slice(1)}`;
  return copy as T;
}

// The address given as one line is one branch of a union: zod names the field, with its own message.
const isFreeText = (path: Path) => !path.some((k) => typeof k === 'string' && FORMATTED.has(k)) && path[0] !== 'stages' && path.join('.') !== 'address';

t.test('U+0000 in any string field of a write body: 400 naming the field, nothing written (REST)', async (t) => {
  const before = await writesBy(boss);
  for (const { label, method, url, body, formatted } of bodies) {
    const paths = stringLeaves(body);
    t.ok(paths.length > 0, `${label} has string fields`);
    for (const path of paths) {
      const field = path.join('.');
      const res = await app.rest(boss, method, url, withNul(body, path));
      t.equal(res.status, 400, `${label} ${field}: ${res.raw}`);
      t.ok(isProblem(res.headers), `${label} ${field}: problem+json`);
      t.ok(errorPaths(res.body?.errors).includes(field), `${label} ${field} is named: ${res.raw}`);
      if (!formatted && isFreeText(path)) t.ok(res.body?.errors?.some((e: { path: string; message: string }) => e.path === field && e.message === CONTROL_CHARACTERS_MESSAGE), `${label} ${field}: the control-character message`);
    }
  }
  // Stage names of a pipeline are free text too.
  const res = await app.rest(boss, 'POST', '/v1/pipelines', { name: `Pipe ${tag()}`, stages: [{ ...stages[0], name: 'Le\u0000ad' }, ...stages.slice(1)] });
  t.equal(res.status, 400);
  t.ok(errorPaths(res.body?.errors).includes('stages.0.name'), res.raw);
  t.equal(await writesBy(boss), before, 'no write of any kind');
});

t.test('other C0 controls are refused too; tab, line feed and carriage return are text', async (t) => {
  const url = `/v1/customers/${customer.id}/interactions`;
  for (const ch of ['\u0001', '\u0008', '\u000B', '\u000C', '\u001B', '\u001F', '\u007F']) {
    const res = await app.rest(boss, 'POST', url, { channel: 'PHONE', direction: 'INBOUND', notes: `a${ch}b` });
    t.equal(res.status, 400, `U+${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
    t.same(res.body?.errors, [{ path: 'notes', message: CONTROL_CHARACTERS_MESSAGE }]);
  }
  const ok = await app.rest(boss, 'POST', url, { channel: 'PHONE', direction: 'INBOUND', notes: 'line one\r\nline two\tindented' });
  t.equal(ok.status, 201, ok.raw);
  t.equal(ok.body.notes, 'line one\r\nline two\tindented');
});

t.test('U+0000 in a query string: 400 naming the parameter', async (t) => {
  const cases: [string, string][] = [
    ['/v1/users?q=%00', 'q'],
    ['/v1/users?q=a%00b', 'q'],
    ['/v1/customers?q=ac%00me', 'q'],
    ['/v1/customers?sort=na%00me', 'sort'],
    ['/v1/opportunities?stageKey=%00', 'stageKey'],
    ['/v1/opportunities?sort=%00', 'sort'],
    [`/v1/customers/${customer.id}/actions?sort=%00`, 'sort'],
    ['/v1/customers?cursor=%00', 'cursor'],
  ];
  for (const [url, param] of cases) {
    const res = await app.rest(boss, 'GET', url);
    t.equal(res.status, 400, `${url}: ${res.raw}`);
    t.ok(isProblem(res.headers));
    t.ok(errorPaths(res.body?.errors).includes(param), `${url} names ${param}: ${res.raw}`);
  }
  // A forged cursor carrying a NUL in its position: refused, not passed on to the database.
  const forged = Buffer.from(JSON.stringify({ s: 'name', v: ['a\u0000', randomUUID()] })).toString('base64url');
  const res = await app.rest(boss, 'GET', `/v1/customers?sort=name&cursor=${forged}`);
  t.equal(res.status, 400, res.raw);
  t.ok(errorPaths(res.body?.errors).includes('cursor'));
});

t.test('forged cursors holding a time outside 1900..9999 are refused, not sent to the database (timeline, agenda)', async (t) => {
  const customer = await app.customer(boss);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const cases: [string, string][] = [
    [`/v1/customers/${customer.id}/timeline`, b64(['0000-01-01T00:00:00.000Z', randomUUID(), 'INTERACTION'])],
    [`/v1/customers/${customer.id}/timeline`, b64(['1899-12-31T23:59:59.999Z', randomUUID(), 'INTERACTION'])],
    ['/v1/agenda', b64([-62167219200000, 1, randomUUID()])],
    ['/v1/agenda', b64([Number.MAX_SAFE_INTEGER, 1, randomUUID()])],
  ];
  for (const [path, cursor] of cases) {
    const res = await app.rest(boss, 'GET', `${path}?cursor=${cursor}`);
    t.equal(res.status, 400, `${path}: ${res.raw}`);
    t.ok(isProblem(res.headers));
    t.ok(errorPaths(res.body?.errors).includes('cursor'), res.raw);
  }
  const timeline = await app.gql(boss, 'query($id: ID!, $after: String) { customer(id: $id) { timeline(first: 5, after: $after) { edges { cursor } } } }', {
    id: customer.id,
    after: cases[0]?.[1],
  });
  t.same(timeline.codes, ['BAD_USER_INPUT'], 'GraphQL refuses it too');
});

const GQL: { label: string; query: string; vars: Record<string, unknown>; input: Record<string, unknown> }[] = [
  { label: 'createCustomer', query: 'mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }', vars: {}, input: { kind: 'ORGANIZATION', ...customerFields, name: `Walk ${tag()}` } },
  { label: 'updateCustomer', query: 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }', vars: { id: customer.id }, input: customerFields },
  { label: 'createContact', query: 'mutation($id: ID!, $input: CreateContactInput!) { createContact(customerId: $id, input: $input) { id } }', vars: { id: customer.id }, input: { name: 'Bob', title: 'CFO' } },
  { label: 'updateContact', query: 'mutation($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { id } }', vars: { id: contact.id }, input: { name: 'Bob', title: 'CFO' } },
  { label: 'recordInteraction', query: 'mutation($id: ID!, $input: RecordInteractionInput!) { recordInteraction(customerId: $id, input: $input) { id } }', vars: { id: customer.id }, input: { channel: 'PHONE', direction: 'INBOUND', subject: 'Offer', notes: 'price', outcome: 'later' } },
  { label: 'updateInteraction', query: 'mutation($id: ID!, $input: UpdateInteractionInput!) { updateInteraction(id: $id, input: $input) { id } }', vars: { id: interaction.id }, input: { subject: 'Offer', notes: 'price', outcome: 'later' } },
  { label: 'createOpportunity', query: 'mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id } }', vars: {}, input: { customerId: customer.id, name: `Deal ${tag()}`, qualification } },
  { label: 'updateOpportunity', query: 'mutation($id: ID!, $input: UpdateOpportunityInput!) { updateOpportunity(id: $id, input: $input) { id } }', vars: { id: opp.id }, input: { name: 'Bigger deal', qualification } },
  { label: 'transitionOpportunity', query: 'mutation($id: ID!, $input: StageTransitionInput!) { transitionOpportunity(id: $id, input: $input) { id } }', vars: { id: opp.id }, input: { toStageKey: 'LOST', reason: 'gone', lostReason: 'price', competitor: 'Rival AG' } },
  { label: 'createAction', query: 'mutation($input: CreateActionInput!) { createAction(input: $input) { id } }', vars: {}, input: { opportunityId: opp.id, title: 'Send offer', notes: 'discount' } },
  { label: 'updateAction', query: 'mutation($id: ID!, $input: UpdateActionInput!) { updateAction(id: $id, input: $input) { id } }', vars: { id: action.id }, input: { title: 'Send offer', notes: 'discount' } },
  { label: 'handOffCustomer', query: 'mutation($id: ID!, $input: HandoffInput!) { handOffCustomer(customerId: $id, input: $input) { id } }', vars: { id: lead.id }, input: { toUnitId: c.branch.id, dueAt: inAnHour(), note: 'your area' } },
  { label: 'transitionLifecycle', query: 'mutation($id: ID!, $input: LifecycleTransitionInput!) { transitionLifecycle(customerId: $id, input: $input) { id } }', vars: { id: customer.id }, input: { to: 'PROSPECT', reason: 'interest' } },
  { label: 'createOrgUnit', query: 'mutation($input: CreateOrgUnitInput!) { createOrgUnit(input: $input) { id } }', vars: {}, input: { name: `Unit ${tag()}`, kind: 'BRANCH', parentId: c.region.id } },
  { label: 'updateUser', query: 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }', vars: { id: user.id }, input: { name: 'Walker Four' } },
  { label: 'createPipeline', query: 'mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }', vars: {}, input: { name: `Pipe ${tag()}`, productLine: 'machines', stages } },
];

t.test('U+0000 in any free-text argument: BAD_USER_INPUT naming the field, nothing written (GraphQL)', async (t) => {
  const before = await writesBy(boss);
  for (const { label, query, vars, input } of GQL) {
    for (const path of stringLeaves(input).filter(isFreeText)) {
      const field = `input.${path.join('.')}`;
      const g = await app.gql(boss, query, { ...vars, input: withNul(input, path) });
      t.same(g.codes, ['BAD_USER_INPUT'], `${label} ${field}: ${JSON.stringify(g.errors)}`);
      const errors: { path: string; message: string }[] = g.errors?.[0]?.extensions?.errors ?? [];
      t.ok(errors.some((e) => e.path === field && e.message === CONTROL_CHARACTERS_MESSAGE), `${label} names ${field}: ${JSON.stringify(g.errors)}`);
    }
  }
  const args: [string, string, Record<string, unknown>][] = [
    ['freezeCustomer', 'mutation($id: ID!, $r: String) { freezeCustomer(id: $id, reason: $r) { id } }', { id: customer.id }],
    ['rejectHandoff', 'mutation($id: ID!, $r: String!) { rejectHandoff(id: $id, reason: $r) { id } }', { id: handoff.id }],
  ];
  for (const [label, query, vars] of args) {
    const g = await app.gql(boss, query, { ...vars, r: 'not\u0000ours' });
    t.same(g.codes, ['BAD_USER_INPUT'], `${label}: ${JSON.stringify(g.errors)}`);
    t.ok(errorPaths(g.errors?.[0]?.extensions?.errors).includes('reason'), `${label} names reason`);
  }
  const q = await app.gql(boss, 'query($q: String) { customers(filter: { q: $q }) { edges { node { id } } } }', { q: '\u0000' });
  t.same(q.codes, ['BAD_USER_INPUT'], JSON.stringify(q.errors));
  t.ok(errorPaths(q.errors?.[0]?.extensions?.errors).includes('filter.q'));
  t.equal(await writesBy(boss), before, 'no write of any kind');
});

t.test('dates outside 1900..9999 are refused where they come in, never a 500', async (t) => {
  const before = await writesBy(boss);
  const gets: [string, string][] = [
    ['/v1/customers?updatedAfter=0000-01-01T00:00:00Z', 'updatedAfter'],
    ['/v1/customers?updatedAfter=1899-12-31T23:59:59Z', 'updatedAfter'],
    [`/v1/customers/${customer.id}/interactions?occurredAfter=0000-01-01T00:00:00Z`, 'occurredAfter'],
    [`/v1/customers/${customer.id}/interactions?occurredBefore=0000-06-01T00:00:00%2B02:00`, 'occurredBefore'],
    [`/v1/opportunities/${opp.id}/interactions?occurredAfter=0000-01-01T00:00:00Z`, 'occurredAfter'],
    ['/v1/opportunities?expectedCloseFrom=0000-01-01', 'expectedCloseFrom'],
    ['/v1/opportunities?expectedCloseTo=0000-12-31', 'expectedCloseTo'],
    ['/v1/reports/sources?from=0000-01-01', 'from'],
    ['/v1/reports/sources?to=0000-01-01T00:00:00Z', 'to'],
    ['/v1/reports/sources?to=9999-12-31T23:00:00-05:00', 'to'],
    ['/v1/reports/conversion?from=0000-01-01', 'from'],
    ['/v1/reports/sales-performance?to=0000-01-01T00:00:00Z', 'to'],
  ];
  for (const [url, param] of gets) {
    const res = await app.rest(boss, 'GET', url);
    t.equal(res.status, 400, `${url}: ${res.raw}`);
    t.ok(isProblem(res.headers));
    // Report bounds take a day or a time: their message names both, and the same range.
    const range = DATE_RANGE_MESSAGE.replace('must be ', '');
    t.ok(res.body?.errors?.some((e: { path: string; message: string }) => e.path === param && e.message.endsWith(range)), `${url} names ${param}: ${res.raw}`);
  }
  const writes: [string, 'POST' | 'PATCH', string, Record<string, unknown>, string][] = [
    ['opportunity create', 'POST', '/v1/opportunities', { customerId: customer.id, name: `Deal ${tag()}`, expectedCloseDate: '0000-01-01' }, 'expectedCloseDate'],
    ['opportunity patch', 'PATCH', `/v1/opportunities/${opp.id}`, { expectedCloseDate: '0000-02-29' }, 'expectedCloseDate'],
    ['action create', 'POST', `/v1/opportunities/${opp.id}/actions`, { title: 'Old', dueAt: '0000-01-01T00:00:00Z' }, 'dueAt'],
    ['action patch', 'PATCH', `/v1/actions/${action.id}`, { dueAt: '9999-12-31T23:00:00-05:00' }, 'dueAt'],
    ['interaction', 'POST', `/v1/customers/${customer.id}/interactions`, { channel: 'PHONE', direction: 'INBOUND', occurredAt: '0000-01-01T00:00:00Z' }, 'occurredAt'],
    ['handoff', 'POST', `/v1/customers/${lead.id}/handoffs`, { toUnitId: c.branch.id, dueAt: '9999-12-31T23:00:00-05:00' }, 'dueAt'],
  ];
  for (const [label, method, url, body, field] of writes) {
    const res = await app.rest(boss, method, url, body);
    t.equal(res.status, 400, `${label}: ${res.raw}`);
    t.ok(errorPaths(res.body?.errors).includes(field), `${label} names ${field}: ${res.raw}`);
  }
  const gql: [string, string, Record<string, unknown>, string][] = [
    ['customers', 'query($d: DateTime) { customers(filter: { updatedAfter: $d }) { edges { node { id } } } }', { d: '0000-01-01T00:00:00Z' }, 'filter.updatedAfter'],
    ['opportunities', 'query($d: String) { opportunities(filter: { expectedCloseFrom: $d }) { edges { node { id } } } }', { d: '0000-01-01' }, 'filter.expectedCloseFrom'],
    ['sourceReport', 'query($d: DateTime) { sourceReport(from: $d) { from } }', { d: '0000-01-01' }, 'from'],
    ['createOpportunity', 'mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id } }', { i: { customerId: customer.id, name: `Deal ${tag()}`, expectedCloseDate: '0000-01-01' } }, 'input.expectedCloseDate'],
    ['createAction', 'mutation($i: CreateActionInput!) { createAction(input: $i) { id } }', { i: { opportunityId: opp.id, title: 'Old', dueAt: '0000-01-01T00:00:00Z' } }, 'input.dueAt'],
  ];
  for (const [label, query, vars, field] of gql) {
    const g = await app.gql(boss, query, vars);
    t.same(g.codes, ['BAD_USER_INPUT'], `${label}: ${JSON.stringify(g.errors)}`);
    t.ok(errorPaths(g.errors?.[0]?.extensions?.errors).includes(field), `${label} names ${field}: ${JSON.stringify(g.errors)}`);
  }
  t.equal(await writesBy(boss), before, 'no write of any kind');
  // The edges of the range are accepted.
  t.equal((await app.rest(boss, 'GET', '/v1/customers?updatedAfter=1900-01-01T00:00:00Z')).status, 200);
  t.equal((await app.rest(boss, 'GET', '/v1/opportunities?expectedCloseTo=9999-12-31')).status, 200);
  const whole = await app.rest(boss, 'GET', '/v1/reports/sources?from=1900-01-01&to=9999-12-31');
  t.equal(whole.status, 200, whole.raw);
  t.equal(whole.body.to, '9999-12-31T23:59:59.999Z', 'the whole last day, as a four-digit year');
});

t.test('every route refuses an unknown query parameter, naming it, before anything else', async (t) => {
  const doc = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  let routes = 0;
  const before = await writesBy(boss);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      const url = path.replace(/\{[^}]+\}/g, () => randomUUID());
      const m = method.toUpperCase() as 'GET';
      const res = await app.rest(boss, m, `${url}?zz=1`, m === 'GET' || m === 'DELETE' ? undefined : {});
      t.equal(res.status, 400, `${m} ${path}: ${res.raw}`);
      t.ok(isProblem(res.headers), `${m} ${path}: problem+json`);
      t.same(res.body?.errors, [{ path: 'zz', message: 'unknown query parameter' }], `${m} ${path} names zz`);
      t.equal(res.body?.in, 'querystring');
      routes++;
    }
  }
  t.ok(routes >= 60, `${routes} routes walked`);
  t.equal(await writesBy(boss), before);
});

t.test('an unknown parameter on a valid write changes nothing; declared ones still work', async (t) => {
  const mine = await created(await app.rest(boss, 'POST', '/v1/opportunities', { customerId: customer.id, name: `Dry ${tag()}` }));
  const dry = await app.rest(boss, 'POST', `/v1/opportunities/${mine.id}/transitions?dryRun=true`, { toStageKey: 'LOST', lostReason: 'price' });
  t.equal(dry.status, 400, dry.raw);
  t.same(dry.body.errors, [{ path: 'dryRun', message: 'unknown query parameter' }]);
  t.equal((await app.rest(boss, 'GET', `/v1/opportunities/${mine.id}`)).body.stageKey, mine.stageKey, 'the opportunity did not move');
  const two = await app.rest(boss, 'PATCH', `/v1/customers/${customer.id}?force=1&dryRun=true`, { industry: 'Glass' });
  t.same(errorPaths(two.body.errors), ['force', 'dryRun'], 'each unknown parameter is named');
  const name = `Dup ${tag()}`;
  t.equal((await app.rest(boss, 'POST', '/v1/customers?allowDuplicate=true', { kind: 'ORGANIZATION', name })).status, 201, 'allowDuplicate is declared');
  t.equal((await app.rest(boss, 'GET', '/v1/customers?limit=1&sort=name')).status, 200);
});

t.test('a cursor of one sort is refused with another (opportunities, actions)', async (t) => {
  for (let i = 0; i < 3; i++) {
    await created(await app.rest(boss, 'POST', '/v1/opportunities', { customerId: customer.id, name: `Sorted ${i} ${tag()}`, amount: `${100 + i}.00`, currency: 'EUR' }));
    await created(await app.rest(boss, 'POST', `/v1/customers/${customer.id}/actions`, { title: `Sorted ${i}` }));
  }
  const lists: [string, string, string[]][] = [
    ['/v1/opportunities?limit=1&sort=amount', '/v1/opportunities?limit=1', ['sort=-amount', 'sort=createdAt', 'sort=updatedAt', 'sort=expectedCloseDate', '']],
    [`/v1/customers/${customer.id}/actions?limit=1&sort=createdAt`, `/v1/customers/${customer.id}/actions?limit=1`, ['sort=-createdAt']],
  ];
  for (const [first, base, others] of lists) {
    const cursor = (await app.rest(boss, 'GET', first)).body.nextCursor;
    t.type(cursor, 'string', first);
    t.equal((await app.rest(boss, 'GET', `${first}&cursor=${cursor}`)).status, 200, 'the sort it came from');
    for (const other of others) {
      const res = await app.rest(boss, 'GET', `${base}&${other}&cursor=${cursor}`);
      t.equal(res.status, 400, `${base} ${other}: ${res.raw}`);
      t.ok(errorPaths(res.body?.errors).includes('cursor'), res.raw);
    }
  }
  const g1 = await app.gql(boss, '{ opportunities(first: 1, sort: "amount") { pageInfo { endCursor } } }');
  const after = g1.data.opportunities.pageInfo.endCursor;
  const g2 = await app.gql(boss, 'query($a: String) { opportunities(first: 1, sort: "-amount", after: $a) { edges { node { id } } } }', { a: after });
  t.same(g2.codes, ['BAD_USER_INPUT'], JSON.stringify(g2.errors));
  t.ok(errorPaths(g2.errors?.[0]?.extensions?.errors).includes('cursor'));
});
