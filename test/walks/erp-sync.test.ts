import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import t from 'tap';
import { seedDemo } from '../../src/cli/seed-demo/index.js';
import { queryRows } from '../../src/db/client.js';
import { buildTestApp, type User } from '../helpers/app.js';
import { problemOf } from '../helpers/problems.js';
import { count } from '../helpers/records.js';

// The "done when" of issue 11 (ERP/SCM integration), walked through the API as the demo company's ERP
// connector and one of its salespeople would: the ERP loads 5 000 customers with its ids in one NDJSON
// request, loads them again with nothing changed (all UNCHANGED, no events), links 50 existing CRM customers
// by onDuplicate=link, pushes orders through to CONFIRMED and sees the customers move to CUSTOMER and USER,
// blocks a customer's credit, and the salesperson's attempt to change that is refused.
//
// The demo company gets a database of its own: with DATABASE_URL (CI), a fresh database on that PostgreSQL
// server, dropped at the end, and the full 5 000 rows; without it, the embedded database and 500 rows (a new
// row is one upsert with allocation, audit row and event, too slow on the embedded database for 5 000 in a
// test). ERP_WALK_ROWS overrides the number. Each step's figures are printed as comments
// (`npx tap test/walks/erp-sync.test.ts -R tap`).

const base = process.env.DATABASE_URL;
const ROWS = Number(process.env.ERP_WALK_ROWS ?? (base ? 5000 : 500));
const LINKS = 50;
const ORDERS = 20;

// Seeding the demo company and 5 000 single upserts take minutes on a loaded machine.
t.setTimeout(30 * 60_000);

