// List counts: ?count=true (REST) and totalCount (GraphQL) answer how many rows all pages of the
// list hold, with the list's filters and within the caller's visibility.
import t from 'tap';
import { buildTestApp, company, type User } from '../../helpers/app.js';
import { opportunity } from '../../helpers/factories.js';
import { problemOf } from '../../helpers/problems.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const co = await company(app);
const { partnerASales, partnerBSales, sales, admin } = co.users;

for (const who of [partnerASales, partnerASales, partnerASales, partnerBSales, sales, sales]) {
  const c = await app.customer(who);
  await opportunity(app, who, c.id);
}
await app.customer(partnerASales, { lifecycleStage: 'PROSPECT' });

// Every row of a list, page after page: what the count must agree with.
async function allRows(who: User, path: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await app.rest(who, 'GET', `${path}${sep}limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    if (r.status !== 200) throw new Error(r.raw);
    ids.push(...r.body.data.map((x: { id: string }) => x.id));
    cursor = r.body.nextCursor;
  } while (cursor);
  return ids;
}

for (const [name, who] of [
  ['a partner', partnerASales],
  ['an admin', admin],
] as const) {
  for (const path of ['/v1/customers', '/v1/customers?lifecycleStage=PROSPECT', '/v1/opportunities', `/v1/opportunities?ownerUserId=${partnerASales.id}`]) {
    t.test(`${name}: ${path} counts the visible rows of every page`, async (t) => {
      const rows = await allRows(who, path);
      const sep = path.includes('?') ? '&' : '?';
      const r = await app.rest(who, 'GET', `${path}${sep}count=true&limit=1`);
      t.equal(r.status, 200, r.raw);
      t.equal(r.body.data.length, Math.min(1, rows.length));
      t.equal(r.body.totalCount, rows.length);
      const plain = await app.rest(who, 'GET', path);
      t.notOk('totalCount' in plain.body, 'no count unless asked');
    });
  }
}

t.test("a partner's count leaves out what it cannot see", async (t) => {
  const mine = await app.rest(partnerASales, 'GET', '/v1/opportunities?count=true');
  const all = await app.rest(admin, 'GET', '/v1/opportunities?count=true');
  t.equal(mine.body.totalCount, 3);
  t.ok(all.body.totalCount >= 6);
});

t.test('GraphQL connections count as REST does, only when asked', async (t) => {
  for (const who of [partnerASales, admin]) {
    const r = await app.gql(who, `{ customers(first: 1) { totalCount edges { node { id } } } opportunities(first: 1) { totalCount } }`);
    t.same(r.errors, undefined);
    const customers = await app.rest(who, 'GET', '/v1/customers?count=true');
    const opportunities = await app.rest(who, 'GET', '/v1/opportunities?count=true');
    t.equal(r.data.customers.totalCount, customers.body.totalCount);
    t.equal(r.data.opportunities.totalCount, opportunities.body.totalCount);
    t.equal(r.data.customers.edges.length, 1);
  }
  const q = `{ customers(first: 5) { edges { node { id } } } }`;
  const without = await app.countStatements(() => app.gql(admin, q));
  const withCount = await app.countStatements(() => app.gql(admin, `{ customers(first: 5) { totalCount edges { node { id } } } }`));
  t.equal(withCount.statements, without.statements + 1, 'the count is one statement, run only when selected');
});

t.test('a bad count value is refused with 400', async (t) => {
  for (const path of ['/v1/customers?count=maybe', '/v1/opportunities?count=1', '/v1/customers?count=']) {
    const r = await app.rest(admin, 'GET', path);
    t.equal(problemOf(r, 400, ['count']), null, path);
  }
});
