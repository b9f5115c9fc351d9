import { sql } from 'drizzle-orm';
import tap from 'tap';
import { buildTestApp, company, type User } from '../../helpers/app.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';
import { enc, ids, type Row, syncChecker } from '../../helpers/sync-checks.js';

// A customer's costs as a sync reads them (docs/integration.md "Sync reads"): a cost is never changed,
// so `updatedAfter` means "recorded after" and `updatedAt` is always `createdAt`. Each test reads a
// fresh customer, so the shared database's other costs never enter the comparisons.

const app = await buildTestApp();
tap.teardown(() => app.close());
const c = await company(app);
const { syncChecks, walk } = syncChecker(app);
const day = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * day).toISOString();

async function cost(who: User, customerId: string, incurredAt: string): Promise<string> {
  const res = await app.rest(who, 'POST', `/v1/customers/${customerId}/costs`, { kind: 'SERVICE', amount: '10.00', currency: 'EUR', incurredAt });
  if (res.status !== 201) throw new Error(res.raw);
  return res.body.id as string;
}

const costsQuery = (customerId: string, args: string) =>
  `{ customerCosts(customerId: "${customerId}" ${args}) { totalCount edges { node { id createdAt updatedAt } } } }`;
const gqlCosts = (d: any): Row[] => d.customerCosts.edges.map((e: { node: Row }) => e.node);

tap.test('costs: recorded after the mark, ties by id across pages, both doors, bad values named', async (t) => {
  const seller = c.users.sales;
  const customer = await app.customer(seller, { lifecycleStage: 'CUSTOMER' as never });
  const a = await cost(seller, customer.id, ago(2));
  const b = await cost(seller, customer.id, ago(1));
  await syncChecks(
    t,
    {
      rest: (qs) => `/v1/customers/${customer.id}/costs?${qs.slice(1)}`,
      // The field takes updatedAfter as an argument of its own, as REST does.
      gql: (filter, args) => costsQuery(customer.id, `${filter} ${args}`),
      gqlRows: gqlCosts,
      reader: seller,
      table: 'customer_costs',
      column: 'created_at',
    },
    a,
    b,
    // A cost is never edited: what a sync learns of next is a new one.
    () => cost(seller, customer.id, ago(3)),
  );
  const listed = await app.rest(seller, 'GET', `/v1/customers/${customer.id}/costs`);
  t.ok(listed.body.data.length === 3 && listed.body.data.every((r: Row & { createdAt: string }) => r.updatedAt === r.createdAt), 'updatedAt is always createdAt');
  const g = await app.gql(seller, costsQuery(customer.id, 'updatedAfter: "yesterday"'));
  t.same(gqlPaths(g), ['updatedAfter'], 'GraphQL names updatedAfter');
});

