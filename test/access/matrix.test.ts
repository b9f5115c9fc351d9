/**
 * The access matrix: every customer and contact route (REST and GraphQL) × every built-in role (and
 * one partner user holding a custom ALL role) × where the record sits relative to the caller. The
 * expected answer of every cell comes from the pure model in ./model.ts; AT_A_GLANCE restates the
 * heart of it by hand so a reviewer can read the rule without reading code.
 *
 * A route added under /v1/customers, /v1/contacts, /v1/claims or /v1/allocation-rules (or a GraphQL
 * root field about customers, contacts, claims or allocation) without a row here fails the first test.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../src/db/client.js';
import type { CreateCustomerInput } from '../../src/modules/customers/customers.schemas.js';
import { loadPrincipal } from '../../src/modules/org/principal.repository.js';
import { buildTestApp, type Unit, type User } from '../helpers/app.js';
import { contact, customRole, delegation, lifecycleMove, share as shareWith } from '../helpers/factories.js';
import {
  BUILT_IN,
  BUILT_IN_NAMES,
  canAct,
  canRead,
  expectCreate,
  expectCreateRule,
  expectOnClaim,
  expectOnRecord,
  expectOnRecords,
  expectOnRule,
  expectReassign,
  grants,
  type MRecord,
  type MRole,
  type MShare,
  type MUnit,
  type MUser,
  onBehalfOf,
  type Status,
  type UnitKind,
  visibleIds,
  type World,
} from './model.js';

// Every route × caller × position: more than the runner's default time on a shared machine.
t.setTimeout(900_000);
const app = await buildTestApp();
t.teardown(() => app.close());

// Every name this file gives a customer starts with TOKEN, so `q` finds exactly this file's records.
const TOKEN = `mx${randomUUID().replace(/-/g, '').slice(0, 10)}`;
let serial = 0;
const nextName = (label: string) => `${TOKEN} ${label} ${++serial}`;

// ---------------------------------------------------------------------------------------------
// The company: one region with a branch (and a department below it) and two partners (the first
// with a sub-unit), and a second region elsewhere.
//
//   Headquarters
//   ├── R1 (REGION)
//   │   ├── B (BRANCH)        ← home of the company's callers
//   │   │   └── D (DEPARTMENT)
//   │   ├── P1 (PARTNER)      ← home of the partner's callers
//   │   │   └── P1s (DEPARTMENT)
//   │   └── P2 (PARTNER)      ← the sibling partner
//   └── R2 (REGION)
//       └── B2 (BRANCH)       ← elsewhere
// ---------------------------------------------------------------------------------------------

const root = await app.root();
const R1 = await app.unit('REGION');
const B = await app.unit('BRANCH', R1);
const D = await app.unit('DEPARTMENT', B);
const P1 = await app.unit('PARTNER', R1);
const P1s = await app.unit('DEPARTMENT', P1);
const P2 = await app.unit('PARTNER', R1);
const R2 = await app.unit('REGION');
const B2 = await app.unit('BRANCH', R2);
const MY_UNITS = [R1, B, D, P1, P1s, P2, R2, B2];

// A partner user given an ALL-scope role behind the API's back (the API refuses to give it; app.user
// does not ask): the clamp must still hold.
const wide = await customRole(app, 'ALL', ['customers:*', 'contacts:*']);
const WIDE_ROLE: MRole = { name: wide.name, scope: 'ALL', permissions: wide.permissions };

// Every built-in role, and the partner user with the custom ALL role.
const CALLERS = ['admin', 'executive', 'manager', 'marketing', 'sales', 'service', 'partner_manager', 'partner_sales', 'integration', 'partner_all'] as const;
type CallerName = (typeof CALLERS)[number];
const ROLE_OF: Record<string, MRole> = { ...BUILT_IN, partner_all: WIDE_ROLE };
const PARTNER_SIDE = new Set<string>(['partner_manager', 'partner_sales', 'partner_all']);
const homeOf = (name: string) => (PARTNER_SIDE.has(name) ? 'partner' : 'company');

type Caller = { name: string; user: User; m: MUser };
const callers = new Map<string, Caller>();
for (const name of CALLERS) {
  const role = ROLE_OF[name];
  if (!role) throw new Error(`no role for ${name}`);
  const user = await app.user(homeOf(name) === 'partner' ? P1 : B, [role.name]);
  callers.set(name, { name, user, m: { id: user.id, unitId: user.unitId, roles: [role] } });
}
const caller = (name: string): Caller => {
  const c = callers.get(name);
  if (!c) throw new Error(`no caller ${name}`);
  return c;
};

const home = {
  company: { unit: B, colleague: await app.user(B, ['sales']), below: await app.user(D, ['sales']) },
  partner: { unit: P1, colleague: await app.user(P1, ['partner_sales']), below: await app.user(P1s, ['partner_sales']) },
};
const p2User = await app.user(P2, ['partner_sales']);
const b2User = await app.user(B2, ['sales']);

// Records are made by the bootstrap admin for their owners, so every caller (even one that may not
// create) has its own records.
const admin = await app.admin();
const adminPrincipal = await (async () => {
  const p = await loadPrincipal(app.db, admin.id);
  if (!p) throw new Error('no admin principal');
  return p;
})();

type Rec = MRecord & { contactId: string };
const allRecords: Rec[] = [];

async function customerOwnedBy(owner: User, label: string): Promise<MRecord> {
  const input = { kind: 'ORGANIZATION', name: nextName(label), ownerUserId: owner.id } as CreateCustomerInput;
  const c = await app.app.services.customers.create(adminPrincipal, input, { allowDuplicate: true });
  return { id: c.id, ownerUserId: c.ownerUserId, ownerUnitId: c.ownerUnitId };
}

async function contactOn(customerId: string): Promise<string> {
  return (await contact(app, admin, customerId, { name: `Contact ${++serial}` })).id;
}

async function record(owner: User, label: string): Promise<Rec> {
  const r = await customerOwnedBy(owner, label);
  const rec = { ...r, contactId: await contactOn(r.id) };
  allRecords.push(rec);
  return rec;
}

async function share(rec: Rec, to: { toUnitId: string } | { toUserId: string }): Promise<MShare> {
  await shareWith(app, rec.id, to, admin);
  return { recordId: rec.id, ...to };
}

const POSITIONS = ['own', 'sameUnit', 'subtree', 'siblingPartner', 'elsewhere', 'sharedToUnit', 'sharedToUser', 'delegated'] as const;
type Position = (typeof POSITIONS)[number];
type Target = { record: Rec; owner: User };

const shares: MShare[] = [];
const activeDelegations: { fromUserId: string; toUserId: string }[] = [];
const hour = 3600_000;

const siblingPartnerRec = await record(p2User, 'sibling-partner');
const elsewhereRec = await record(b2User, 'elsewhere');
// The positions shared by every caller of one home unit.
async function homeTargets(side: 'company' | 'partner') {
  const h = home[side];
  const sharedToUnit = await record(b2User, `shared-to-${side}-unit`);
  shares.push(await share(sharedToUnit, { toUnitId: h.unit.id }));
  return {
    sameUnit: { record: await record(h.colleague, `${side}-same-unit`), owner: h.colleague },
    subtree: { record: await record(h.below, `${side}-subtree`), owner: h.below },
    sharedToUnit: { record: sharedToUnit, owner: b2User },
  };
}
const perHome = { company: await homeTargets('company'), partner: await homeTargets('partner') };

const targets = new Map<string, Record<Position, Target>>();
for (const name of CALLERS) {
  const c = caller(name);
  const side = homeOf(name);
  const sharedToUser = await record(b2User, `shared-to-${name}`);
  shares.push(await share(sharedToUser, { toUserId: c.user.id }));
  // A delegation never crosses a partner boundary: the partner's delegator sits inside the partner.
  const delegator = side === 'partner' ? await app.user(P1s, ['partner_sales']) : await app.user(B2, ['sales']);
  const delegated = await record(delegator, `delegated-to-${name}`);
  // The delegator need not see the caller (another region, or its own scope only): the admin arranges it.
  await delegation(app, delegator, c.user, { by: admin });
  activeDelegations.push({ fromUserId: delegator.id, toUserId: c.user.id });
  targets.set(name, {
    own: { record: await record(c.user, `own-${name}`), owner: c.user },
    sameUnit: perHome[side].sameUnit,
    subtree: perHome[side].subtree,
    siblingPartner: { record: siblingPartnerRec, owner: p2User },
    elsewhere: { record: elsewhereRec, owner: b2User },
    sharedToUnit: perHome[side].sharedToUnit,
    sharedToUser: { record: sharedToUser, owner: b2User },
    delegated: { record: delegated, owner: delegator },
  });
}
const target = (name: string, pos: Position): Target => {
  const tg = targets.get(name)?.[pos];
  if (!tg) throw new Error(`no target ${name}/${pos}`);
  return tg;
};

const toModelUnit = (u: Unit, parent: Unit | null): MUnit => ({ id: u.id, parentId: parent?.id ?? null, kind: u.kind as UnitKind });
const world: World = {
  units: new Map(
    [
      toModelUnit(root, null),
      toModelUnit(R1, root),
      toModelUnit(B, R1),
      toModelUnit(D, B),
      toModelUnit(P1, R1),
      toModelUnit(P1s, P1),
      toModelUnit(P2, R1),
      toModelUnit(R2, root),
      toModelUnit(B2, R2),
    ].map((u) => [u.id, u]),
  ),
  shares,
  delegations: activeDelegations,
};

// ---------------------------------------------------------------------------------------------
// The rule at a glance, by hand: what each caller may do with a customer in each position.
//   W = sees it and may update it (200)   R = sees it, may not update it (403)   - = invisible (404)
// ---------------------------------------------------------------------------------------------
// prettier-ignore
const AT_A_GLANCE: Record<CallerName, string> = {
  //                own sameUnit subtree siblingPartner elsewhere sharedToUnit sharedToUser delegated
  admin:           'W   W        W       W              W         W            W            W',
  executive:       'R   R        R       R              R         R            R            R',
  manager:         'W   W        W       -              -         R            R            W',
  marketing:       'W   W        W       -              -         R            R            W',
  sales:           'W   -        -       -              -         R            R            W',
  service:         'W   W        -       -              -         R            R            W',
  partner_manager: 'W   W        W       -              -         R            R            W',
  partner_sales:   'W   -        -       -              -         R            R            W',
  integration:     'W   W        W       W              W         W            W            W',
  // A partner user with a custom ALL role: clamped to its partner's subtree.
  partner_all:     'W   W        W       -              -         R            R            W',
};

type Outcome = { status: number; entityId?: string | undefined; detail?: string | undefined };

// GraphQL answers in error codes; the matrix speaks HTTP statuses.
const CODE_STATUS: Record<string, number> = { NOT_FOUND: 404, FORBIDDEN: 403, BAD_USER_INPUT: 400, CONFLICT: 409, PRECONDITION_FAILED: 412 };
async function gql(c: Caller, query: string, variables: Record<string, unknown>, ok: number, pick: (data: any) => string | undefined): Promise<Outcome> {
  const r = await app.gql(c.user, query, variables);
  if (r.errors?.length) return { status: CODE_STATUS[r.codes[0] as string] ?? 500, detail: JSON.stringify(r.errors) };
  return { status: ok, entityId: pick(r.data) };
}
async function rest(c: Caller, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<Outcome> {
  const r = await app.rest(c.user, method, url, body);
  return { status: r.status, entityId: r.body?.id, detail: r.status >= 400 ? r.raw : undefined };
}

// Each cell starts from the same state: the admin sets it through the API before the call.
async function asAdmin(id: string): Promise<{ status: string; lifecycleStage: string }> {
  const res = await app.rest(admin, 'GET', `/v1/customers/${id}`);
  if (res.status !== 200) throw new Error(`the admin cannot read ${id}: ${res.raw}`);
  return res.body;
}

async function setStatus(id: string, status: 'ACTIVE' | 'FROZEN'): Promise<void> {
  if ((await asAdmin(id)).status === status) return;
  const res = await app.rest(admin, 'POST', `/v1/customers/${id}/${status === 'FROZEN' ? 'freeze' : 'unfreeze'}`, {});
  if (res.status !== 200) throw new Error(`could not make ${id} ${status}: ${res.raw}`);
}

// Also active again: a freeze row may have left the record frozen for callers who could not unfreeze it.
async function setStage(id: string, lifecycleStage: 'SUSPECT' | 'PROSPECT'): Promise<void> {
  await setStatus(id, 'ACTIVE');
  if ((await asAdmin(id)).lifecycleStage !== lifecycleStage) await lifecycleMove(app, admin, id, lifecycleStage, 'reset between matrix cells');
}

// A pending handoff opens its customer to the receiving unit: close whatever the call made. No
// API closes a handoff without moving the customer (accept and reject give it a new owner), and
// the next cells need the owner unchanged, so the matrix closes it in the table.
async function closingHandoffs(customerId: string, call: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await call();
  } finally {
    await app.db.execute(sql`UPDATE handoffs SET status = 'REJECTED', reason = 'closed by the matrix' WHERE customer_id = ${customerId} AND status = 'PENDING'`);
  }
}

/**
 * One row per route (or GraphQL root field). `on` says what varies with the position: the record
 * acted on, the owner a new record is created for, or nothing (the caller's own default).
 * `audited` names the entity whose audit row a successful call must leave.
 */
