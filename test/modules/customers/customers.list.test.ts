import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { digits, tag } from '../../helpers/factories.js';
import { errorPaths, isProblem } from '../../helpers/problems.js';
import { sleep } from '../../helpers/time.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const ids = (res: { body: any }) => res.body.data.map((x: any) => x.id as string);
const same = (a: string[], b: string[]) => [...a].sort().join() === [...b].sort().join();

t.test('filters: lifecycleStage, status, ownerUnitId, ownerUserId, source, kind, valueClass, updatedAfter', async (t) => {
  const c = await company(app);
  const k = tag();
  const mk = (who: typeof c.users.sales, input: Record<string, unknown>) => app.customer(who, { name: `Filter ${k} ${tag()}`, ...input });
  const a = await mk(c.users.sales, { lifecycleStage: 'PROSPECT', source: { channel: 'EVENT' } });
  const b = await mk(c.users.sales, { lifecycleStage: 'OPPORTUNITY', source: { channel: 'WEBSITE' }, kind: 'PERSON' });
  const d = await mk(c.users.otherSales, { lifecycleStage: 'PROSPECT', source: { channel: 'WEBSITE' } });
  const e = await mk(c.users.regionManager, {});
  const frozen = await mk(c.users.sales, { lifecycleStage: 'PROSPECT' });
  const fr = await app.rest(c.users.branchManager, 'POST', `/v1/customers/${frozen.id}/freeze`, {});
  t.equal(fr.status, 200);
  // No API writes the value class (the value model computes it): give only this customer one.
  await app.db.execute(sql`INSERT INTO customer_values (customer_id, model_version, score, value_class) VALUES (${d.id}::uuid, 1, 50, 'A')`);
  const all = [a.id, b.id, d.id, e.id];

  const who = c.users.regionManager;
  const list = (qs: string) => app.rest(who, 'GET', `/v1/customers?limit=200&${qs}`);
  const cases: [string, string[]][] = [
    ['', all],
    ['lifecycleStage=PROSPECT', [a.id, d.id]],
    ['lifecycleStage=prospect', [a.id, d.id]],
    ['status=FROZEN', [frozen.id]],
    ['status=ACTIVE', all],
    ['status=FROZEN&lifecycleStage=OPPORTUNITY', []],
    [`ownerUnitId=${c.branch.id}`, [a.id, b.id]],
    [`ownerUnitId=${c.otherBranch.id}`, [d.id]],
    [`ownerUserId=${c.users.sales.id}`, [a.id, b.id]],
    [`ownerUserId=${c.users.regionManager.id}`, [e.id]],
    ['source=WEBSITE', [b.id, d.id]],
    ['source=WEBSITE&lifecycleStage=PROSPECT', [d.id]],
    ['kind=PERSON', [b.id]],
    ['kind=ORGANIZATION', [a.id, d.id, e.id]],
    ['valueClass=A', [d.id]],
    [`ownerUnitId=${c.region.id}`, [e.id]],
  ];
  for (const [qs, want] of cases) {
    const res = await list(qs);
    t.equal(res.status, 200, `${qs}: ${res.raw}`);
    t.ok(same(ids(res), want), `${qs || '(none)'} → ${want.length}: got ${JSON.stringify(ids(res))}`);
    t.equal(res.body.nextCursor, null);
  }

  // updatedAfter: strictly after the given instant.
  const latest = [a, b, d, e].map((x) => x.updatedAt).sort().at(-1)!;
  await sleep(5);
  const touched = await app.rest(c.users.sales, 'PATCH', `/v1/customers/${b.id}`, { industry: 'Touched' });
  t.equal(touched.status, 200);
  t.ok(touched.body.updatedAt > latest);
  t.same(ids(await list(`updatedAfter=${encodeURIComponent(latest)}`)), [b.id]);
  t.same(ids(await list(`updatedAfter=${encodeURIComponent(touched.body.updatedAt)}`)), [], 'strictly after');
  t.ok(same(ids(await list('updatedAfter=2000-01-01T00:00:00%2B02:00')), all), 'offsets accepted');

  // Scope still applies under every filter: sales sees only its own.
  const salesView = await app.rest(c.users.sales, 'GET', `/v1/customers?ownerUnitId=${c.otherBranch.id}`);
  t.same(ids(salesView), []);
  const salesAll = await app.rest(c.users.sales, 'GET', '/v1/customers');
  t.ok(same(ids(salesAll), [a.id, b.id]));
});

