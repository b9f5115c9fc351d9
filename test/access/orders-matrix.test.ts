/**
 * The access matrix for orders: every route and GraphQL field × every built-in role × where the
 * order's customer sits relative to the caller (own, same unit, subtree, sibling partner, elsewhere,
 * delegated). Expectations come from the pure model in ./model.ts: an order is visible exactly as its
 * customer is (under orders:read), and written under orders:create / orders:update judged on the
 * customer's owner.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../src/db/client.js';
import type { CreateCustomerInput } from '../../src/modules/customers/customers.schemas.js';
import { loadPrincipal } from '../../src/modules/org/principal.repository.js';
import { buildTestApp, type User } from '../helpers/app.js';
import { tag } from '../helpers/factories.js';
import { BUILT_IN, BUILT_IN_NAMES, canAct, canRead, expectOnRecord, grants, isVisible, type MRecord, type MRole, onBehalfOf, reach, visibleIds } from './model.js';
import { CALLERS, type Caller, matrixWorld, POSITIONS, type Position } from './matrix-world.js';

const app = await buildTestApp();
t.teardown(() => app.close());

// The model's roles speak of customers; orders are read by every role that reads customers, and
// written by the integrated systems (integration) and admins. The test below checks this against the
// roles the service ships.
const ORDER_WRITERS = new Set(['admin', 'integration']);
const roleFor = (name: string): MRole => {
  const base = BUILT_IN[name];
  if (!base) throw new Error(name);
  const orders = ['orders:read', ...(ORDER_WRITERS.has(name) ? ['orders:create', 'orders:update'] : [])];
  return { ...base, permissions: [...base.permissions, ...orders] };
};

const admin = await app.admin();
const adminP = await loadPrincipal(app.db, admin.id);
if (!adminP) throw new Error('no admin principal');

let serial = 0;
// The order's record, as far as access goes, is its customer: id, owner.
type Rec = MRecord & { orderId: string; ext: string };
const allRecords: Rec[] = [];
/** An order on a customer owned by `owner`, made by the admin, with an ERP id. */
async function orderOf(owner: User): Promise<Rec> {
  const customer = await app.app.services.customers.create(adminP!, { kind: 'ORGANIZATION', name: `ordmx ${randomUUID().slice(0, 8)} ${++serial}`, ownerUserId: owner.id } as CreateCustomerInput, { allowDuplicate: true });
  const ext = `OMX-${tag()}`;
  const o = await app.app.services.orders.create(adminP!, { customerId: customer.id, currency: 'EUR', externalIds: { erp: ext } });
  const rec = { id: customer.id, ownerUserId: customer.ownerUserId, ownerUnitId: customer.ownerUnitId, orderId: o.id, ext };
  allRecords.push(rec);
  return rec;
}

// Units, callers, positions and delegations: the world the record matrices share (./matrix-world.ts).
const mw = await matrixWorld(app, { roleFor, recordOf: orderOf });
const { MY_UNITS, caller, world } = mw;
const target = (name: string, pos: Position): Rec => mw.target(name, pos).record;

const read = (c: Caller, rec: Rec) => (isVisible(world, c.m, rec) && canRead(world, c.m, rec, 'orders:read') ? 200 : 404);
/** An order placed on the position's customer: no permission → 403; a customer out of sight is an unknown id (400). */
function expectCreateOn(c: Caller, rec: Rec): number {
  if (reach(world, c.m, 'orders:create') === null) return 403;
  if (!isVisible(world, c.m, rec)) return 400;
  return canAct(world, c.m, rec, 'orders:create') ? 201 : 403;
}
/** An upsert of the position's order by its ERP id: one the caller cannot see is refused as taken (409). */
function expectUpsert(c: Caller, rec: Rec): number {
  if (!isVisible(world, c.m, rec)) return 409;
  return canAct(world, c.m, rec, 'orders:update') ? 200 : 403;
}