type Row = {
  route: string;
  label?: string;
  on: 'record' | 'owner' | 'caller';
  permission: string;
  ok: Status;
  audited?: 'customer' | 'response' | 'prepared' | 'contact';
  prepare?: (c: Caller, tg: Target) => Promise<string | undefined>;
  call: (c: Caller, tg: Target, prepared: string | undefined) => Promise<Outcome>;
  // When the answer is not the plain rule for `on` (see expected() below).
  expect?: (c: Caller, tg: Target) => Status;
  // Whom the audit row must name as on-behalf-of, when not the owner of the record written.
  behalf?: (c: Caller, tg: Target) => string | null;
  // A successful call that changes nothing writes nothing (no audit row to look for).
  noOp?: (c: Caller, tg: Target) => boolean;
};

const createBody = (owner?: User) => ({ kind: 'ORGANIZATION', name: nextName('created'), ...(owner ? { ownerUserId: owner.id } : {}) });
const ownedByCaller = (c: Caller): MRecord => ({ id: 'dup', ownerUserId: c.user.id, ownerUnitId: c.user.unitId });
const dupOwnedBy = async (c: Caller) => (await customerOwnedBy(c.user, `dup-for-${c.name}`)).id;

// The built-in roles holding claims:create (the custom partner_all role holds only customers and contacts).
const CLAIM_CREATORS = new Set(['admin', 'manager', 'marketing', 'sales', 'partner_manager', 'partner_sales']);
async function withdrawClaim(out: Outcome): Promise<Outcome> {
  if (out.status === 201 && out.entityId) await app.db.execute(sql`DELETE FROM claims WHERE id = ${out.entityId}::uuid`);
  return out;
}

// Claims at each position: a PENDING claim by the position's owner (its unit the claimant unit) on the
// position's customer. It is made in the table, since the owner may hold no claims:create, fresh for
// every cell, and removed right after the call, so no cell leaves a claim behind for the next (one
// pending claim per unit, one approved per customer, and the claim rows above start from none).
const claimOf = (tg: Target): MRecord => ({ id: `claim-of-${tg.record.id}`, ownerUserId: tg.owner.id, ownerUnitId: tg.owner.unitId });
async function pendingClaim(tg: Target): Promise<string> {
  await app.db.execute(sql`DELETE FROM claims WHERE customer_id = ${tg.record.id}::uuid`);
  const [row] = await queryRows<{ id: string }>(
    app.db,
    sql`INSERT INTO claims (customer_id, claimant_user_id, claimant_unit_id, note) VALUES (${tg.record.id}::uuid, ${tg.owner.id}::uuid, ${tg.owner.unitId}::uuid, 'registered for the matrix') RETURNING id`,
  );
  if (!row) throw new Error('no claim made');
  return row.id;
}
async function onClaim(claimId: string | undefined, call: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await call();
  } finally {
    await app.db.execute(sql`DELETE FROM claims WHERE id = ${claimId ?? null}::uuid`);
  }
}
// A list answers 200 with the position's claim in it, or without it (404: for this caller it does not exist).
const listed = (out: Outcome, ids: string[], id: string | undefined): Outcome => (out.status === 200 ? { ...out, status: id && ids.includes(id) ? 200 : 404 } : out);