let url = '';
if (base) {
  const name = `keel_walk_erp_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const target = new URL(base);
  target.pathname = `/${name}`;
  url = target.toString();
}
const app = await buildTestApp({ DATABASE_URL: url });
t.teardown(() => app.close());
const seeded = await seedDemo(app.app, { customers: 150 });

async function person(where: ReturnType<typeof sql>): Promise<User> {
  const [u] = await queryRows<{ id: string; email: string; unit_id: string }>(app.db, sql`SELECT id, email, unit_id FROM users WHERE ${where} ORDER BY email LIMIT 1`);
  if (!u) throw new Error('no such demo user');
  return { id: u.id, email: u.email, unitId: u.unit_id, token: app.token(u.id), roles: [] };
}
const erp = await person(sql`lower(email) = 'erp.integration@demo.keel.dev'`);
const events = () => count(app, sql`SELECT count(*) AS n FROM events`);
const ndjson = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
const load = (query: string, rows: unknown[]) =>
  app.inject({ method: 'POST', url: `/v1/bulk/customers?${query}`, headers: { authorization: `Bearer ${erp.token}`, 'content-type': 'application/x-ndjson' }, payload: ndjson(rows) });
const timed = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const out = await run();
  return [out, Math.round(performance.now() - started)];
};
const rate = (n: number, ms: number) => `${Math.round((n * 1000) / Math.max(ms, 1))} rows/s`;

const k = randomBytes(3).toString('hex');
const rows = Array.from({ length: ROWS }, (_, i) => ({
  externalId: `KD-${k}-${String(i).padStart(5, '0')}`,
  kind: 'ORGANIZATION',
  name: `ERP Kunde ${k} ${i}`,
  industry: i % 2 ? 'Machinery' : 'Retail',
  address: { city: i % 3 ? 'Hamburg' : 'Munich', country: 'DE' },
  creditStatus: 'GOOD',
  creditLimit: '50000.00',
  creditCurrency: 'EUR',
}));
const ids = new Map<string, string>();

t.comment(`demo company seeded: ${seeded.customers} customers, ${seeded.users} users (${seeded.ms} ms); walking with ${ROWS} ERP rows on ${base ? 'PostgreSQL' : 'the embedded database'}`);

t.test(`the ERP loads ${ROWS} customers with its ids in one NDJSON request`, async (t) => {
  const before = await events();
  const [res, ms] = await timed(() => load('system=erp', rows));
  t.equal(res.statusCode, 200, res.body.slice(0, 500));
  const body = res.json();
  t.same(body.summary, { created: ROWS, updated: 0, unchanged: 0, failed: 0 });
  t.equal(body.results.length, ROWS);
  for (const r of body.results) ids.set(r.externalId, r.id);
  t.equal(new Set(ids.values()).size, ROWS, 'one new record per row');
  const made = (await events()) - before;
  t.ok(made >= ROWS, `an event per created customer (${made} events)`);
  const one = await app.rest(erp, 'GET', `/v1/customers/external/erp/${rows[7]?.externalId}`);
  t.equal(one.status, 200, one.raw);
  t.match(one.body, { id: ids.get(rows[7]?.externalId ?? ''), name: rows[7]?.name, creditStatus: 'GOOD', creditLimit: '50000.00', externalIds: { erp: rows[7]?.externalId } });
  t.comment(`load 1: ${ROWS} rows → created ${body.summary.created} in ${ms} ms (${rate(ROWS, ms)}), ${made} events`);
});

t.test('the same load again: every row UNCHANGED, no event written', async (t) => {
  const before = await events();
  const [res, ms] = await timed(() => load('system=erp', rows));
  t.equal(res.statusCode, 200, res.body.slice(0, 500));
  const body = res.json();
  t.same(body.summary, { created: 0, updated: 0, unchanged: ROWS, failed: 0 });
  t.ok(
    body.results.every((r: { externalId: string; id: string; status: string }) => r.status === 'UNCHANGED' && r.id === ids.get(r.externalId)),
    'each row answers its record, unchanged',
  );
  t.equal(await events(), before, 'no events');
  t.comment(`load 2 (nothing changed): ${ROWS} rows → unchanged ${body.summary.unchanged} in ${ms} ms (${rate(ROWS, ms)}), 0 events`);
});

t.test(`${LINKS} existing CRM customers linked by onDuplicate=link`, async (t) => {
  // Demo customers the ERP does not know yet whose name alone finds them and nothing else (the create's
  // own duplicate check says so): the link's one match.
  const known = await queryRows<{ id: string; name: string; kind: string }>(
    app.db,
    sql`SELECT c.id, c.name, c.kind FROM customers c
        WHERE c.status = 'ACTIVE' AND NOT (c.external_ids ? 'erp')
          AND (SELECT count(*) FROM customers d WHERE d.name_norm = c.name_norm) = 1
        ORDER BY c.name`,
  );
  const crm: typeof known = [];
  for (const c of known) {
    if (crm.length === LINKS) break;
    const dup = await app.rest(erp, 'POST', '/v1/customers/duplicate-check', { kind: c.kind, name: c.name });
    t.equal(dup.status, 200, dup.raw);
    if (dup.body.candidates.length === 1 && dup.body.candidates[0].id === c.id && dup.body.protectedMatches.length === 0 && !dup.body.claimed) crm.push(c);
  }
  t.equal(crm.length, LINKS, `${LINKS} demo customers to link (of ${known.length} with a name of their own)`);
  const linkRows = crm.map((c, i) => ({ externalId: `KD-${k}-L${i}`, kind: c.kind, name: c.name }));
  const refused = await load('system=erp', linkRows.slice(0, 1));
  t.match(refused.json().results[0], { status: 'FAILED', error: { code: 'DUPLICATE_CUSTOMER' } }, 'without link: the duplicate refusal');
  const [res, ms] = await timed(() => load('system=erp&onDuplicate=link', linkRows));
  t.equal(res.statusCode, 200, res.body.slice(0, 500));
  const body = res.json();
  t.same(body.summary, { created: 0, updated: LINKS, unchanged: 0, failed: 0 }, JSON.stringify(body.results.filter((r: { status: string }) => r.status === 'FAILED')));
  t.same(
    body.results.map((r: { id: string }) => r.id),
    crm.map((c) => c.id),
    'each row linked to the existing customer, none created',
  );
  const linked = await app.rest(erp, 'GET', `/v1/customers/external/erp/${linkRows[3]?.externalId}`);
  t.equal(linked.body.id, crm[3]?.id, 'read by the ERP id: the CRM record');
  for (const [i, c] of crm.entries()) ids.set(`KD-${k}-L${i}`, c.id);
  t.comment(`link: ${LINKS} rows → updated (linked) ${body.summary.updated}, created 0, in ${ms} ms`);
});

t.test(`orders pushed through to CONFIRMED: ${ORDERS} customers move to CUSTOMER, then USER`, async (t) => {
  const line = [{ product: 'Hydraulic press', productLine: 'Machinery', quantity: '2', unitPrice: '12500.00' }];
  const orderRows = rows.slice(0, ORDERS).map((r, i) => ({ externalId: `SO-${k}-${i}`, customer: { system: 'erp', externalId: r.externalId }, number: `SO-${k}-${i}`, currency: 'EUR', lines: line }));
  const customerIds = rows.slice(0, ORDERS).map((r) => ids.get(r.externalId) as string);
  const stages = async () => {
    const out = [];
    for (const id of customerIds) out.push((await app.rest(erp, 'GET', `/v1/customers/${id}`)).body.lifecycleStage as string);
    return out;
  };
  const before = new Set(await stages());
  const [ordered, ms1] = await timed(() => app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows: orderRows }));
  t.equal(ordered.status, 200, ordered.raw);
  t.same(ordered.body.summary, { created: ORDERS, updated: 0, unchanged: 0, failed: 0 });
  t.same(new Set(await stages()), new Set(['CUSTOMER']), 'a first order: CUSTOMER');
  const order = await app.rest(erp, 'GET', `/v1/orders/external/erp/SO-${k}-0`);
  t.match(order.body, { status: 'ORDERED', amount: '25000.00', customerId: customerIds[0] });
  const steps = ['PAID', 'SHIPPED', 'CONFIRMED'];
  let ms2 = 0;
  for (const status of steps) {
    const [res, ms] = await timed(() => app.rest(erp, 'POST', '/v1/bulk/orders', { system: 'erp', rows: orderRows.map((r) => ({ externalId: r.externalId, status })) }));
    ms2 += ms;
    t.same(res.body.summary, { created: 0, updated: ORDERS, unchanged: 0, failed: 0 }, `${status}: every order moved`);
  }
  t.same(new Set(await stages()), new Set(['USER']), 'a first confirmed order: USER');
  const history = await app.rest(erp, 'GET', `/v1/customers/${customerIds[0]}/lifecycle-transitions`);
  t.same(
    history.body.data.filter((x: { cause: string }) => x.cause === 'ORDER').map((x: { to: string }) => x.to).sort(),
    ['CUSTOMER', 'USER'],
    'both moves recorded with cause ORDER',
  );
  t.comment(`orders: ${ORDERS} created (${ms1} ms), pushed ORDERED → ${steps.join(' → ')} (${ms2} ms); stages before ${[...before].join('/')}, after first order CUSTOMER, after confirmation USER`);
});

t.test("the ERP blocks a customer's credit; the salesperson's attempt to change it is refused", async (t) => {
  // A linked CRM customer owned by a demo salesperson.
  const [owned] = await queryRows<{ id: string; owner: string; ext: string }>(
    app.db,
    sql`SELECT c.id, c.owner_user_id AS owner, c.external_ids->>'erp' AS ext FROM customers c
        JOIN user_roles ur ON ur.user_id = c.owner_user_id JOIN roles r ON r.id = ur.role_id AND r.name = 'sales'
        WHERE c.external_ids->>'erp' LIKE ${`KD-${k}-L%`} ORDER BY c.name LIMIT 1`,
  );
  t.ok(owned, 'a linked customer owned by a salesperson');
  if (!owned) return;
  const blocked = await app.rest(erp, 'PUT', `/v1/customers/external/erp/${owned.ext}`, { creditStatus: 'BLOCKED', creditLimit: '0.00', creditCurrency: 'EUR' });
  t.equal(blocked.status, 200, blocked.raw);
  t.match(blocked.body, { id: owned.id, creditStatus: 'BLOCKED', creditLimit: '0.00' });
  const seller = await person(sql`id = ${owned.owner}::uuid`);
  const mine = await app.rest(seller, 'GET', `/v1/customers/${owned.id}`);
  t.equal(mine.status, 200, 'the salesperson sees the customer');
  const before = await events();
  const attempt = await app.rest(seller, 'PATCH', `/v1/customers/${owned.id}`, { creditStatus: 'GOOD' });
  t.equal(problemOf(attempt, 403, ['creditStatus']), null, 'refused, naming creditStatus');
  const gql = await app.gql(seller, `mutation($id: ID!) { updateCustomer(id: $id, input: { creditStatus: "GOOD" }) { id } }`, { id: owned.id });
  t.ok(gql.errors?.length, 'refused through GraphQL too');
  t.equal(await events(), before, 'nothing written');
  const after = await app.rest(erp, 'GET', `/v1/customers/${owned.id}`);
  t.match(after.body, { creditStatus: 'BLOCKED', version: blocked.body.version });
  t.comment(`credit: ERP PUT by external id → 200 BLOCKED (version ${blocked.body.version}); salesperson PATCH → ${attempt.status} ${attempt.body.code} naming ${attempt.body.errors?.map((e: { path: string }) => e.path).join(', ')}`);
});