type Outcome = { status: number; entityId?: string | undefined; detail?: string | undefined };
const CODE_STATUS: Record<string, number> = { NOT_FOUND: 404, FORBIDDEN: 403, BAD_USER_INPUT: 400, CONFLICT: 409, PRECONDITION_FAILED: 412 };
async function gql(c: Caller, query: string, variables: Record<string, unknown>, ok: number): Promise<Outcome> {
  const r = await app.gql(c.user, query, variables);
  if (r.errors?.length) return { status: CODE_STATUS[r.codes[0] as string] ?? 500, detail: JSON.stringify(r.errors) };
  return { status: ok };
}
async function rest(c: Caller, method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, body?: unknown): Promise<Outcome> {
  const r = await app.rest(c.user, method, url, body);
  return { status: r.status, entityId: r.body?.id, detail: r.status >= 400 ? r.raw : undefined };
}

type Row = { route: string; expect: (c: Caller, rec: Rec) => number; ok: number; call: (c: Caller, rec: Rec) => Promise<Outcome>; audited?: (rec: Rec, out: Outcome) => string | undefined };
const num = () => `N-${++serial}`;

// prettier-ignore
const ROWS: Row[] = [
  { route: 'GET /v1/orders/:id', ok: 200, expect: read, call: (c, r) => rest(c, 'GET', `/v1/orders/${r.orderId}`) },
  { route: 'graphql Query.order', ok: 200, expect: read, call: (c, r) => gql(c, 'query($id: ID!) { order(id: $id) { id customer { id } } }', { id: r.orderId }, 200) },
  { route: 'GET /v1/orders/external/:system/:externalId', ok: 200, expect: read, call: (c, r) => rest(c, 'GET', `/v1/orders/external/erp/${r.ext}`) },
  { route: 'graphql Query.orderByExternalId', ok: 200, expect: read,
    call: (c, r) => gql(c, 'query($e: String!) { orderByExternalId(system: "erp", externalId: $e) { id } }', { e: r.ext }, 200) },
  { route: 'GET /v1/customers/:id/orders', ok: 200, expect: read, call: (c, r) => rest(c, 'GET', `/v1/customers/${r.id}/orders`) },
  { route: 'PATCH /v1/orders/:id', ok: 200, expect: (c, r) => expectOnRecord(world, c.m, r, 'orders:update', 200),
    call: (c, r) => rest(c, 'PATCH', `/v1/orders/${r.orderId}`, { number: num() }), audited: (r) => r.orderId },
  { route: 'graphql Mutation.updateOrder', ok: 200, expect: (c, r) => expectOnRecord(world, c.m, r, 'orders:update', 200),
    call: (c, r) => gql(c, 'mutation($id: ID!, $n: String) { updateOrder(id: $id, input: { number: $n }) { id } }', { id: r.orderId, n: num() }, 200), audited: (r) => r.orderId },
  { route: 'PUT /v1/orders/external/:system/:externalId', ok: 200, expect: expectUpsert,
    call: (c, r) => rest(c, 'PUT', `/v1/orders/external/erp/${r.ext}`, { number: num() }), audited: (r) => r.orderId },
  { route: 'graphql Mutation.upsertOrder', ok: 200, expect: expectUpsert,
    call: (c, r) => gql(c, 'mutation($e: String!, $n: String) { upsertOrder(system: "erp", externalId: $e, input: { number: $n }) { created } }', { e: r.ext, n: num() }, 200), audited: (r) => r.orderId },
  { route: 'POST /v1/orders', ok: 201, expect: expectCreateOn,
    call: (c, r) => rest(c, 'POST', '/v1/orders', { customerId: r.id, currency: 'EUR' }), audited: (_, out) => out.entityId },
  { route: 'graphql Mutation.createOrder', ok: 201, expect: expectCreateOn,
    call: (c, r) => gql(c, 'mutation($c: ID!) { createOrder(input: { customerId: $c, currency: "EUR" }) { id } }', { c: r.id }, 201) },
];
const LIST_ROUTES = ['GET /v1/orders', 'graphql Query.orders'];