// Allocation rules at each position: a rule targeting the unit of the position's owner. They are
// inactive and match a region no customer has, so they never route a lead (the allocate rows above
// and every create stay untouched). One rule per target unit serves the reads and updates; a create
// or delete row makes and removes its own.
const ruleBody = (unitId: string) => ({ name: nextName('rule'), order: 900_000, active: false, match: { region: TOKEN }, target: { unitId }, strategy: 'FIXED' });
async function ruleAt(unitId: string): Promise<string> {
  const res = await app.rest(admin, 'POST', '/v1/allocation-rules', ruleBody(unitId));
  if (res.status !== 201) throw new Error(`could not make a rule at ${unitId}: ${res.raw}`);
  return res.body.id;
}
const rulesByUnit = new Map<string, string>();
async function ruleOf(tg: Target): Promise<string> {
  const unitId = tg.owner.unitId;
  const known = rulesByUnit.get(unitId);
  if (known) return known;
  const id = await ruleAt(unitId);
  rulesByUnit.set(unitId, id);
  return id;
}
async function removingRule(call: () => Promise<Outcome>): Promise<Outcome> {
  const out = await call();
  if ((out.status === 201 || out.status === 200) && out.entityId) await app.db.execute(sql`DELETE FROM allocation_rules WHERE id = ${out.entityId}::uuid`);
  return out;
}
const onRule = (permission: string, ok: Status) => (c: Caller, tg: Target) => expectOnRule(world, c.m, tg.owner.unitId, permission, ok);
/** Every id of a rule list (REST or GraphQL), inactive ones, following the cursor to the end; or the refusal. */
async function ruleIds(c: Caller, door: 'rest' | 'graphql'): Promise<{ out: Outcome; ids: string[] }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    if (door === 'rest') {
      const res = await app.rest(c.user, 'GET', `/v1/allocation-rules?active=false&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (res.status !== 200) return { out: { status: res.status, detail: res.raw }, ids };
      ids.push(...res.body.data.map((x: { id: string }) => x.id));
      cursor = res.body.nextCursor;
    } else {
      let page: any;
      const out = await gql(c, 'query($after: String) { allocationRules(active: false, first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }', { after: cursor }, 200, (d) => {
        page = d.allocationRules;
        return undefined;
      });
      if (out.status !== 200) return { out, ids };
      ids.push(...page.edges.map((e: { node: { id: string } }) => e.node.id));
      cursor = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    }
  } while (cursor);
  return { out: { status: 200 }, ids };
}

// prettier-ignore
const ROWS: Row[] = [
  // Reads
  { route: 'GET /v1/customers/:id', on: 'record', permission: 'customers:read', ok: 200,
    call: (c, tg) => rest(c, 'GET', `/v1/customers/${tg.record.id}`) },
  { route: 'GET /v1/customers/:id/contacts', on: 'record', permission: 'contacts:read', ok: 200,
    call: (c, tg) => rest(c, 'GET', `/v1/customers/${tg.record.id}/contacts`) },
  { route: 'GET /v1/customers/:id/shares', on: 'record', permission: 'customers:read', ok: 200,
    call: (c, tg) => rest(c, 'GET', `/v1/customers/${tg.record.id}/shares`) },
  { route: 'GET /v1/contacts/:id', on: 'record', permission: 'contacts:read', ok: 200,
    call: (c, tg) => rest(c, 'GET', `/v1/contacts/${tg.record.contactId}`) },
  { route: 'graphql Query.customer', on: 'record', permission: 'customers:read', ok: 200,
    call: (c, tg) => gql(c, 'query($id: ID!) { customer(id: $id) { id } }', { id: tg.record.id }, 200, (d) => d.customer?.id) },
  { route: 'graphql Query.contact', on: 'record', permission: 'contacts:read', ok: 200,
    call: (c, tg) => gql(c, 'query($id: ID!) { contact(id: $id) { id } }', { id: tg.record.contactId }, 200, (d) => d.contact?.id) },
  // Allocation: no rule names these records' region (none), so an allowed call changes nothing.
  { route: 'POST /v1/customers/:id/allocate', on: 'record', permission: 'customers:update', ok: 200, noOp: () => true,
    call: (c, tg) => rest(c, 'POST', `/v1/customers/${tg.record.id}/allocate`) },
  { route: 'graphql Mutation.allocateCustomer', on: 'record', permission: 'customers:update', ok: 200, noOp: () => true,
    call: (c, tg) => gql(c, 'mutation($id: ID!) { allocateCustomer(customerId: $id) { customerId allocated } }', { id: tg.record.id }, 200, (d) => d.allocateCustomer?.customerId) },
  // Claims: the permission first (403 for a role without claims:create, whatever the record), then the
  // record as an update would see it (a share grants reading, so 403). A made claim is removed again
  // so the next caller of the same unit starts from the same state (one pending claim per unit).
  { route: 'POST /v1/claims', on: 'record', permission: 'claims:create', ok: 201,
    expect: (c, tg) => (CLAIM_CREATORS.has(c.name) ? expectOnRecord(world, c.m, tg.record, 'customers:update', 201) : 403),
    call: async (c, tg) => withdrawClaim(await rest(c, 'POST', '/v1/claims', { customerId: tg.record.id })) },
  { route: 'graphql Mutation.createClaim', on: 'record', permission: 'claims:create', ok: 201,
    expect: (c, tg) => (CLAIM_CREATORS.has(c.name) ? expectOnRecord(world, c.m, tg.record, 'customers:update', 201) : 403),
    call: async (c, tg) => withdrawClaim(await gql(c, 'mutation($id: ID!) { createClaim(input: { customerId: $id }) { id } }', { id: tg.record.id }, 201, (d) => d.createClaim?.id)) },
  // Reading and deciding claims: the claim of the position's owner on the position's customer (./model.ts,
  // expectOnClaim). A list answers 200 either way: the cell is 200 when the claim is in it, 404 when not.
  { route: 'GET /v1/claims', on: 'record', permission: 'claims:read', ok: 200,
    expect: (c, tg) => expectOnClaim(world, c.m, claimOf(tg), 'claims:read', 200),
    prepare: (_, tg) => pendingClaim(tg),
    call: (c, tg, id) => onClaim(id, async () => {
      const r = await app.rest(c.user, 'GET', `/v1/claims?customerId=${tg.record.id}`);
      return listed({ status: r.status, detail: r.raw }, r.status === 200 ? r.body.data.map((x: { id: string }) => x.id) : [], id);
    }) },
  { route: 'graphql Query.claims', on: 'record', permission: 'claims:read', ok: 200,
    expect: (c, tg) => expectOnClaim(world, c.m, claimOf(tg), 'claims:read', 200),
    prepare: (_, tg) => pendingClaim(tg),
    call: (c, tg, id) => onClaim(id, async () => {
      let ids: string[] = [];
      const out = await gql(c, 'query($f: ClaimFilter) { claims(filter: $f) { edges { node { id } } } }', { f: { customerId: tg.record.id } }, 200, (d) => {
        ids = d.claims.edges.map((e: { node: { id: string } }) => e.node.id);
        return undefined;
      });
      return listed(out, ids, id);
    }) },
  { route: 'GET /v1/claims/:id', on: 'record', permission: 'claims:read', ok: 200,
    expect: (c, tg) => expectOnClaim(world, c.m, claimOf(tg), 'claims:read', 200),
    prepare: (_, tg) => pendingClaim(tg),
    call: (c, _, id) => onClaim(id, () => rest(c, 'GET', `/v1/claims/${id}`)) },
  { route: 'graphql Query.claim', on: 'record', permission: 'claims:read', ok: 200,
    expect: (c, tg) => expectOnClaim(world, c.m, claimOf(tg), 'claims:read', 200),
    prepare: (_, tg) => pendingClaim(tg),
    // A claim the caller cannot see reads as none (null), as an unknown id does.
    call: (c, _, id) => onClaim(id, async () => {
      const out = await gql(c, 'query($id: ID!) { claim(id: $id) { id } }', { id }, 200, (d) => d.claim?.id);
      return out.status === 200 && out.entityId !== id ? { ...out, status: 404 } : out;
    }) },
  // Deciding: claims:approve over the claimant by the decider's own scope, never one's own claim (the
  // own position: 403) nor through a delegation from the claimant; a decision is on nobody's behalf.
  { route: 'POST /v1/claims/:id/approve', on: 'record', permission: 'claims:approve', ok: 200, audited: 'prepared', behalf: () => null,
    expect: (c, tg) => expectOnClaim(world, c.m, claimOf(tg), 'claims:approve', 200),
    prepare: (_, tg) => pendingClaim(tg),
    call: (c, _, id) => onClaim(id, () => rest(c, 'POST', `/v1/claims/${id}/approve`, { reason: `approved by ${c.name}` })) },
  { route: 'graphql Mutation.approveClaim', on: 'record', permission: 'claims:approve', ok: 200, audited: 'prepared', behalf: () => null,
    expect: (c, tg) => expectOnClaim(world, c.m, claimOf(tg), 'claims:approve', 200),
    prepare: (_, tg) => pendingClaim(tg),
    call: (c, _, id) => onClaim(id, () => gql(c, 'mutation($id: ID!, $r: String!) { approveClaim(id: $id, reason: $r) { id status } }', { id, r: `approved by ${c.name}` }, 200, (d) => d.approveClaim?.id)) },
  { route: 'POST /v1/claims/:id/reject', on: 'record', permission: 'claims:approve', ok: 200, audited: 'prepared', behalf: () => null,
    expect: (c, tg) => expectOnClaim(world, c.m, claimOf(tg), 'claims:approve', 200),
    prepare: (_, tg) => pendingClaim(tg),
    call: (c, _, id) => onClaim(id, () => rest(c, 'POST', `/v1/claims/${id}/reject`, { reason: `rejected by ${c.name}` })) },
  { route: 'graphql Mutation.rejectClaim', on: 'record', permission: 'claims:approve', ok: 200, audited: 'prepared', behalf: () => null,
    expect: (c, tg) => expectOnClaim(world, c.m, claimOf(tg), 'claims:approve', 200),
    prepare: (_, tg) => pendingClaim(tg),
    call: (c, _, id) => onClaim(id, () => gql(c, 'mutation($id: ID!, $r: String!) { rejectClaim(id: $id, reason: $r) { id status } }', { id, r: `rejected by ${c.name}` }, 200, (d) => d.rejectClaim?.id)) },

  // Allocation rules: a rule targeting the unit of the position's owner (./model.ts, expectOnRule). A
  // rule has no owner user, so neither delegation nor share opens one; its writes are on nobody's behalf.
  { route: 'GET /v1/allocation-rules', on: 'record', permission: 'allocation-rules:read', ok: 200, expect: onRule('allocation-rules:read', 200),
    call: async (c, tg) => { const id = await ruleOf(tg); const { out, ids } = await ruleIds(c, 'rest'); return listed(out, ids, id); } },
  { route: 'graphql Query.allocationRules', on: 'record', permission: 'allocation-rules:read', ok: 200, expect: onRule('allocation-rules:read', 200),
    call: async (c, tg) => { const id = await ruleOf(tg); const { out, ids } = await ruleIds(c, 'graphql'); return listed(out, ids, id); } },
  { route: 'GET /v1/allocation-rules/:id', on: 'record', permission: 'allocation-rules:read', ok: 200, expect: onRule('allocation-rules:read', 200),
    call: async (c, tg) => rest(c, 'GET', `/v1/allocation-rules/${await ruleOf(tg)}`) },
  { route: 'graphql Query.allocationRule', on: 'record', permission: 'allocation-rules:read', ok: 200, expect: onRule('allocation-rules:read', 200),
    call: async (c, tg) => {
      const id = await ruleOf(tg);
      const out = await gql(c, 'query($id: ID!) { allocationRule(id: $id) { id } }', { id }, 200, (d) => d.allocationRule?.id);
      return out.status === 200 && out.entityId !== id ? { ...out, status: 404 } : out;
    } },
  { route: 'POST /v1/allocation-rules', on: 'owner', permission: 'allocation-rules:create', ok: 201, audited: 'response', behalf: () => null,
    expect: (c, tg) => expectCreateRule(world, c.m, tg.owner.unitId),
    call: (c, tg) => removingRule(() => rest(c, 'POST', '/v1/allocation-rules', ruleBody(tg.owner.unitId))) },
  { route: 'graphql Mutation.createAllocationRule', on: 'owner', permission: 'allocation-rules:create', ok: 201, audited: 'response', behalf: () => null,
    expect: (c, tg) => expectCreateRule(world, c.m, tg.owner.unitId),
    call: (c, tg) => removingRule(() => gql(c, 'mutation($input: CreateAllocationRuleInput!) { createAllocationRule(input: $input) { id } }', { input: ruleBody(tg.owner.unitId) }, 201, (d) => d.createAllocationRule?.id)) },
  { route: 'PATCH /v1/allocation-rules/:id', on: 'record', permission: 'allocation-rules:update', ok: 200, audited: 'prepared', behalf: () => null,
    expect: onRule('allocation-rules:update', 200),
    prepare: (_, tg) => ruleOf(tg),
    call: (c, _, id) => rest(c, 'PATCH', `/v1/allocation-rules/${id}`, { name: nextName(`renamed by ${c.name}`) }) },
  { route: 'graphql Mutation.updateAllocationRule', on: 'record', permission: 'allocation-rules:update', ok: 200, audited: 'prepared', behalf: () => null,
    expect: onRule('allocation-rules:update', 200),
    prepare: (_, tg) => ruleOf(tg),
    call: (c, _, id) => gql(c, 'mutation($id: ID!, $name: String) { updateAllocationRule(id: $id, input: { name: $name }) { id } }', { id, name: nextName(`renamed by ${c.name}`) }, 200, (d) => d.updateAllocationRule?.id) },
  // A fresh rule for every cell: removed by the call when allowed, by the table when refused.
  { route: 'DELETE /v1/allocation-rules/:id', on: 'record', permission: 'allocation-rules:delete', ok: 204, audited: 'prepared', behalf: () => null,
    expect: onRule('allocation-rules:delete', 204),
    prepare: (_, tg) => ruleAt(tg.owner.unitId),
    call: async (c, _, id) => { try { return await rest(c, 'DELETE', `/v1/allocation-rules/${id}`); } finally { await app.db.execute(sql`DELETE FROM allocation_rules WHERE id = ${id ?? null}::uuid`); } } },
  { route: 'graphql Mutation.deleteAllocationRule', on: 'record', permission: 'allocation-rules:delete', ok: 200, audited: 'prepared', behalf: () => null,
    expect: onRule('allocation-rules:delete', 200),
    prepare: (_, tg) => ruleAt(tg.owner.unitId),
    call: async (c, _, id) => { try { return await gql(c, 'mutation($id: ID!) { deleteAllocationRule(id: $id) }', { id }, 200, () => undefined); } finally { await app.db.execute(sql`DELETE FROM allocation_rules WHERE id = ${id ?? null}::uuid`); } } },
  // Explaining one's own access: answered exactly for the records one sees, and then it says visible.
  { route: 'GET /v1/access/explain', on: 'record', permission: 'customers:read', ok: 200,
    call: async (c, tg) => {
      const r = await app.rest(c.user, 'GET', `/v1/access/explain?resourceType=CUSTOMER&resourceId=${tg.record.id}`);
      return { status: r.status === 200 && r.body.visible !== true ? 500 : r.status, entityId: r.body?.resourceId, detail: r.raw };
    } },
  { route: 'graphql Query.accessExplain', on: 'record', permission: 'customers:read', ok: 200,
    call: (c, tg) => gql(c, 'query($id: ID!) { accessExplain(resourceType: CUSTOMER, resourceId: $id) { resourceId visible } }', { id: tg.record.id }, 200, (d) => (d.accessExplain?.visible ? d.accessExplain.resourceId : undefined)) },

  // Creates: for the caller itself, and for the owner of the position's record
  { route: 'POST /v1/customers', label: 'owner defaults to the caller', on: 'caller', permission: 'customers:create', ok: 201, audited: 'response',
    call: (c) => rest(c, 'POST', '/v1/customers', createBody()) },
  { route: 'POST /v1/customers', label: "ownerUserId = the position's owner", on: 'owner', permission: 'customers:create', ok: 201, audited: 'response',
    call: (c, tg) => rest(c, 'POST', '/v1/customers', createBody(tg.owner)) },
  // Who may create may ask what a create would find: the answer is 200 where a create is 201.
  { route: 'POST /v1/customers/duplicate-check', on: 'caller', permission: 'customers:create', ok: 200,
    expect: (c) => { const s = expectCreate(world, c.m); return s === 201 ? 200 : s; },
    call: (c) => rest(c, 'POST', '/v1/customers/duplicate-check', createBody()) },
  { route: 'graphql Mutation.createCustomer', label: "ownerUserId = the position's owner", on: 'owner', permission: 'customers:create', ok: 201, audited: 'response',
    call: (c, tg) => gql(c, 'mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }', { input: createBody(tg.owner) }, 201, (d) => d.createCustomer?.id) },

  // Writes on the customer
  { route: 'PATCH /v1/customers/:id', on: 'record', permission: 'customers:update', ok: 200, audited: 'customer',
    call: (c, tg) => rest(c, 'PATCH', `/v1/customers/${tg.record.id}`, { industry: `patched by ${c.name} ${++serial}` }) },
  // Reassigning one of the caller's own customers to the position's owner: allowed only within the
  // caller's update scope (an OWN scope cannot give records away: that is a transfer).
  { route: 'PATCH /v1/customers/:id', label: "ownerUserId = the position's owner, on a record of the caller's", on: 'owner', permission: 'customers:update', ok: 200, audited: 'prepared',
    prepare: async (c) => (await customerOwnedBy(c.user, `reassigned-by-${c.name}`)).id,
    call: (c, tg, mine) => rest(c, 'PATCH', `/v1/customers/${mine}`, { ownerUserId: tg.owner.id }),
    expect: (c, tg) => expectReassign(world, c.m, tg.owner),
    behalf: () => null,
    noOp: (c, tg) => tg.owner.id === c.user.id },
  { route: 'graphql Mutation.updateCustomer', on: 'record', permission: 'customers:update', ok: 200, audited: 'customer',
    call: (c, tg) => gql(c, 'mutation($id: ID!, $region: String) { updateCustomer(id: $id, input: { region: $region }) { id } }', { id: tg.record.id, region: `north ${++serial}` }, 200, (d) => d.updateCustomer?.id) },
  { route: 'POST /v1/customers/:id/freeze', on: 'record', permission: 'customers:freeze', ok: 200, audited: 'customer',
    prepare: async (_, tg) => { await setStatus(tg.record.id, 'ACTIVE'); return undefined; },
    call: (c, tg) => rest(c, 'POST', `/v1/customers/${tg.record.id}/freeze`, { reason: 'dormant' }) },
  { route: 'POST /v1/customers/:id/unfreeze', on: 'record', permission: 'customers:freeze', ok: 200, audited: 'customer',
    prepare: async (_, tg) => { await setStatus(tg.record.id, 'FROZEN'); return undefined; },
    call: (c, tg) => rest(c, 'POST', `/v1/customers/${tg.record.id}/unfreeze`) },
  { route: 'graphql Mutation.freezeCustomer', on: 'record', permission: 'customers:freeze', ok: 200, audited: 'customer',
    prepare: async (_, tg) => { await setStatus(tg.record.id, 'ACTIVE'); return undefined; },
    call: (c, tg) => gql(c, 'mutation($id: ID!) { freezeCustomer(id: $id) { id } }', { id: tg.record.id }, 200, (d) => d.freezeCustomer?.id) },
  { route: 'graphql Mutation.unfreezeCustomer', on: 'record', permission: 'customers:freeze', ok: 200, audited: 'customer',
    prepare: async (_, tg) => { await setStatus(tg.record.id, 'FROZEN'); return undefined; },
    call: (c, tg) => gql(c, 'mutation($id: ID!) { unfreezeCustomer(id: $id) { id } }', { id: tg.record.id }, 200, (d) => d.unfreezeCustomer?.id) },
  // The duplicate folded in is the caller's own record; its id sorts before or after the survivor's
  // at random, which must not change the answer.
  { route: 'POST /v1/customers/:id/merge', on: 'record', permission: 'customers:merge', ok: 200, audited: 'customer',
    expect: (c, tg) => expectOnRecords(world, c.m, [tg.record, ownedByCaller(c)], 'customers:merge', 200),
    prepare: (c) => dupOwnedBy(c),
    call: (c, tg, dup) => rest(c, 'POST', `/v1/customers/${tg.record.id}/merge`, { duplicateIds: [dup] }) },
  { route: 'graphql Mutation.mergeCustomers', on: 'record', permission: 'customers:merge', ok: 200, audited: 'customer',
    expect: (c, tg) => expectOnRecords(world, c.m, [tg.record, ownedByCaller(c)], 'customers:merge', 200),
    prepare: (c) => dupOwnedBy(c),
    call: (c, tg, dup) => gql(c, 'mutation($id: ID!, $dups: [ID!]!) { mergeCustomers(id: $id, duplicateIds: $dups) { id } }', { id: tg.record.id, dups: [dup] }, 200, (d) => d.mergeCustomers?.id) },

  // Writes on contacts: the customer's position decides
  { route: 'POST /v1/customers/:id/contacts', on: 'record', permission: 'contacts:create', ok: 201, audited: 'response',
    call: (c, tg) => rest(c, 'POST', `/v1/customers/${tg.record.id}/contacts`, { name: `Added by ${c.name}`, decisionRole: 'INFLUENCER' }) },
  { route: 'graphql Mutation.createContact', on: 'record', permission: 'contacts:create', ok: 201, audited: 'response',
    call: (c, tg) => gql(c, 'mutation($id: ID!) { createContact(customerId: $id, input: { name: "Via graph" }) { id } }', { id: tg.record.id }, 201, (d) => d.createContact?.id) },
  { route: 'PATCH /v1/contacts/:id', on: 'record', permission: 'contacts:update', ok: 200, audited: 'contact',
    call: (c, tg) => rest(c, 'PATCH', `/v1/contacts/${tg.record.contactId}`, { title: `Titled by ${c.name} ${++serial}` }) },
  { route: 'graphql Mutation.updateContact', on: 'record', permission: 'contacts:update', ok: 200, audited: 'contact',
    call: (c, tg) => gql(c, 'mutation($id: ID!, $title: String) { updateContact(id: $id, input: { title: $title }) { id } }', { id: tg.record.contactId, title: `Graph title ${++serial}` }, 200, (d) => d.updateContact?.id) },
  { route: 'DELETE /v1/contacts/:id', on: 'record', permission: 'contacts:delete', ok: 204, audited: 'prepared',
    prepare: (_, tg) => contactOn(tg.record.id),
    call: (c, _, contactId) => rest(c, 'DELETE', `/v1/contacts/${contactId}`) },
  { route: 'graphql Mutation.deleteContact', on: 'record', permission: 'contacts:delete', ok: 200, audited: 'prepared',
    prepare: (_, tg) => contactOn(tg.record.id),
    call: (c, _, contactId) => gql(c, 'mutation($id: ID!) { deleteContact(id: $id) }', { id: contactId }, 200, () => undefined) },

  // By external id (docs/integration.md): read as the record; an upsert of a record the caller cannot see is
  // refused as taken (409), never 404, so the id cannot be probed for a create.
  { route: 'GET /v1/customers/external/:system/:externalId', on: 'record', permission: 'customers:read', ok: 200,
    call: async (c, tg) => rest(c, 'GET', `/v1/customers/external/mx/${await externalIdOf('customer', tg.record.id)}`) },
  { route: 'graphql Query.customerByExternalId', on: 'record', permission: 'customers:read', ok: 200,
    call: async (c, tg) => gql(c, 'query($x: String!) { customerByExternalId(system: "mx", externalId: $x) { id } }', { x: await externalIdOf('customer', tg.record.id) }, 200, (d) => d.customerByExternalId?.id) },
  { route: 'GET /v1/contacts/external/:system/:externalId', on: 'record', permission: 'contacts:read', ok: 200,
    call: async (c, tg) => rest(c, 'GET', `/v1/contacts/external/mx/${await externalIdOf('contact', tg.record.contactId)}`) },
  { route: 'graphql Query.contactByExternalId', on: 'record', permission: 'contacts:read', ok: 200,
    call: async (c, tg) => gql(c, 'query($x: String!) { contactByExternalId(system: "mx", externalId: $x) { id } }', { x: await externalIdOf('contact', tg.record.contactId) }, 200, (d) => d.contactByExternalId?.id) },
  { route: 'PUT /v1/customers/external/:system/:externalId', on: 'record', permission: 'customers:update', ok: 200, audited: 'customer',
    expect: (c, tg) => takenWhenHidden(expectOnRecord(world, c.m, tg.record, 'customers:update', 200), c, tg, 'customers:read'),
    call: async (c, tg) => rest(c, 'PUT', `/v1/customers/external/mx/${await externalIdOf('customer', tg.record.id)}`, { industry: `put by ${c.name} ${++serial}` }) },
  { route: 'graphql Mutation.upsertCustomerByExternalId', on: 'record', permission: 'customers:update', ok: 200, audited: 'customer',
    expect: (c, tg) => takenWhenHidden(expectOnRecord(world, c.m, tg.record, 'customers:update', 200), c, tg, 'customers:read'),
    call: async (c, tg) => gql(c, 'mutation($x: String!, $r: String) { upsertCustomerByExternalId(system: "mx", externalId: $x, input: { region: $r }) { customer { id } } }', { x: await externalIdOf('customer', tg.record.id), r: `put ${++serial}` }, 200, (d) => d.upsertCustomerByExternalId?.customer?.id) },
  { route: 'PUT /v1/contacts/external/:system/:externalId', on: 'record', permission: 'contacts:update', ok: 200, audited: 'contact',
    expect: (c, tg) => takenWhenHidden(expectOnRecord(world, c.m, tg.record, 'contacts:update', 200), c, tg, 'contacts:read'),
    call: async (c, tg) => rest(c, 'PUT', `/v1/contacts/external/mx/${await externalIdOf('contact', tg.record.contactId)}`, { title: `Put by ${c.name} ${++serial}` }) },
  { route: 'graphql Mutation.upsertContactByExternalId', on: 'record', permission: 'contacts:update', ok: 200, audited: 'contact',
    expect: (c, tg) => takenWhenHidden(expectOnRecord(world, c.m, tg.record, 'contacts:update', 200), c, tg, 'contacts:read'),
    call: async (c, tg) => gql(c, 'mutation($x: String!, $t: String) { upsertContactByExternalId(system: "mx", externalId: $x, input: { title: $t }) { contact { id } } }', { x: await externalIdOf('contact', tg.record.contactId), t: `put ${++serial}` }, 200, (d) => d.upsertContactByExternalId?.contact?.id) },

  // Contact history: interactions and the timeline
  // The model's built-in roles list customer and contact permissions only; interactions are granted
  // as shipped: every built-in role holds them as it holds contacts (executive reads only), and the
  // custom partner ALL role holds none. Visibility is the customer's, under the interactions permission.
  ...((): Row[] => {
    const INTERACTIONS: Record<string, readonly string[]> = {
      admin: ['read', 'create', 'update', 'delete'],
      executive: ['read'],
      manager: ['read', 'create', 'update', 'delete'],
      marketing: ['read', 'create', 'update'],
      sales: ['read', 'create', 'update'],
      service: ['read', 'create', 'update'],
      partner_manager: ['read', 'create', 'update', 'delete'],
      partner_sales: ['read', 'create', 'update'],
      integration: ['read', 'create', 'update'],
    };
    const withInteractions = (m: MUser): MUser => ({
      ...m,
      roles: m.roles.map((r) => ({ ...r, permissions: [...r.permissions, ...(INTERACTIONS[r.name] ?? []).map((a) => `interactions:${a}`)] })),
    });
    const onInteractions = (permission: string, ok: Status) => (c: Caller, tg: Target) => expectOnRecord(world, withInteractions(c.m), tg.record, permission, ok);
    return [
      { route: 'GET /v1/customers/:id/interactions', on: 'record', permission: 'interactions:read', ok: 200,
        expect: onInteractions('interactions:read', 200),
        call: (c, tg) => rest(c, 'GET', `/v1/customers/${tg.record.id}/interactions`) },
      { route: 'POST /v1/customers/:id/interactions', on: 'record', permission: 'interactions:create', ok: 201, audited: 'response',
        expect: onInteractions('interactions:create', 201),
        call: (c, tg) => rest(c, 'POST', `/v1/customers/${tg.record.id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND', subject: `Call by ${c.name}` }) },
      { route: 'GET /v1/customers/:id/timeline', on: 'record', permission: 'customers:read', ok: 200,
        call: (c, tg) => rest(c, 'GET', `/v1/customers/${tg.record.id}/timeline`) },
    ];
  })(),
  // (end of contact history rows)

  // Customer value: costs, the reference effect (a manager's: SUBTREE or ALL scope), the value page
  // (403 where the caller's roles hide the value class or score: the service and partner roles).
  ...((): Row[] => {
    const VALUE_HIDDEN = new Set(['service', 'partner_manager', 'partner_sales']);
    const valuePage = (c: Caller, tg: Target): Status => {
      const base = expectOnRecord(world, c.m, tg.record, 'customers:read', 200);
      return base === 200 && VALUE_HIDDEN.has(c.name) ? 403 : base;
    };
    const reference = (c: Caller, tg: Target): Status => {
      const base = expectOnRecord(world, c.m, tg.record, 'customers:update', 200);
      return base === 200 && !c.m.roles.some((r) => r.scope === 'SUBTREE' || r.scope === 'ALL') ? 403 : base;
    };
    const cost = { kind: 'SERVICE', amount: '10.00', currency: 'EUR' };
    return [
      { route: 'GET /v1/customers/:id/value', on: 'record', permission: 'customers:read', ok: 200, expect: valuePage,
        call: (c, tg) => rest(c, 'GET', `/v1/customers/${tg.record.id}/value`) },
      { route: 'graphql Query.customerValue', on: 'record', permission: 'customers:read', ok: 200, expect: valuePage,
        call: (c, tg) => gql(c, 'query($id: ID!) { customerValue(customerId: $id) { customerId } }', { id: tg.record.id }, 200, () => undefined) },
      { route: 'GET /v1/customers/:id/costs', on: 'record', permission: 'customers:read', ok: 200,
        call: (c, tg) => rest(c, 'GET', `/v1/customers/${tg.record.id}/costs`) },
      { route: 'graphql Query.customerCosts', on: 'record', permission: 'customers:read', ok: 200,
        call: (c, tg) => gql(c, 'query($id: ID!) { customerCosts(customerId: $id) { edges { cursor } } }', { id: tg.record.id }, 200, () => undefined) },
      { route: 'POST /v1/customers/:id/costs', on: 'record', permission: 'customers:update', ok: 201, audited: 'customer',
        call: (c, tg) => rest(c, 'POST', `/v1/customers/${tg.record.id}/costs`, cost) },
      { route: 'PUT /v1/customers/:id/reference-effect', on: 'record', permission: 'customers:update', ok: 200, audited: 'customer', expect: reference,
        call: (c, tg) => rest(c, 'PUT', `/v1/customers/${tg.record.id}/reference-effect`, { level: 3, reason: `Rated by ${c.name}` }) },
    ];
  })(),
  // (end of customer value rows)

  // Lifecycle transitions and handoffs
  { route: 'GET /v1/customers/:id/lifecycle-transitions', on: 'record', permission: 'customers:read', ok: 200,
    call: (c, tg) => rest(c, 'GET', `/v1/customers/${tg.record.id}/lifecycle-transitions`) },
  { route: 'POST /v1/customers/:id/lifecycle-transitions', on: 'record', permission: 'customers:update', ok: 201, audited: 'customer',
    prepare: async (_, tg) => { await setStage(tg.record.id, 'SUSPECT'); return undefined; },
    call: (c, tg) => rest(c, 'POST', `/v1/customers/${tg.record.id}/lifecycle-transitions`, { to: 'PROSPECT' }) },
  { route: 'graphql Mutation.transitionLifecycle', on: 'record', permission: 'customers:update', ok: 201, audited: 'customer',
    prepare: async (_, tg) => { await setStage(tg.record.id, 'SUSPECT'); return undefined; },
    call: (c, tg) => gql(c, 'mutation($id: ID!) { transitionLifecycle(customerId: $id, input: { to: PROSPECT }) { id } }', { id: tg.record.id }, 201, (d) => d.transitionLifecycle?.id) },
  // Handed to the caller's own unit (a unit every caller sees); the pending handoff is closed again
  // right after the call, so its read grant never reaches the next cells.
  { route: 'POST /v1/customers/:id/handoffs', on: 'record', permission: 'customers:update', ok: 201, audited: 'response',
    prepare: async (_, tg) => { await setStage(tg.record.id, 'PROSPECT'); return undefined; },
    call: async (c, tg) => closingHandoffs(tg.record.id, () => rest(c, 'POST', `/v1/customers/${tg.record.id}/handoffs`, { toUnitId: c.user.unitId, dueAt: new Date(Date.now() + 48 * hour).toISOString() })) },
  { route: 'graphql Mutation.handOffCustomer', on: 'record', permission: 'customers:update', ok: 201, audited: 'response',
    prepare: async (_, tg) => { await setStage(tg.record.id, 'PROSPECT'); return undefined; },
    call: async (c, tg) => closingHandoffs(tg.record.id, () => gql(c, 'mutation($id: ID!, $input: HandoffInput!) { handOffCustomer(customerId: $id, input: $input) { id } }', { id: tg.record.id, input: { toUnitId: c.user.unitId, dueAt: new Date(Date.now() + 48 * hour).toISOString() } }, 201, (d) => d.handOffCustomer?.id)) },
  // (end of lifecycle rows)

  // Key actions on a customer
  // actions:* as the built-in roles ship it (the model restates only customers and contacts): every
  // built-in role holds actions:read, create and update at its own scope, except the executive (read
  // only); the partner user's custom ALL role holds none. A customer the caller cannot see is 404
  // before any permission is looked at.
  ...((): Row[] => {
    const ACTIONS_PERMS: Record<string, string[]> = { executive: ['actions:read'], partner_all: [] };
    const withActions = (c: Caller): MUser => ({ ...c.m, roles: c.m.roles.map((r) => ({ ...r, permissions: [...r.permissions, ...(ACTIONS_PERMS[c.name] ?? ['actions:read', 'actions:create', 'actions:update'])] })) });
    const onCustomer = (permission: string, ok: Status) => (c: Caller, tg: Target): Status => {
      if (!canRead(world, c.m, tg.record, 'customers:read')) return 404;
      const m = withActions(c);
      return (permission.endsWith(':read') ? canRead(world, m, tg.record, permission) : canAct(world, m, tg.record, permission)) ? ok : 403;
    };
    return [
      { route: 'GET /v1/customers/:id/actions', on: 'record', permission: 'actions:read', ok: 200, expect: onCustomer('actions:read', 200),
        call: (c, tg) => rest(c, 'GET', `/v1/customers/${tg.record.id}/actions`) },
      { route: 'POST /v1/customers/:id/actions', on: 'record', permission: 'actions:create', ok: 201, audited: 'response', expect: onCustomer('actions:create', 201),
        call: (c, tg) => rest(c, 'POST', `/v1/customers/${tg.record.id}/actions`, { title: `Planned by ${c.name}`, value: 4 }) },
      { route: 'graphql Mutation.createAction', label: 'on a customer', on: 'record', permission: 'actions:create', ok: 201, audited: 'response', expect: onCustomer('actions:create', 201),
        call: (c, tg) => gql(c, 'mutation($id: ID!) { createAction(input: { customerId: $id, title: "Via graph" }) { id } }', { id: tg.record.id }, 201, (d) => d.createAction?.id) },
    ];
  })(),
  // (end of action rows)
];

