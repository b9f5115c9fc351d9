// GET /v1/audit: admins and executives, filters, keyset paging, visibility, hidden fields masked.
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { customRole } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';

t.test('audit trail', async (t) => {
  const app = await buildTestApp();
  t.teardown(() => app.close());
  const c = await company(app);
  const { admin, executive, sales, partnerAManager, partnerBSales } = c.users;
  const mine = await app.customer(sales);
  for (const website of ['https://a.example', 'https://b.example', 'https://c.example']) {
    const res = await app.rest(sales, 'PATCH', `/v1/customers/${mine.id}`, { website }, { 'x-request-id': `audit-${website.slice(8, 9)}` });
    t.equal(res.status, 200);
  }

  const all = await app.rest(admin, 'GET', `/v1/audit?entityType=customer&entityId=${mine.id}`);
  t.equal(all.status, 200, all.raw);
  t.same(all.body.data.map((r: { action: string }) => r.action), ['updated', 'updated', 'updated', 'created'], 'newest first');
  t.equal(all.body.data[0].actorId, sales.id);
  t.equal(all.body.data[0].requestId, 'audit-c', 'the request id of the write');
  t.equal(all.body.data[0].after.website, 'https://c.example');

  const p1 = await app.rest(admin, 'GET', `/v1/audit?entityId=${mine.id}&limit=2`);
  t.equal(p1.body.data.length, 2);
  t.ok(p1.body.nextCursor);
  const p2 = await app.rest(admin, 'GET', `/v1/audit?entityId=${mine.id}&limit=2&cursor=${p1.body.nextCursor}`);
  t.same([...p1.body.data, ...p2.body.data].map((r: { id: string }) => r.id), all.body.data.map((r: { id: string }) => r.id), 'keyset pages cover the trail once');
  t.equal(p2.body.nextCursor, null);
  t.equal((await app.rest(admin, 'GET', `/v1/audit?entityId=${mine.id}&limit=2&count=true`)).body.totalCount, 4, 'count=true counts every page');

  const byActor = await app.rest(admin, 'GET', `/v1/audit?actorId=${sales.id}&after=${new Date(Date.now() - 3600_000).toISOString()}`);
  t.ok(byActor.body.data.length >= 4 && byActor.body.data.every((r: { actorId: string }) => r.actorId === sales.id), 'by actor and time');
  const future = await app.rest(admin, 'GET', `/v1/audit?entityId=${mine.id}&after=${new Date(Date.now() + 3600_000).toISOString()}`);
  t.same(future.body.data, [], 'nothing after a future time');

  t.equal((await app.rest(executive, 'GET', `/v1/audit?entityId=${mine.id}`)).body.data.length, 4, 'an executive reads it');
  t.equal(problemOf(await app.rest(sales, 'GET', '/v1/audit'), 403), null, 'a salesperson may not');
  t.equal(problemOf(await app.rest(partnerAManager, 'GET', '/v1/audit'), 403), null, 'nor a partner manager');

  t.test('bad input', async (t) => {
    t.equal(problemOf(await app.rest(admin, 'GET', '/v1/audit?foo=1'), 400, ['foo']), null);
    t.equal(problemOf(await app.rest(admin, 'GET', '/v1/audit?entityId=nope'), 400, ['entityId']), null);
    t.equal(problemOf(await app.rest(admin, 'GET', '/v1/audit?after=0000-01-01T00:00:00Z'), 400, ['after']), null);
    t.equal(problemOf(await app.rest(admin, 'GET', '/v1/audit?cursor=WyJ4Il0'), 400, ['cursor']), null, 'a forged cursor');
    t.equal(problemOf(await app.rest(admin, 'GET', '/v1/audit?limit=201'), 400, ['limit']), null);
  });

  t.test('a partner executive sees only its partner’s records; hidden fields are masked', async (t) => {
    const partnerExec = await app.user(c.partnerA, ['executive']);
    const theirs = await app.customer(partnerBSales);
    const res = await app.rest(partnerExec, 'GET', `/v1/audit?entityId=${theirs.id}`);
    t.equal(res.status, 200);
    t.same(res.body.data, [], "another partner's customer: nothing");
    t.same((await app.rest(partnerExec, 'GET', `/v1/audit?entityId=${mine.id}`)).body.data, [], "the company's customer: nothing");
    const own = await app.customer(c.users.partnerASales, { creditStatus: 'WATCH' } as never);
    const seen = await app.rest(admin, 'GET', `/v1/audit?entityId=${own.id}`);
    t.equal(seen.body.data[0].after.creditStatus, 'WATCH', 'the admin sees the credit status');
    const role = await customRole(app, 'ALL', ['audit:read', 'customers:read'], ['customer.creditStatus']);
    const auditor = await app.user(c.region, [role.name]);
    const hidden = await app.rest(auditor, 'GET', `/v1/audit?entityId=${own.id}`);
    t.equal(hidden.status, 200);
    t.equal(hidden.body.data.length, 1);
    t.notOk('creditStatus' in hidden.body.data[0].after, 'a field its role hides is masked in after');
    t.notOk(hidden.raw.includes('WATCH'), 'and nowhere in the answer');
    const masked = await app.rest(partnerExec, 'GET', `/v1/audit?entityId=${own.id}`);
    t.equal(masked.body.data.length, 1, 'its own partner’s customer is visible');
  });

  t.test('the GraphQL door: same filters, paging, visibility and masking', async (t) => {
    const q = 'query($f: AuditFilter, $first: Int, $after: String) { audit(filter: $f, first: $first, after: $after) { totalCount edges { cursor node { id at actorId onBehalfOfId requestId client entityType entityId action before after } } pageInfo { hasNextPage endCursor } } }';
    const g = await app.gql(admin, q, { f: { entityType: 'customer', entityId: mine.id } });
    t.same(g.errors, undefined);
    t.same(g.data.audit.edges.map((e: { node: unknown }) => e.node), all.body.data, 'the same rows as REST');
    t.equal(g.data.audit.totalCount, 4);
    const p1 = await app.gql(admin, q, { f: { entityId: mine.id }, first: 3 });
    t.equal(p1.data.audit.pageInfo.hasNextPage, true);
    const p2 = await app.gql(admin, q, { f: { entityId: mine.id }, first: 3, after: p1.data.audit.pageInfo.endCursor });
    t.same([...p1.data.audit.edges, ...p2.data.audit.edges].map((e: { node: { id: string } }) => e.node.id), all.body.data.map((r: { id: string }) => r.id), 'pages cover the trail once');
    const timed = await app.gql(admin, q, { f: { actorId: sales.id, after: new Date(Date.now() + 3600_000).toISOString() } });
    t.same(timed.data.audit.edges, [], 'by actor and time');
    t.equal((await app.gql(executive, q, { f: { entityId: mine.id } })).data.audit.totalCount, 4, 'an executive reads it');

    t.same((await app.gql(sales, '{ audit { totalCount } }')).codes, ['FORBIDDEN'], 'a salesperson may not');
    t.same((await app.gql(partnerAManager, '{ audit { totalCount } }')).codes, ['FORBIDDEN'], 'nor a partner manager');

    t.same(gqlPaths(await app.gql(admin, q, { f: { entityId: 'nope' } })), ['filter.entityId'], 'a bad id names the filter field');
    t.same(gqlPaths(await app.gql(admin, q, { f: { after: '0000-01-01T00:00:00Z' } })), ['filter.after']);
    t.same(gqlPaths(await app.gql(admin, q, { f: { entityType: 'Customer; DROP' } })), ['filter.entityType']);
    t.same(gqlPaths(await app.gql(admin, q, { after: 'WyJ4Il0' })), ['after'], 'a forged cursor');
    t.same(gqlPaths(await app.gql(admin, q, { first: 201 })), ['first']);

    const partnerExec = await app.user(c.partnerA, ['executive']);
    const theirs = await app.customer(partnerBSales);
    const hidden = await app.gql(partnerExec, q, { f: { entityId: theirs.id } });
    t.same(hidden.errors, undefined);
    t.same(hidden.data.audit.edges, [], "another partner's customer: nothing");
    t.equal(hidden.data.audit.totalCount, 0, 'and not counted');
    const own = await app.customer(c.users.partnerASales, { creditStatus: 'WATCH' } as never);
    const role = await customRole(app, 'ALL', ['audit:read', 'customers:read'], ['customer.creditStatus']);
    const auditor = await app.user(c.region, [role.name]);
    const masked = await app.gql(auditor, q, { f: { entityId: own.id } });
    t.equal(masked.data.audit.edges.length, 1);
    t.notOk('creditStatus' in masked.data.audit.edges[0].node.after, 'a field its role hides is masked');
    t.notOk(JSON.stringify(masked.data).includes('WATCH'), 'and nowhere in the answer');
  });
});
