// The principal cache: reused for a short time, cleared at once by writes that change a principal.
import { eq } from 'drizzle-orm';
import t from 'tap';
import { userRoles } from '../../src/db/schema/index.js';
import { createPrincipalCache } from '../../src/modules/org/principal-cache.js';
import { buildTestApp } from '../helpers/app.js';

t.test('unit: entries expire, are copies, and the oldest leaves first', async (t) => {
  const cache = createPrincipalCache(50, 2);
  const p = { userId: 'a', email: 'a@x', name: 'A', kind: 'HUMAN' as const, unitId: 'u', unitPath: '/u/', partnerPath: null, roles: [], delegatorIds: [], active: true };
  cache.set('a', p);
  const got = cache.get('a');
  t.same(got, p);
  if (got) got.requestId = 'req-1';
  t.equal(cache.get('a')?.requestId, undefined, 'a request stamps its own copy');
  cache.set('b', { ...p, userId: 'b' });
  cache.set('c', { ...p, userId: 'c' });
  t.equal(cache.get('a'), null, 'bounded: the oldest entry left');
  await new Promise((r) => setTimeout(r, 70));
  t.equal(cache.get('c'), null, 'expired');
  const off = createPrincipalCache(0);
  off.set('a', p);
  t.equal(off.get('a'), null, 'a TTL of 0 keeps nothing');
});

t.test('through the API', async (t) => {
  const app = await buildTestApp({ PRINCIPAL_CACHE_MS: '60000' });
  t.teardown(() => app.close());
  const region = await app.unit('REGION');
  const branch = await app.unit('BRANCH', region);
  const seller = await app.user(branch, ['sales']);
  const colleague = await app.user(branch, ['sales']);
  const admin = await app.admin();
  const theirs = await app.customer(colleague);

  t.equal((await app.rest(seller, 'GET', '/v1/me')).status, 200, 'loaded once, then cached');
  const cached = await app.countStatements(() => app.rest(seller, 'GET', '/v1/me'));
  const fresh = await app.countStatements(async () => {
    app.app.principals.clear();
    return app.rest(seller, 'GET', '/v1/me');
  });
  t.equal(fresh.statements - cached.statements, 1, 'a cached principal saves the lookup statement');

  // A delegation made through the API reaches the delegate's next request at once.
  t.equal((await app.rest(seller, 'GET', `/v1/customers/${theirs.id}`)).status, 404);
  const d = await app.rest(colleague, 'POST', '/v1/delegations', { toUserId: seller.id, endsAt: new Date(Date.now() + 86_400_000).toISOString() });
  t.equal(d.status, 201, d.raw);
  t.equal((await app.rest(seller, 'GET', `/v1/customers/${theirs.id}`)).status, 200, 'the delegate works for the delegator at once');
  const revoked = await app.gql(colleague, 'mutation($id: ID!) { revokeDelegation(id: $id) }', { id: d.body.id });
  t.same(revoked.errors, undefined);
  t.equal((await app.rest(seller, 'GET', `/v1/customers/${theirs.id}`)).status, 404, 'and stops at once when it is revoked');

  // Deactivation through the API locks the user out at once.
  const leaver = await app.user(branch, ['sales']);
  t.equal((await app.rest(leaver, 'GET', '/v1/me')).status, 200);
  const off = await app.rest(admin, 'PATCH', `/v1/users/${leaver.id}`, { active: false });
  t.equal(off.status, 200, off.raw);
  t.equal((await app.rest(leaver, 'GET', '/v1/me')).status, 401, 'a deactivated user is refused on its next request');

  // A change behind the API's back is seen once the entry expires (here: cleared, as expiry would).
  t.equal((await app.rest(seller, 'GET', '/v1/customers')).status, 200, 'cached again');
  await app.db.delete(userRoles).where(eq(userRoles.userId, seller.id));
  t.equal((await app.rest(seller, 'GET', '/v1/customers')).status, 200, 'still the cached roles');
  app.app.principals.clear();
  t.equal((await app.rest(seller, 'GET', '/v1/customers')).status, 403, 'then the stored ones');
});