// Lists are checked as sets against the model (see "lists" below), not cell by cell.
// Lists, and routes whose own matrix lives elsewhere (a customer's orders: test/access/orders-matrix.test.ts).
const LIST_ROUTES = ['GET /v1/customers', 'graphql Query.customers', 'GET /v1/contacts', 'graphql Query.contacts', 'GET /v1/customers/:id/orders'];

// The matrix's records carry an id of the system "mx", written as the integration writes it (the table that
// holds the uniqueness and the record's read copy), without a version of their own.
async function externalIdOf(resource: 'customer' | 'contact', id: string): Promise<string> {
  const x = `M-${id}`;
  await app.db.execute(sql`INSERT INTO external_ids (resource_type, system, external_id, record_id) VALUES (${resource}, 'mx', ${x}, ${id}::uuid) ON CONFLICT DO NOTHING`);
  const table = resource === 'customer' ? sql`customers` : sql`contacts`;
  await app.db.execute(sql`UPDATE ${table} SET external_ids = external_ids || jsonb_build_object('mx', ${x}::text) WHERE id = ${id}::uuid AND NOT external_ids ? 'mx'`);
  return x;
}

// An upsert by external id of a record the caller cannot read answers that the id is taken (409).
function takenWhenHidden(status: Status, c: Caller, tg: Target, readPermission: string): Status {
  return status === 404 && expectOnRecord(world, c.m, tg.record, readPermission, 200) === 404 ? 409 : status;
}