tap.test('costs: each sort pages in its order; the default is newest spending first, as before', async (t) => {
  const seller = c.users.sales;
  const customer = await app.customer(seller, { lifecycleStage: 'CUSTOMER' as never });
  // Recorded in this order, spent in another.
  const x = await cost(seller, customer.id, ago(5));
  const y = await cost(seller, customer.id, ago(1));
  const z = await cost(seller, customer.id, ago(3));
  const base = Date.parse('2001-06-01T00:00:00Z');
  for (const [i, id] of [x, y, z].entries()) {
    await app.db.execute(sql`UPDATE customer_costs SET created_at = ${new Date(base + i * 1000).toISOString()}::timestamptz WHERE id = ${id}`);
  }
  const s = { rest: (qs: string) => `/v1/customers/${customer.id}/costs?${qs.slice(1)}`, reader: seller, table: 'customer_costs', column: 'created_at' };
  const bySpending = [x, z, y];
  const byRecording = [x, y, z];
  t.same(await walk(s, ''), [...bySpending].reverse(), 'default: newest spending first, page by page');
  t.same(await walk(s, '&sort=-incurredAt'), [...bySpending].reverse(), '-incurredAt is the default order');
  t.same(await walk(s, '&sort=incurredAt'), bySpending, 'incurredAt: oldest spending first');
  t.same(await walk(s, '&sort=createdAt'), byRecording, 'createdAt: first recorded first');
  t.same(await walk(s, '&sort=-createdAt'), [...byRecording].reverse(), '-createdAt: last recorded first');
  t.same(await walk(s, `&sort=createdAt&updatedAfter=${enc(new Date(base).toISOString())}`), [y, z], 'updatedAfter: recorded strictly after the instant');
  const counted = await app.rest(seller, 'GET', s.rest(`&updatedAfter=${enc(new Date(base).toISOString())}&count=true`));
  t.equal(counted.body.totalCount, 2, 'count=true counts what updatedAfter leaves');

  // The default's cursor goes on with no sort given, and belongs to it.
  const first = await app.rest(seller, 'GET', s.rest('&limit=1'));
  t.same(ids(first.body.data), [y]);
  t.same(ids((await app.rest(seller, 'GET', s.rest(`&limit=1&sort=-incurredAt&cursor=${enc(first.body.nextCursor)}`))).body.data), [z], 'the default cursor is -incurredAt');
  t.equal(problemOf(await app.rest(seller, 'GET', s.rest(`&sort=createdAt&cursor=${enc(first.body.nextCursor)}`)), 400, ['cursor']), null);

  // GraphQL: the same sorts, paged by `after`.
  const page1 = await app.gql(seller, `{ customerCosts(customerId: "${customer.id}", sort: "incurredAt", first: 2) { edges { node { id } } pageInfo { endCursor hasNextPage } } }`);
  t.same(page1.errors, undefined, JSON.stringify(page1.errors));
  t.same(page1.data.customerCosts.edges.map((e: { node: Row }) => e.node.id), [x, z]);
  t.equal(page1.data.customerCosts.pageInfo.hasNextPage, true);
  const page2 = await app.gql(seller, `{ customerCosts(customerId: "${customer.id}", sort: "incurredAt", first: 2, after: "${page1.data.customerCosts.pageInfo.endCursor}") { edges { node { id } } } }`);
  t.same(page2.data.customerCosts.edges.map((e: { node: Row }) => e.node.id), [y], 'GraphQL: the next page of the same sort');
  const recorded = await app.gql(seller, costsQuery(customer.id, `sort: "-createdAt", updatedAfter: "${new Date(base).toISOString()}"`));
  t.same(ids(gqlCosts(recorded.data)), [z, y], 'GraphQL: -createdAt with updatedAfter');
  t.equal(recorded.data.customerCosts.totalCount, 2);
  t.same(ids(gqlCosts((await app.gql(seller, costsQuery(customer.id, ''))).data)), [y, z, x], 'GraphQL: the default order as before');

  t.equal(problemOf(await app.rest(seller, 'GET', s.rest('&sort=amount')), 400, ['sort']), null);
  t.equal(problemOf(await app.rest(seller, 'GET', s.rest('&sort=--createdAt')), 400, ['sort']), null);
});

tap.test("costs: another partner's customer is not found, sync arguments or not", async (t) => {
  const owner = c.users.partnerASales;
  const customer = await app.customer(owner, { lifecycleStage: 'CUSTOMER' as never });
  await cost(owner, customer.id, ago(1));
  const sync = `updatedAfter=${enc('1990-01-01T00:00:00Z')}&sort=createdAt`;
  t.equal((await app.rest(owner, 'GET', `/v1/customers/${customer.id}/costs?${sync}`)).body.data.length, 1, 'its owner reads it');
  for (const who of [c.users.partnerBSales, c.users.partnerBManager]) {
    t.equal(problemOf(await app.rest(who, 'GET', `/v1/customers/${customer.id}/costs?${sync}`), 404), null);
    const g = await app.gql(who, costsQuery(customer.id, 'updatedAfter: "1990-01-01T00:00:00Z", sort: "createdAt"'));
    t.equal(g.codes[0], 'NOT_FOUND');
  }
});