t.test('every order route and GraphQL root field has a row', async (t) => {
  const covered = new Set([...ROWS.map((r) => r.route), ...LIST_ROUTES]);
  const want = ['GET /v1/orders', 'POST /v1/orders', 'GET /v1/orders/:id', 'PATCH /v1/orders/:id', 'GET /v1/orders/external/:system/:externalId', 'PUT /v1/orders/external/:system/:externalId', 'GET /v1/customers/:id/orders'];
  t.same(want.filter((r) => !covered.has(r)), [], 'REST routes without a row');
  const intro = await app.gql(admin, '{ __schema { queryType { fields { name } } mutationType { fields { name } } } }');
  const fields = [
    ...intro.data.__schema.queryType.fields.map((f: { name: string }) => `graphql Query.${f.name}`),
    ...intro.data.__schema.mutationType.fields.map((f: { name: string }) => `graphql Mutation.${f.name}`),
  ];
  t.same(fields.filter((f) => /order/i.test(f) && !covered.has(f)), [], 'GraphQL root fields without a row');
});

t.test("the model's order permissions are the ones the service ships", async (t) => {
  const rows = await queryRows<{ name: string; permissions: string[] }>(app.db, sql`SELECT name, permissions FROM roles WHERE built_in`);
  const universe = ['orders:read', 'orders:create', 'orders:update'];
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
  t.test(row.route, async (t) => {
    const want: Record<string, Record<string, number>> = {};
    const got: Record<string, Record<string, number>> = {};
    const details: string[] = [];
    const auditMismatches: string[] = [];
    for (const name of CALLERS) {
      const c = caller(name);
      want[name] = {};
      got[name] = {};
      for (const pos of POSITIONS) {
        const rec = target(name, pos);
        const out = await row.call(c, rec);
        const exp = row.expect(c, rec);
        want[name][pos] = exp;
        got[name][pos] = out.status;
        if (out.status !== exp && out.detail) details.push(`${name}/${pos}: ${out.detail.slice(0, 300)}`);
        if (out.status === row.ok && row.audited) {
          const entityId = row.audited(rec, out);
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

t.test('lists: each caller sees exactly the model’s visible set, in both doors', async (t) => {
  const byCustomer = new Map(allRecords.map((r) => [r.id, r]));
  for (const name of CALLERS) {
    const c = caller(name);
    const want = visibleIds(world, c.m, allRecords);
    const restIds = new Set<string>();
    const gqlIds = new Set<string>();
    for (const u of MY_UNITS) {
      let cursor: string | null = null;
      do {
        const res = await app.rest(c.user, 'GET', `/v1/orders?ownerUnitId=${u.id}&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        if (res.status !== 200) throw new Error(`${name}: ${res.raw}`);
        for (const o of res.body.data as { customerId: string }[]) if (byCustomer.has(o.customerId)) restIds.add(o.customerId);
        cursor = res.body.nextCursor;
      } while (cursor);
      let after: string | null = null;
      do {
        const r = await app.gql(c.user, 'query($f: OrderFilter, $a: String) { orders(filter: $f, first: 9, after: $a) { edges { node { customerId } } pageInfo { hasNextPage endCursor } } }', { f: { ownerUnitId: u.id }, a: after });
        if (r.errors?.length) throw new Error(`${name}: ${JSON.stringify(r.errors)}`);
        for (const e of r.data.orders.edges as { node: { customerId: string } }[]) if (byCustomer.has(e.node.customerId)) gqlIds.add(e.node.customerId);
        after = r.data.orders.pageInfo.hasNextPage ? r.data.orders.pageInfo.endCursor : null;
      } while (after);
    }
    t.same([...restIds].sort(), want, `${name}: GET /v1/orders`);
    t.same([...gqlIds].sort(), want, `${name}: GraphQL orders`);
  }
});
