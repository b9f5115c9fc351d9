/**
 * The access matrix for opportunities and pipelines: every route and GraphQL field × every built-in
 * role × where the opportunity sits relative to the caller (own, same unit, subtree, sibling partner,
 * elsewhere, delegated). Expectations come from the pure model in ./model.ts: an opportunity is a
 * record with its own ownerUserId/ownerUnitId, judged by the same one rule as a customer.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../src/db/client.js';
import { applyExternalIds } from '../../src/lib/external-ids.js';
import type { CreateCustomerInput } from '../../src/modules/customers/customers.schemas.js';
import { loadPrincipal } from '../../src/modules/org/principal.repository.js';
import { buildTestApp, type User } from '../helpers/app.js';
import { defaultPipeline, opportunity } from '../helpers/factories.js';
import { BUILT_IN, BUILT_IN_NAMES, canAct, expectOnRecord, grants, type MRecord, type MRole, type MUser, onBehalfOf, reach, seesUser, type Status, visibleIds } from './model.js';
import { CALLERS, type Caller, matrixWorld, type Placed, POSITIONS } from './matrix-world.js';

const app = await buildTestApp();
t.teardown(() => app.close());

// The model's roles speak of customers; opportunities are granted exactly as customers are (read,
// create, update), and pipelines:read is held by every role but service. The test below checks this
// against the roles the service ships.
const PIPELINE_READERS = new Set(['admin', 'executive', 'manager', 'marketing', 'sales', 'partner_manager', 'partner_sales', 'integration']);
const roleFor = (name: string): MRole => {
  const base = BUILT_IN[name];
  if (!base) throw new Error(name);
  const opp = base.permissions.filter((p) => /^customers:(read|create|update)$/.test(p)).map((p) => p.replace('customers:', 'opportunities:'));
  const pipes = name === 'admin' ? ['pipelines:read', 'pipelines:create', 'pipelines:update'] : PIPELINE_READERS.has(name) ? ['pipelines:read'] : [];
  return { ...base, permissions: [...base.permissions, ...opp, ...pipes] };
};

const admin = await app.admin();
const adminP = await loadPrincipal(app.db, admin.id);
if (!adminP) throw new Error('no admin principal');
const defaultPl = await defaultPipeline(app, admin);

let serial = 0;
async function customerOf(owner: User): Promise<string> {
  const c = await app.app.services.customers.create(adminP!, { kind: 'ORGANIZATION', name: `omx ${randomUUID().slice(0, 8)} ${++serial}`, ownerUserId: owner.id } as CreateCustomerInput, { allowDuplicate: true });
  return c.id;
}

type Rec = MRecord & { customerId: string };
const allRecords: Rec[] = [];
// An opportunity owned by `owner`, on a customer of the same owner, in the first stage; the admin makes both.
async function oppOf(owner: User, track = true): Promise<Rec> {
  const customerId = await customerOf(owner);
  const row = await opportunity(app, admin, customerId, { name: `omx opp ${++serial}`, ownerUserId: owner.id });
  const rec = { id: row.id, ownerUserId: row.ownerUserId, ownerUnitId: row.ownerUnitId, customerId };
  if (track) allRecords.push(rec);
  return rec;
}

type Target = Placed<Rec>;
// Units, callers, positions and delegations: the world the record matrices share (./matrix-world.ts).
// Each caller also owns a customer, to open opportunities on.
const ownCustomer = new Map<string, string>();
const { MY_UNITS, caller, target, world } = await matrixWorld(app, {
  roleFor,
  recordOf: (owner) => oppOf(owner),
  perCaller: async (name, user) => {
    ownCustomer.set(name, await customerOf(user));
  },
});
// Every opportunity of the world carries an ERP id, for the routes that find a record by it.
const extId = (rec: Rec) => `omx-${rec.id}`;
for (const rec of allRecords) await applyExternalIds(app.db, 'opportunity', rec.id, { erp: extId(rec) });

/** Opening an opportunity for `owner`: the create rule of the model, with opportunities:create. */
function expectCreate(user: MUser, owner: { id: string; unitId: string }): Status {
  if (reach(world, user, 'opportunities:create') === null) return 403;
  if (!seesUser(world, user, owner)) return 400;
  return canAct(world, user, { id: 'new', ownerUserId: owner.id, ownerUnitId: owner.unitId }, 'opportunities:create') ? 201 : 403;
}
/** Opening one on the position's customer (owner: the caller): a customer out of sight is an unknown id. */
function expectCreateOn(user: MUser, customer: MRecord): Status {
  if (reach(world, user, 'opportunities:create') === null) return 403;
  if (expectOnRecord(world, user, customer, 'customers:read', 200) === 404) return 400;
  return 201;
}
const permitted = (c: Caller, perm: string, ok: Status): Status => (c.m.roles.some((r) => grants(r.permissions, perm)) ? ok : 403);