function expected(row: Row, c: Caller, tg: Target): Status {
  if (row.expect) return row.expect(c, tg);
  switch (row.on) {
    case 'record':
      return expectOnRecord(world, c.m, tg.record, row.permission, row.ok);
    case 'owner':
      return expectCreate(world, c.m, tg.owner);
    case 'caller':
      return expectCreate(world, c.m);
  }
}

// ---------------------------------------------------------------------------------------------

/** Every route fastify serves, from its own route tree (HEAD twins of GET routes left out). */
function servedRoutes(): string[] {
  const text = app.app.printRoutes({ commonPrefix: false });
  const paths: string[] = [];
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^((?:│ {3}| {4}|├── |└── )*)(\S.*)$/u.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    const [, segment = '', methods = ''] = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(m[2] ?? '') ?? [];
    const path = (depth > 1 ? (paths[depth - 2] ?? '') : '') + segment;
    paths[depth - 1] = path;
    paths.length = depth;
    const ms = methods.split(',').map((s) => s.trim()).filter(Boolean);
    for (const method of ms) if (!(method === 'HEAD' && ms.includes('GET'))) out.push(`${method} ${path}`);
  }
  return out;
}

t.test('every customer, contact, claim and allocation-rule route has a row in the matrix', async (t) => {
  const served = servedRoutes();
  t.ok(served.includes('GET /v1/customers/:id') && served.includes('DELETE /v1/contacts/:id'), 'the route tree was read');
  const covered = new Set([...ROWS.map((r) => r.route), ...LIST_ROUTES]);
  const restRoutes = served.filter((r) => /^[A-Z]+ \/v1\/(customers|contacts|claims|allocation-rules)(\/|$)/.test(r));
  t.same(restRoutes.filter((r) => !covered.has(r)), [], 'REST routes without a row');
  t.same([...covered].filter((r) => !r.startsWith('graphql ') && !served.includes(r)), [], 'rows for routes that no longer exist');

  const intro = await app.gql(admin, '{ __schema { queryType { fields { name } } mutationType { fields { name } } } }');
  const fields = [
    ...intro.data.__schema.queryType.fields.map((f: { name: string }) => `graphql Query.${f.name}`),
    ...intro.data.__schema.mutationType.fields.map((f: { name: string }) => `graphql Mutation.${f.name}`),
  ];
  t.same(fields.filter((f) => /customer|contact|claim|allocation/i.test(f) && !covered.has(f)), [], 'GraphQL root fields without a row');
  t.same([...covered].filter((r) => r.startsWith('graphql ') && !fields.includes(r)), [], 'rows for GraphQL fields that no longer exist');
});

