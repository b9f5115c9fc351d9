/**
 * The access matrix for the change feed: `GET /v1/events` and GraphQL `events` × every built-in role ×
 * where the record sits relative to the reader (own, same unit, another unit, another partner).
 * Expectations come from the pure model in ./model.ts: a reader holding `events:read` reads an event
 * exactly when the model lets it read the record as it was when the event happened (nothing moves in
 * this test, so: as it is); a reader without `events:read` is refused (403 / FORBIDDEN).
 */
import t from 'tap';
import { buildTestApp, type Unit, type User } from '../helpers/app.js';
import { privatePostgres } from '../helpers/private-postgres.js';
import { BUILT_IN, canRead, type MRecord, type MUnit, type MUser, type UnitKind, type World } from './model.js';

// The feed waits for every older transaction of the cluster: a PostgreSQL of the test's own.
const pg = process.env.DATABASE_URL ? await privatePostgres() : null;
const app = await buildTestApp(pg ? { DATABASE_URL: pg.url } : {});
t.teardown(async () => {
  await app.close();
  await pg?.stop();
});

// Who holds events:read among the built-in roles (api.md §4); checked against the roles shipped below.
const EVENT_READERS = new Set(['admin', 'executive', 'integration', 'partner_manager']);

const root = await app.root();
const R1 = await app.unit('REGION');
const B = await app.unit('BRANCH', R1);
const P1 = await app.unit('PARTNER', R1);
const P2 = await app.unit('PARTNER', R1);
const R2 = await app.unit('REGION');
const B2 = await app.unit('BRANCH', R2);
const ALL_UNITS: Unit[] = [root, R1, B, P1, P2, R2, B2];
const world: World = {
  units: new Map(ALL_UNITS.map((u) => [u.id, { id: u.id, parentId: (u as Unit & { parentId: string | null }).parentId ?? null, kind: (u.kind === 'REGION' && u.id === root.id ? 'HEADQUARTERS' : u.kind) as UnitKind } satisfies MUnit])),
  shares: [],
  delegations: [],
};

const CALLERS = ['admin', 'executive', 'manager', 'marketing', 'sales', 'service', 'partner_manager', 'partner_sales', 'integration'] as const;
const PARTNER_SIDE = new Set<string>(['partner_manager', 'partner_sales']);

t.test('the roles shipped grant events:read exactly to the readers the model names', async (t) => {
  for (const name of CALLERS) {
    const u = await app.user(B, [name]);
    const r = await app.rest(u, 'GET', '/v1/events?limit=1');
    t.equal(r.status === 200, EVENT_READERS.has(name), `${name}: ${r.status}`);
  }
});

/** Everything `who` reads after `after` through REST, following nextCursor. */
async function restFeed(who: User, after: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor = after;
  for (let i = 0; i < 100; i++) {
    const r = await app.rest(who, 'GET', `/v1/events?types=customer.created&limit=50&after=${cursor}`);
    if (r.status !== 200) throw new Error(r.raw);
    ids.push(...r.body.data.map((e: { entityId: string }) => e.entityId));
    if (r.body.data.length === 0) break;
    cursor = r.body.nextCursor;
  }
  return ids;
}

async function graphFeed(who: User, after: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor = after;
  for (let i = 0; i < 100; i++) {
    const r = await app.gql(who, `query ($after: String) { events(after: $after, types: ["customer.created"], first: 50) { edges { node { entityId } } pageInfo { endCursor } } }`, { after: cursor });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    const edges = r.data.events.edges as { node: { entityId: string } }[];
    ids.push(...edges.map((e) => e.node.entityId));
    if (edges.length === 0) break;
    cursor = r.data.events.pageInfo.endCursor;
  }
  return ids;
}

for (const name of CALLERS) {
  t.test(`${name}: own, same unit, other unit, other partner`, async (t) => {
    const partner = PARTNER_SIDE.has(name);
    const home = partner ? P1 : B;
    const reader = await app.user(home, [name]);
    const colleague = await app.user(home, [partner ? 'partner_sales' : 'sales']);
    const elsewhere = await app.user(partner ? B : B2, ['sales']);
    const otherPartner = await app.user(P2, ['partner_sales']);
    const m: MUser = { id: reader.id, unitId: home.id, roles: [BUILT_IN[name]!] };

    const admin = await app.admin();
    const start = await app.rest(admin, 'GET', '/v1/events?limit=1&types=customer.created');
    let from = start.body.nextCursor as string;
    // Past everything already there.
    for (let i = 0; i < 100; i++) {
      const r = await app.rest(admin, 'GET', `/v1/events?limit=500&types=customer.created&after=${from}`);
      if (r.body.data.length === 0) break;
      from = r.body.nextCursor;
    }

    const positions: [string, User][] = [['own', reader], ['same unit', colleague], ['other unit', elsewhere], ['other partner', otherPartner]];
    const records: [string, MRecord][] = [];
    for (const [where, owner] of positions) {
      // Made by the admin for its owner (the reader's own role may not create customers).
      const made = await app.customer(owner, { externalIds: {} });
      records.push([where, { id: made.id, ownerUserId: owner.id, ownerUnitId: owner.unitId }]);
    }

    if (!EVENT_READERS.has(name)) {
      const r = await app.rest(reader, 'GET', `/v1/events?after=${from}`);
      t.equal(r.status, 403, 'REST: 403 without events:read');
      const g = await app.gql(reader, `{ events(first: 1) { edges { node { id } } } }`);
      t.equal(g.errors?.[0]?.extensions?.code, 'FORBIDDEN', 'GraphQL: FORBIDDEN');
      return;
    }
    const rest = new Set(await restFeed(reader, from));
    const graph = new Set(await graphFeed(reader, from));
    for (const [where, rec] of records) {
      const expected = canRead(world, m, rec, 'customers:read');
      t.equal(rest.has(rec.id), expected, `REST ${where}: ${expected ? 'read' : 'not read'}`);
      t.equal(graph.has(rec.id), expected, `GraphQL ${where}: ${expected ? 'read' : 'not read'}`);
    }
    // Nothing of these four beyond the model's answer, and the doors agree.
    const mine = new Set(records.map(([, r]) => r.id));
    t.same([...rest].filter((id) => mine.has(id)).sort(), [...graph].filter((id) => mine.has(id)).sort(), 'both doors read the same events');
  });
}