type Outcome = { status: number; entityId?: string | undefined; detail?: string | undefined };
const CODE_STATUS: Record<string, number> = { NOT_FOUND: 404, FORBIDDEN: 403, BAD_USER_INPUT: 400, CONFLICT: 409, PRECONDITION_FAILED: 412 };
async function gql(c: Caller, query: string, variables: Record<string, unknown>, ok: number, pick: (d: any) => string | undefined): Promise<Outcome> {
  const r = await app.gql(c.user, query, variables);
  if (r.errors?.length) return { status: CODE_STATUS[r.codes[0] as string] ?? 500, detail: JSON.stringify(r.errors) };
  return { status: ok, entityId: pick(r.data) };
}
async function rest(c: Caller, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown): Promise<Outcome> {
  const r = await app.rest(c.user, method, url, body);
  return { status: r.status, entityId: r.body?.id, detail: r.status >= 400 ? r.raw : undefined };
}

async function restPut(c: Caller, url: string, body: unknown): Promise<Outcome> {
  const r = await app.rest(c.user, 'PUT', url, body);
  return { status: r.status, entityId: r.body?.id, detail: r.status >= 400 ? r.raw : undefined };
}
/** An upsert finds the record by its id: one out of sight is a conflict that names nothing; one in sight is patched. */
const expectUpsert = (c: Caller, tg: Target): Status =>
  expectOnRecord(world, c.m, tg.record, 'opportunities:read', 200) === 404 ? 409 : expectOnRecord(world, c.m, tg.record, 'opportunities:update', 200);

type Row = {
  route: string;
  label?: string;
  expect: (c: Caller, tg: Target) => Status;
  ok: Status;
  prepare?: (tg: Target) => Promise<Rec>;
  call: (c: Caller, tg: Target, prepared: Rec | undefined) => Promise<Outcome>;
  // The entity whose newest audit row a success must leave, and whom it must name as on-behalf-of.
  audited?: (tg: Target, prepared: Rec | undefined, out: Outcome) => { entityId: string | undefined; rec: MRecord };
};
const onRecord = (perm: string, ok: Status) => (c: Caller, tg: Target) => expectOnRecord(world, c.m, tg.record, perm, ok);
const lose = { toStageKey: 'LOST', lostReason: 'matrix' };
const freshAt = (tg: Target) => oppOf(tg.owner, false);
const pipelineBody = () => ({
  name: `omx pipeline ${++serial}`,
  stages: [
    { key: 'OPEN', name: 'Open', probability: 10 },
    { key: 'WON', name: 'Won', probability: 100, outcome: 'WON' },
    { key: 'LOST', name: 'Lost', probability: 0, outcome: 'LOST' },
  ],
});
const pipelineGql = `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }`;