t.test("the model's built-in roles are the ones the service ships", async (t) => {
  t.same(BUILT_IN_NAMES.filter((n) => !(CALLERS as readonly string[]).includes(n)), [], 'every built-in role is a caller of the matrix');
  const rows = await queryRows<{ name: string; scope: string; permissions: string[] }>(app.db, sql`SELECT name, scope, permissions FROM roles WHERE built_in`);
  t.same(rows.map((r) => r.name).filter((n) => !BUILT_IN[n]).sort(), [], 'every shipped built-in role is in the model');
  const universe = [
    ...['read', 'create', 'update', 'delete', 'freeze', 'merge'].map((a) => `customers:${a}`),
    ...['read', 'create', 'update', 'delete'].map((a) => `contacts:${a}`),
    'users:read',
    ...['read', 'create', 'approve'].map((a) => `claims:${a}`),
    ...['read', 'create', 'update', 'delete'].map((a) => `allocation-rules:${a}`),
  ];
  for (const name of BUILT_IN_NAMES) {
    const shipped = rows.find((r) => r.name === name);
    const model = BUILT_IN[name];
    if (!shipped || !model) {
      t.fail(`role ${name} missing`);
      continue;
    }
    t.equal(shipped.scope, model.scope, `${name} scope`);
    t.same(
      universe.filter((p) => grants(shipped.permissions, p)),
      universe.filter((p) => grants(model.permissions, p)),
      `${name} permissions on customers, contacts, claims and allocation rules`,
    );
  }
});