t.test('q searches names by fragment, phones in another format, emails in any case', async (t) => {
  const c = await company(app);
  const k = tag();
  const d = digits();
  const zephyr = await app.customer(c.users.sales, { name: `Blue Zephyr ${k} Trading`, phones: [`+49 (30) ${d.slice(0, 4)}-${d.slice(4)}`], emails: [`Info.${k}@Zephyr.example`] });
  const mueller = await app.customer(c.users.sales, { name: `Müller ${k} Söhne` });
  const other = await app.customer(c.users.sales, { name: `Unrelated ${k}` });
  const q = (s: string) => app.rest(c.users.sales, 'GET', `/v1/customers?q=${encodeURIComponent(s)}`);
  const cases: [string, string[]][] = [
    [`zephyr ${k}`, [zephyr.id]],
    [`ZEPHYR ${k.toUpperCase()} TRAD`, [zephyr.id]],
    [k, [zephyr.id, mueller.id, other.id]],
    [`muller ${k}`, [mueller.id]],
    [`Müller ${k}`, [mueller.id]],
    [`${d.slice(2, 4)} ${d.slice(4, 7)}`, [zephyr.id]],
    [`0049-30-${d}`, [zephyr.id]],
    [`(30) ${d}`, [zephyr.id]],
    [`INFO.${k.toUpperCase()}@zephyr.EXAMPLE`, [zephyr.id]],
    [`info.${k}@zeph`, [zephyr.id]],
    [`nothing-like-${k}x`, []],
  ];
  for (const [s, want] of cases) {
    const res = await q(s);
    t.equal(res.status, 200, res.raw);
    t.ok(same(ids(res), want), `q=${s}: got ${JSON.stringify(res.body.data.map((x: any) => x.name))}`);
  }
  // The same search through GraphQL.
  const g = await app.gql(c.users.sales, 'query($q: String) { customers(filter: { q: $q }) { edges { node { id } } } }', { q: `0049 30 ${d}` });
  t.same(g.data.customers.edges.map((e: any) => e.node.id), [zephyr.id]);
  // Another user's records never match.
  const foreign = await app.rest(c.users.sales2, 'GET', `/v1/customers?q=${k}`);
  t.same(ids(foreign), []);
  // A query of punctuation alone searches nothing: 400, not the whole list.
  for (const s of ['-', '()', ' / ']) {
    const res = await q(s);
    t.equal(res.status, 400, `q=${JSON.stringify(s)}: ${res.raw}`);
    t.same(res.body.errors?.map((e: any) => e.path), ['q']);
  }
});

t.test('sort and keyset pagination: pages of 2 walk every record exactly once, ties included', async (t) => {
  const c = await company(app);
  const k = tag();
  const names = ['delta', 'alpha', 'echo', 'bravo', 'charlie', 'alpha'];
  const made: string[] = [];
  for (const n of names) made.push((await app.customer(c.users.sales, { name: `S${k} ${n}` })).id);
  // Force ties on the sort columns, so the id must break them.
  await app.db.execute(sql`UPDATE customers SET created_at = '2030-01-01T00:00:00Z', updated_at = '2030-01-02T00:00:00Z' WHERE id IN (${sql.join(made.slice(0, 3).map((id) => sql`${id}::uuid`), sql`, `)})`);

  const byCol = (rows: any[], key: string, desc: boolean) =>
    [...rows].sort((x, y) => {
      const a = x[key];
      const b = y[key];
      const cmp = a === b ? (x.id < y.id ? -1 : 1) : a < b ? -1 : 1;
      return desc ? -cmp : cmp;
    });
  const full = await app.rest(c.users.sales, 'GET', '/v1/customers?limit=200');
  t.equal(full.body.data.length, names.length);

  for (const sort of ['createdAt', '-createdAt', 'name', '-name', 'updatedAt', '-updatedAt', undefined]) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = [`limit=2`, sort ? `sort=${sort}` : '', cursor ? `cursor=${cursor}` : ''].filter(Boolean).join('&');
      const res: any = await app.rest(c.users.sales, 'GET', `/v1/customers?${qs}`);
      t.equal(res.status, 200, res.raw);
      t.ok(res.body.data.length <= 2);
      seen.push(...ids(res));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    t.equal(pages, 3, `${sort}: three pages`);
    t.equal(new Set(seen).size, seen.length, `${sort}: no duplicates`);
    t.ok(same(seen, made), `${sort}: none skipped`);
    const field = (sort ?? '-createdAt').replace('-', '');
    const desc = (sort ?? '-createdAt').startsWith('-');
    const whole = await app.rest(c.users.sales, 'GET', `/v1/customers?limit=200&sort=${sort ?? '-createdAt'}`);
    t.same(seen, ids(whole), `${sort}: pages concatenate to the one-page answer`);
    if (field !== 'name') t.same(seen, byCol(full.body.data, field, desc).map((x) => x.id), `${sort}: ordered by ${field} then id`);
    else t.same(whole.body.data.map((x: any) => x.name.split(' ')[1]), desc ? ['echo', 'delta', 'charlie', 'bravo', 'alpha', 'alpha'] : ['alpha', 'alpha', 'bravo', 'charlie', 'delta', 'echo']);
  }
});