// prettier-ignore
const ROWS: Row[] = [
  { route: 'GET /v1/opportunities/:id', ok: 200, expect: onRecord('opportunities:read', 200),
    call: (c, tg) => rest(c, 'GET', `/v1/opportunities/${tg.record.id}`) },
  { route: 'GET /v1/opportunities/:id/transitions', ok: 200, expect: onRecord('opportunities:read', 200),
    call: (c, tg) => rest(c, 'GET', `/v1/opportunities/${tg.record.id}/transitions`) },
  { route: 'graphql Query.opportunity', ok: 200, expect: onRecord('opportunities:read', 200),
    call: (c, tg) => gql(c, 'query($id: ID!) { opportunity(id: $id) { id stage { key } transitions { id } } }', { id: tg.record.id }, 200, (d) => d.opportunity?.id) },
  { route: 'PATCH /v1/opportunities/:id', ok: 200, expect: onRecord('opportunities:update', 200),
    call: (c, tg) => rest(c, 'PATCH', `/v1/opportunities/${tg.record.id}`, { name: `omx renamed ${++serial}` }),
    audited: (tg) => ({ entityId: tg.record.id, rec: tg.record }) },
  { route: 'graphql Mutation.updateOpportunity', ok: 200, expect: onRecord('opportunities:update', 200),
    call: (c, tg) => gql(c, 'mutation($id: ID!, $n: String) { updateOpportunity(id: $id, input: { name: $n }) { id } }', { id: tg.record.id, n: `omx g ${++serial}` }, 200, (d) => d.updateOpportunity?.id),
    audited: (tg) => ({ entityId: tg.record.id, rec: tg.record }) },
  { route: 'POST /v1/opportunities/:id/transitions', ok: 201, expect: onRecord('opportunities:update', 201), prepare: freshAt,
    call: (c, _, p) => rest(c, 'POST', `/v1/opportunities/${p?.id}/transitions`, lose),
    audited: (_, p) => ({ entityId: p?.id, rec: p as MRecord }) },
  { route: 'graphql Mutation.transitionOpportunity', ok: 201, expect: onRecord('opportunities:update', 201), prepare: freshAt,
    call: (c, _, p) => gql(c, 'mutation($id: ID!, $i: StageTransitionInput!) { transitionOpportunity(id: $id, input: $i) { id } }', { id: p?.id, i: lose }, 201, (d) => d.transitionOpportunity?.id),
    audited: (_, p) => ({ entityId: p?.id, rec: p as MRecord }) },
  { route: 'POST /v1/opportunities', label: "ownerUserId = the position's owner", ok: 201, expect: (c, tg) => expectCreate(c.m, tg.owner),
    call: (c, tg) => rest(c, 'POST', '/v1/opportunities', { customerId: ownCustomer.get(c.name), name: `omx new ${++serial}`, ownerUserId: tg.owner.id }),
    audited: (tg, _, out) => ({ entityId: out.entityId, rec: { id: 'new', ownerUserId: tg.owner.id, ownerUnitId: tg.owner.unitId } }) },
  { route: 'graphql Mutation.createOpportunity', label: "ownerUserId = the position's owner", ok: 201, expect: (c, tg) => expectCreate(c.m, tg.owner),
    call: (c, tg) => gql(c, 'mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id } }', { i: { customerId: ownCustomer.get(c.name), name: `omx g new ${++serial}`, ownerUserId: tg.owner.id } }, 201, (d) => d.createOpportunity?.id),
    audited: (tg, _, out) => ({ entityId: out.entityId, rec: { id: 'new', ownerUserId: tg.owner.id, ownerUnitId: tg.owner.unitId } }) },
  { route: 'POST /v1/opportunities', label: "on the position's customer", ok: 201, expect: (c, tg) => expectCreateOn(c.m, { id: tg.record.customerId, ownerUserId: tg.owner.id, ownerUnitId: tg.owner.unitId }),
    call: (c, tg) => rest(c, 'POST', '/v1/opportunities', { customerId: tg.record.customerId, name: `omx on ${++serial}` }) },
  // By the ERP's id: read like by id; an upsert of an id held by an opportunity out of sight is refused without naming it (409).
  { route: 'GET /v1/opportunities/external/:system/:externalId', ok: 200, expect: onRecord('opportunities:read', 200),
    call: (c, tg) => rest(c, 'GET', `/v1/opportunities/external/erp/${extId(tg.record)}`) },
  { route: 'graphql Query.opportunityByExternalId', ok: 200, expect: onRecord('opportunities:read', 200),
    call: (c, tg) => gql(c, 'query($x: String!) { opportunityByExternalId(system: "erp", externalId: $x) { id } }', { x: extId(tg.record) }, 200, (d) => d.opportunityByExternalId?.id) },
  { route: 'PUT /v1/opportunities/external/:system/:externalId', ok: 200, expect: expectUpsert,
    call: (c, tg) => restPut(c, `/v1/opportunities/external/erp/${extId(tg.record)}`, { name: `omx ext ${++serial}` }),
    audited: (tg) => ({ entityId: tg.record.id, rec: tg.record }) },
  { route: 'graphql Mutation.upsertOpportunityByExternalId', ok: 200, expect: expectUpsert,
    call: (c, tg) => gql(c, 'mutation($x: String!, $i: UpsertOpportunityInput!) { upsertOpportunityByExternalId(system: "erp", externalId: $x, input: $i) { status opportunity { id } } }', { x: extId(tg.record), i: { name: `omx g ext ${++serial}` } }, 200, (d) => d.upsertOpportunityByExternalId?.opportunity?.id),
    audited: (tg) => ({ entityId: tg.record.id, rec: tg.record }) },
  // Pipelines: configuration, the same for every position.
  { route: 'GET /v1/pipelines', ok: 200, expect: (c) => permitted(c, 'pipelines:read', 200), call: (c) => rest(c, 'GET', '/v1/pipelines') },
  { route: 'GET /v1/pipelines/:id', ok: 200, expect: (c) => permitted(c, 'pipelines:read', 200), call: (c) => rest(c, 'GET', `/v1/pipelines/${defaultPl.id}`) },
  { route: 'graphql Query.pipelines', ok: 200, expect: (c) => permitted(c, 'pipelines:read', 200), call: (c) => gql(c, '{ pipelines { id } }', {}, 200, () => undefined) },
  { route: 'graphql Query.pipeline', ok: 200, expect: (c) => permitted(c, 'pipelines:read', 200), call: (c) => gql(c, 'query($id: ID!) { pipeline(id: $id) { id } }', { id: defaultPl.id }, 200, () => undefined) },
  { route: 'POST /v1/pipelines', ok: 201, expect: (c) => permitted(c, 'pipelines:create', 201), call: (c) => rest(c, 'POST', '/v1/pipelines', pipelineBody()) },
  { route: 'graphql Mutation.createPipeline', ok: 201, expect: (c) => permitted(c, 'pipelines:create', 201), call: (c) => gql(c, pipelineGql, { i: pipelineBody() }, 201, (d) => d.createPipeline?.id) },
  { route: 'PATCH /v1/pipelines/:id', ok: 200, expect: (c) => permitted(c, 'pipelines:update', 200), call: (c) => rest(c, 'PATCH', `/v1/pipelines/${defaultPl.id}`, { name: defaultPl.name }) },
  { route: 'graphql Mutation.updatePipeline', ok: 200, expect: (c) => permitted(c, 'pipelines:update', 200),
    call: (c) => gql(c, 'mutation($id: ID!, $n: String) { updatePipeline(id: $id, input: { name: $n }) { id } }', { id: defaultPl.id, n: defaultPl.name }, 200, () => undefined) },
];
const PER_CALLER = new Set(['GET /v1/pipelines', 'GET /v1/pipelines/:id', 'graphql Query.pipelines', 'graphql Query.pipeline', 'POST /v1/pipelines', 'graphql Mutation.createPipeline', 'PATCH /v1/pipelines/:id', 'graphql Mutation.updatePipeline']);
const LIST_ROUTES = ['GET /v1/opportunities', 'graphql Query.opportunities'];

