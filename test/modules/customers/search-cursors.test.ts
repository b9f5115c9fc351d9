import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { digits, tag } from '../../helpers/factories.js';
import { errorPaths, isProblem } from '../../helpers/problems.js';

// The `q` search is normalised exactly as the stored values are, and a cursor belongs to the sort it
// was minted for.

const app = await buildTestApp();
t.teardown(() => app.close());

const ids = (res: { body: any }) => res.body.data.map((x: any) => x.id as string);

t.test('q finds a registration id however it is spaced or punctuated (REST and GraphQL)', async (t) => {
  const c = await company(app);
  const n = digits(9);
  const compact = await app.customer(c.users.sales, { name: `Reg ${tag()}`, registrationId: `HRB${n}` });
  const spaced = await app.customer(c.users.sales, { name: `Reg ${tag()}`, registrationId: `FN ${n.slice(0, 6)} a` });
  const list = (q: string) => app.rest(c.users.sales, 'GET', `/v1/customers?limit=200&q=${encodeURIComponent(q)}`);
  for (const q of [`HRB ${n}`, `hrb-${n}`, `HRB.${n.slice(0, 3)} ${n.slice(3)}`, `HRB${n}`, `hrb ${n.slice(0, 5)}`]) {
    const res = await list(q);
    t.equal(res.status, 200, res.raw);
    t.ok(ids(res).includes(compact.id), `${q} finds HRB${n}`);
    t.notOk(ids(res).includes(spaced.id), `${q} does not find the other one`);
  }
  for (const q of [`FN${n.slice(0, 6)}A`, `fn ${n.slice(0, 6)} a`, `FN-${n.slice(0, 6)}-a`]) {
    t.ok(ids(await list(q)).includes(spaced.id), `${q} finds FN ${n.slice(0, 6)} a`);
  }
  // A phone-like query still matches registration digits and phones by their digits.
  t.ok(ids(await list(`${n.slice(0, 3)} ${n.slice(3)}`)).includes(compact.id), 'digits with a space');
  const g = await app.gql(c.users.sales, 'query($q: String) { customers(first: 200, filter: { q: $q }) { edges { node { id } } } }', { q: `HRB ${n}` });
  t.equal(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.customers.edges.map((e: { node: { id: string } }) => e.node.id), [compact.id], 'GraphQL finds it the same way');
});

t.test('q still finds names, e-mails and phones; punctuation alone is refused', async (t) => {
  const c = await company(app);
  const k = tag();
  const phone = `+49 40 ${digits(7)}`;
  const cust = await app.customer(c.users.sales, { name: `Nordhafen ${k} GmbH`, emails: [`first_last.${k}@nord.example`], phones: [phone] });
  const list = (q: string) => app.rest(c.users.sales, 'GET', `/v1/customers?limit=200&q=${encodeURIComponent(q)}`);
  for (const q of [`nordhafen ${k}`, `NORDHAFEN  ${k} gmbh`, `first_last.${k}@nord.example`, `0049 40 ${phone.slice(7)}`, phone]) {
    t.ok(ids(await list(q)).includes(cust.id), `${q} finds it`);
  }
  const bad = await list('-- //');
  t.equal(bad.status, 400);
  t.ok(isProblem(bad.headers));
  t.same(errorPaths(bad.body.errors), ['q']);
});

t.test('a customer cursor belongs to its sort: another sort is 400, never a wrong page (REST and GraphQL)', async (t) => {
  const c = await company(app);
  const k = tag();
  for (const n of ['alpha', 'bravo', 'charlie']) await app.customer(c.users.sales, { name: `Sort${k} ${n}` });
  const who = c.users.sales;
  const mint = async (sort: string) => (await app.rest(who, 'GET', `/v1/customers?limit=1&sort=${sort}`)).body.nextCursor as string;
  const pairs: [string, string][] = [
    ['createdAt', 'updatedAt'],
    ['updatedAt', 'createdAt'],
    ['createdAt', '-createdAt'],
    ['name', '-name'],
    ['-createdAt', 'name'],
  ];
  for (const [from, to] of pairs) {
    const cursor = await mint(from);
    t.type(cursor, 'string');
    const res = await app.rest(who, 'GET', `/v1/customers?limit=1&sort=${to}&cursor=${cursor}`);
    t.equal(res.status, 400, `${from} cursor with sort=${to}: ${res.raw}`);
    t.ok(isProblem(res.headers));
    t.same(errorPaths(res.body.errors), ['cursor']);
    t.equal((await app.rest(who, 'GET', `/v1/customers?limit=1&sort=${from}&cursor=${cursor}`)).status, 200, `${from} cursor with its own sort`);
  }
  // No sort given is the default sort, -createdAt.
  const byDefault = (await app.rest(who, 'GET', '/v1/customers?limit=1')).body.nextCursor;
  t.equal((await app.rest(who, 'GET', `/v1/customers?limit=1&sort=-createdAt&cursor=${byDefault}`)).status, 200);
  t.equal((await app.rest(who, 'GET', `/v1/customers?limit=1&sort=createdAt&cursor=${byDefault}`)).status, 400);

  const first = await app.gql(who, '{ customers(first: 1, sort: "name") { pageInfo { endCursor } } }');
  const after = first.data.customers.pageInfo.endCursor;
  const q = 'query($a: String, $s: String) { customers(first: 1, sort: $s, after: $a) { edges { node { name } } } }';
  const other = await app.gql(who, q, { a: after, s: '-name' });
  t.same(other.codes, ['BAD_USER_INPUT'], JSON.stringify(other.errors));
  t.ok(errorPaths(other.errors?.[0]?.extensions?.errors).includes('cursor'));
  const same = await app.gql(who, q, { a: after, s: 'name' });
  t.equal(same.errors, undefined, JSON.stringify(same.errors));
  t.match(same.data.customers.edges[0].node.name, /bravo$/, 'the next page of the same sort');
});
