import t from 'tap';
import { buildTestApp, company } from '../helpers/app.js';
import { tag } from '../helpers/factories.js';

const app = await buildTestApp();
t.teardown(() => app.close());

t.test('a salesperson creates and reads a customer; another partner gets 404', async (t) => {
  const c = await company(app);
  // A name of this run's own: on a database kept between runs the second run would otherwise be a duplicate (409).
  const created = await app.rest(c.users.sales, 'POST', '/v1/customers', { name: `Smoke Test ${tag()} Ltd`, kind: 'ORGANIZATION' }, { 'idempotency-key': 'x' });
  t.equal(created.status, 201, created.raw);
  const id = created.body.id;
  const mine = await app.rest(c.users.sales, 'GET', `/v1/customers/${id}`);
  t.equal(mine.status, 200);
  t.equal(mine.headers.etag, '"1"');
  const theirs = await app.rest(c.users.partnerBSales, 'GET', `/v1/customers/${id}`);
  t.equal(theirs.status, 404);
  const g = await app.gql(c.users.partnerBManager, 'query($id: ID!) { customer(id: $id) { id } }', { id });
  t.same(g.codes, ["NOT_FOUND"], JSON.stringify(g));
});