t.test('every opportunity and pipeline route and GraphQL field has a row', async (t) => {
  const covered = new Set([...ROWS.map((r) => r.route), ...LIST_ROUTES]);
  const served = app.app.printRoutes({ commonPrefix: false });
  const want = ['GET /v1/opportunities', 'POST /v1/opportunities', 'GET /v1/opportunities/:id', 'PATCH /v1/opportunities/:id', 'GET /v1/opportunities/:id/transitions', 'POST /v1/opportunities/:id/transitions', 'GET /v1/pipelines', 'POST /v1/pipelines', 'GET /v1/pipelines/:id', 'PATCH /v1/pipelines/:id'];
  t.same(want.filter((r) => !covered.has(r)), [], 'REST routes without a row');
  t.ok(served.includes('opportunities') && served.includes('pipelines'), 'the routes are served');
  const intro = await app.gql(admin, '{ __schema { queryType { fields { name } } mutationType { fields { name } } } }');
  const fields = [
    ...intro.data.__schema.queryType.fields.map((f: { name: string }) => `graphql Query.${f.name}`),
    ...intro.data.__schema.mutationType.fields.map((f: { name: string }) => `graphql Mutation.${f.name}`),
  ];
  t.same(fields.filter((f) => /opportunit|pipeline/i.test(f) && !covered.has(f)), [], 'GraphQL root fields without a row');
});