t.test('the table at a glance is what the model says', async (t) => {
  const derived: Record<string, string> = {};
  const hand: Record<string, string> = {};
  for (const name of CALLERS) {
    const c = caller(name);
    derived[name] = POSITIONS.map((pos) => {
      const rec = target(name, pos).record;
      if (!canRead(world, c.m, rec)) return '-';
      return canAct(world, c.m, rec, 'customers:update') ? 'W' : 'R';
    }).join(' ');
    hand[name] = AT_A_GLANCE[name].split(/\s+/).join(' ');
  }
  t.same(derived, hand);
});

/** Every id of a REST list, following nextCursor to the end. */
async function walkRest(c: Caller, query: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await app.rest(c.user, 'GET', `/v1/customers?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (res.status !== 200) throw new Error(`${c.name}: GET /v1/customers?${query} answered ${res.status}: ${res.raw}`);
    ids.push(...res.body.data.map((x: { id: string }) => x.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  return ids;
}

/** Every id of the GraphQL customers connection, following endCursor to the end. */
async function walkGraph(c: Caller, filter: Record<string, unknown>, first: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  do {
    const r = await app.gql(c.user, 'query($f: CustomerFilter, $n: Int, $after: String) { customers(filter: $f, first: $n, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }', { f: filter, n: first, after });
    if (r.errors?.length) throw new Error(`${c.name}: GraphQL customers: ${JSON.stringify(r.errors)}`);
    ids.push(...r.data.customers.edges.map((e: { node: { id: string } }) => e.node.id));
    after = r.data.customers.pageInfo.hasNextPage ? r.data.customers.pageInfo.endCursor : null;
  } while (after);
  return ids;
}

t.test('lists: each caller sees exactly the model’s visible set of this test’s records', async (t) => {
  const mine = new Set(allRecords.map((r) => r.id));
  const ours = (ids: string[]) => ids.filter((id) => mine.has(id)).sort();
  for (const name of CALLERS) {
    const c = caller(name);
    const want = visibleIds(world, c.m, allRecords);
    // The plain list, page by page, for each of this test's units (other files' records stay out of the walk).
    const byUnit: string[] = [];
    for (const u of MY_UNITS) byUnit.push(...(await walkRest(c, `ownerUnitId=${u.id}&limit=3`)));
    t.same(ours(byUnit), want, `${name}: GET /v1/customers?ownerUnitId=…`);
    // `q` search: every name this file gives starts with the token.
    const searched = await walkRest(c, `q=${TOKEN}&limit=7`);
    t.same(ours(searched), want, `${name}: GET /v1/customers?q=…`);
    t.equal(new Set(searched).size, searched.length, `${name}: no record twice across pages`);
    t.same(ours(await walkGraph(c, { q: TOKEN }, 6)), want, `${name}: GraphQL customers(filter: { q })`);
  }
});

type Cells = Record<string, Record<Position, number>>;

for (const row of ROWS) {
  t.test(`${row.route}${row.label ? ` (${row.label})` : ''}`, async (t) => {
    const want: Cells = {};
    const got: Cells = {};
    const auditMismatches: string[] = [];
    const details: string[] = [];
    for (const name of CALLERS) {
      const c = caller(name);
      want[name] = {} as Record<Position, number>;
      got[name] = {} as Record<Position, number>;
      for (const pos of POSITIONS) {
        const tg = target(name, pos);
        const prepared = row.prepare ? await row.prepare(c, tg) : undefined;
        const out = await row.call(c, tg, prepared);
        const exp = expected(row, c, tg);
        want[name][pos] = exp;
        got[name][pos] = out.status;
        if (out.status !== exp && out.detail) details.push(`${name}/${pos}: ${out.detail.slice(0, 300)}`);
        if (out.status === row.ok && row.audited && !row.noOp?.(c, tg)) {
          const entityId = row.audited === 'customer' ? tg.record.id : row.audited === 'contact' ? tg.record.contactId : row.audited === 'prepared' ? prepared : out.entityId;
          const [a] = await queryRows<{ actor_id: string; on_behalf_of_id: string | null }>(
            app.db,
            sql`SELECT actor_id, on_behalf_of_id FROM audit_log WHERE entity_id = ${entityId ?? null} ORDER BY id DESC LIMIT 1`,
          );
          // A new record's owner is the target of a create; otherwise the position's record is written.
          const wantBehalf = row.behalf
            ? row.behalf(c, tg)
            : row.on === 'record' ? onBehalfOf(world, c.m, tg.record) : row.on === 'owner' ? onBehalfOf(world, c.m, { id: 'new', ownerUserId: tg.owner.id, ownerUnitId: tg.owner.unitId }) : null;
          if (!a || a.actor_id !== c.user.id || a.on_behalf_of_id !== wantBehalf) {
            auditMismatches.push(`${name}/${pos}: audit ${JSON.stringify(a)}, want actor ${c.user.id} on behalf of ${wantBehalf}`);
          }
        }
      }
    }
    t.same(got, want, details.length ? details.join('\n') : 'status per caller and position');
    t.same(auditMismatches, [], 'every successful write is audited with actor and on-behalf-of');
  });
}

t.test('delegation: only an active one opens the delegator’s records, and writes are made on its behalf', async (t) => {
  const delegator = await app.user(B2, ['sales']);
  const delegate = await app.user(B, ['sales']);
  const rec = await customerOwnedBy(delegator, 'delegation-window');
  const get = async () => (await app.rest(delegate, 'GET', `/v1/customers/${rec.id}`)).status;
  const grant = (startsAt: number, endsAt: number, revoked = false) => delegation(app, delegator, delegate, { startsAt: new Date(startsAt), endsAt: new Date(endsAt), revoked, by: admin });

  t.equal(await get(), 404, 'no delegation: invisible');
  await grant(Date.now() - 48 * hour, Date.now() - 24 * hour);
  t.equal(await get(), 404, 'expired delegation: invisible');
  await grant(Date.now() + 24 * hour, Date.now() + 48 * hour);
  t.equal(await get(), 404, 'future delegation: invisible');
  await grant(Date.now() - hour, Date.now() + hour, true);
  t.equal(await get(), 404, 'revoked delegation: invisible');
  const active = await grant(Date.now() - hour, Date.now() + hour);
  t.equal(await get(), 200, 'active delegation: visible');

  const patched = await app.rest(delegate, 'PATCH', `/v1/customers/${rec.id}`, { website: 'https://delegated.example' });
  t.equal(patched.status, 200, 'the delegate may PATCH');
  const [a] = await queryRows<{ actor_id: string; on_behalf_of_id: string | null; action: string }>(
    app.db,
    sql`SELECT actor_id, on_behalf_of_id, action FROM audit_log WHERE entity_id = ${rec.id} ORDER BY id DESC LIMIT 1`,
  );
  t.same(a, { actor_id: delegate.id, on_behalf_of_id: delegator.id, action: 'updated' }, 'audit: the delegate acted on behalf of the delegator');
  const [ev] = await queryRows<{ actor_id: string; on_behalf_of_id: string | null }>(
    app.db,
    sql`SELECT actor_id, on_behalf_of_id FROM events WHERE entity_id = ${rec.id} ORDER BY id DESC LIMIT 1`,
  );
  t.same(ev, { actor_id: delegate.id, on_behalf_of_id: delegator.id }, 'event: the same attribution');

  // The delegator's colleague is not the delegator: the delegation opens exactly one person's records.
  const colleagueRec = await customerOwnedBy(await app.user(B2, ['sales']), 'delegator-colleague');
  t.equal((await app.rest(delegate, 'GET', `/v1/customers/${colleagueRec.id}`)).status, 404, "the delegator's colleague's record stays invisible");

  t.equal((await app.rest(delegator, 'DELETE', `/v1/delegations/${active.id}`)).status, 204, 'the delegator revokes it');
  t.equal(await get(), 404, 'revoked: invisible again');
  t.equal((await app.rest(delegate, 'PATCH', `/v1/customers/${rec.id}`, { website: null })).status, 404, 'and not writable');
});

t.test('share: readable for the grantee, never writable; other units and users gain nothing', async (t) => {
  const owner = await app.user(B2, ['sales']);
  const grantee = await app.user(D, ['sales']);
  const granteeUnitMate = await app.user(D, ['service']);
  const outsider = await app.user(B, ['service']);
  const rec = await customerOwnedBy(owner, 'share-check');
  const status = async (u: User, method: 'GET' | 'PATCH', body?: unknown) => (await app.rest(u, method, `/v1/customers/${rec.id}`, body)).status;

  t.equal(await status(grantee, 'GET'), 404, 'before the share: invisible');
  const s = await app.rest(admin, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: rec.id, toUserId: grantee.id });
  t.equal(s.status, 201, 'shared with one user');
  t.equal(await status(grantee, 'GET'), 200, 'shared with the user: readable');
  t.equal(await status(grantee, 'PATCH', { industry: 'x' }), 403, 'but not writable');
  t.equal(await status(granteeUnitMate, 'GET'), 404, "a user share does not open the grantee's unit");

  const u = await app.rest(admin, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: rec.id, toUnitId: D.id });
  t.equal(u.status, 201, 'shared with a unit');
  t.equal(await status(granteeUnitMate, 'GET'), 200, 'shared with the unit: readable by its members');
  t.equal(await status(granteeUnitMate, 'PATCH', { industry: 'x' }), 403, 'not writable, even for a role that may update its unit’s records');
  t.equal(await status(outsider, 'GET'), 404, 'the parent unit gains nothing from a share to its child');

  const del = await app.rest(admin, 'DELETE', `/v1/shares/${s.body.id}`);
  t.equal(del.status, 204, 'user share revoked');
  t.equal(await status(grantee, 'GET'), 200, 'still readable through the unit share');
  const delUnit = await app.rest(admin, 'DELETE', `/v1/shares/${u.body.id}`);
  t.equal(delUnit.status, 204, 'unit share revoked');
  t.equal(await status(grantee, 'GET'), 404, 'both shares revoked: invisible');
});