t.test('cursors: a cursor from another sort or a forged one is 400, never 500', async (t) => {
  const c = await company(app);
  const k = tag();
  for (const n of ['one', 'two', 'three']) await app.customer(c.users.sales, { name: `Cur${k} ${n}` });
  const byName = await app.rest(c.users.sales, 'GET', '/v1/customers?limit=1&sort=name');
  const nameCursor = byName.body.nextCursor;
  t.type(nameCursor, 'string');
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const bad = [
    ['a name cursor on a time sort', `sort=createdAt&cursor=${nameCursor}`],
    ['a forged id', `sort=createdAt&cursor=${enc(['2030-01-01T00:00:00.000Z', 'not-a-uuid'])}`],
    ['a forged time', `sort=-updatedAt&cursor=${enc(['yesterday', '00000000-0000-4000-8000-000000000000'])}`],
    ['numbers', `sort=name&cursor=${enc([1, 2])}`],
    ['too many parts', `cursor=${enc(['a', 'b', 'c'])}`],
  ];
  for (const [label, qs] of bad) {
    const res = await app.rest(c.users.sales, 'GET', `/v1/customers?${qs}`);
    t.equal(res.status, 400, `${label}: ${res.raw}`);
    t.ok(isProblem(res.headers));
    t.ok(errorPaths(res.body.errors).includes('cursor'), `${label}: ${res.raw}`);
  }
  const g = await app.gql(c.users.sales, 'query($a: String) { customers(first: 1, after: $a) { edges { node { id } } } }', { a: enc(['x', 'not-a-uuid']) });
  t.same(g.codes, ['BAD_USER_INPUT'], JSON.stringify(g.errors));
  const ok = await app.rest(c.users.sales, 'GET', `/v1/customers?sort=name&limit=1&cursor=${nameCursor}`);
  t.equal(ok.status, 200, 'the cursor works with the sort it came from');
  t.equal(ok.body.data.length, 1);
});

t.test('limit defaults to 50 and goes up to 200', async (t) => {
  const owner = await app.user(await app.unit('BRANCH'), ['sales']);
  const k = tag();
  const made: string[] = [];
  for (let i = 0; i < 51; i++) made.push((await app.customer(owner, { name: `Many ${k} ${i}` })).id);
  const first = await app.rest(owner, 'GET', '/v1/customers');
  t.equal(first.body.data.length, 50, 'default page of 50');
  t.type(first.body.nextCursor, 'string');
  const second = await app.rest(owner, 'GET', `/v1/customers?cursor=${first.body.nextCursor}`);
  t.equal(second.body.data.length, 1);
  t.equal(second.body.nextCursor, null);
  const all = await app.rest(owner, 'GET', '/v1/customers?limit=200');
  t.ok(same(ids(all), made), 'all 51 on one page of 200');
  t.equal(all.body.nextCursor, null);
  const g = await app.gql(owner, '{ customers { edges { node { id } } pageInfo { hasNextPage } } }');
  t.equal(g.data.customers.edges.length, 50, 'GraphQL pages default to 50 too');
  t.equal(g.data.customers.pageInfo.hasNextPage, true);
});