t.test("the model's opportunity and pipeline permissions are the ones the service ships", async (t) => {
  const rows = await queryRows<{ name: string; permissions: string[] }>(app.db, sql`SELECT name, permissions FROM roles WHERE built_in`);
  const universe = ['opportunities:read', 'opportunities:create', 'opportunities:update', 'pipelines:read', 'pipelines:create', 'pipelines:update'];
  for (const name of BUILT_IN_NAMES) {
    const shipped = rows.find((r) => r.name === name);
    if (!shipped) {
      t.fail(`role ${name} missing`);
      continue;
    }
    t.same(universe.filter((p) => grants(shipped.permissions, p)), universe.filter((p) => grants(roleFor(name).permissions, p)), name);
  }
});

for (const row of ROWS) {
  t.test(`${row.route}${row.label ? ` (${row.label})` : ''}`, async (t) => {
    const want: Record<string, Record<string, number>> = {};
    const got: Record<string, Record<string, number>> = {};
    const details: string[] = [];
    const auditMismatches: string[] = [];
    for (const name of CALLERS) {
      const c = caller(name);
      want[name] = {};
      got[name] = {};
      for (const pos of PER_CALLER.has(row.route) ? (['own'] as const) : POSITIONS) {
        const tg = target(name, pos);
        const prepared = row.prepare ? await row.prepare(tg) : undefined;
        const out = await row.call(c, tg, prepared);
        const exp = row.expect(c, tg);
        want[name][pos] = exp;
        got[name][pos] = out.status;
        if (out.status !== exp && out.detail) details.push(`${name}/${pos}: ${out.detail.slice(0, 300)}`);
        if (out.status === row.ok && row.audited) {
          const { entityId, rec } = row.audited(tg, prepared, out);
          const [a] = await queryRows<{ actor_id: string; on_behalf_of_id: string | null }>(app.db, sql`SELECT actor_id, on_behalf_of_id FROM audit_log WHERE entity_id = ${entityId ?? null} ORDER BY id DESC LIMIT 1`);
          const wantBehalf = onBehalfOf(world, c.m, rec);
          if (!a || a.actor_id !== c.user.id || a.on_behalf_of_id !== wantBehalf) auditMismatches.push(`${name}/${pos}: ${JSON.stringify(a)} want behalf ${wantBehalf}`);
        }
      }
    }
    t.same(got, want, details.length ? details.join('\n') : 'status per caller and position');
    t.same(auditMismatches, [], 'every successful write is audited with actor and on-behalf-of');
  });
}

t.test('lists: each caller sees exactly the model’s visible set', async (t) => {
  const mine = new Set(allRecords.map((r) => r.id));
  const ours = (ids: string[]) => ids.filter((id) => mine.has(id)).sort();
  for (const name of CALLERS) {
    const c = caller(name);
    // The model judges visibility by customers:read, which every role grants exactly as opportunities:read (checked above).
    const want = visibleIds(world, c.m, allRecords);
    const restIds: string[] = [];
    const gqlIds: string[] = [];
    for (const u of MY_UNITS) {
      let cursor: string | null = null;
      do {
        const res = await app.rest(c.user, 'GET', `/v1/opportunities?ownerUnitId=${u.id}&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        if (res.status !== 200) throw new Error(`${name}: ${res.raw}`);
        restIds.push(...res.body.data.map((x: { id: string }) => x.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      let after: string | null = null;
      do {
        const r = await app.gql(c.user, 'query($f: OpportunityFilter, $a: String) { opportunities(filter: $f, first: 4, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }', { f: { ownerUnitId: u.id }, a: after });
        if (r.errors?.length) throw new Error(`${name}: ${JSON.stringify(r.errors)}`);
        gqlIds.push(...r.data.opportunities.edges.map((e: { node: { id: string } }) => e.node.id));
        after = r.data.opportunities.pageInfo.hasNextPage ? r.data.opportunities.pageInfo.endCursor : null;
      } while (after);
    }
    t.same(ours(restIds), want, `${name}: GET /v1/opportunities`);
    t.same(ours(gqlIds), want, `${name}: GraphQL opportunities`);
  }
});
