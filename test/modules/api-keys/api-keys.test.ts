// API keys for SERVICE users: created by an admin and shown once, stored hashed, accepted as a
// bearer token or X-API-Key on both doors, refused the moment they are revoked or expired.
import { sql } from 'drizzle-orm';
import t from 'tap';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, type TestApp, type Unit, type User } from '../../helpers/app.js';
import { customRole } from '../../helpers/factories.js';
import { gqlPaths, problemOf } from '../../helpers/problems.js';

async function serviceUser(app: TestApp, unit: Unit, roles = ['integration']): Promise<User> {
  const u = await app.user(unit, roles);
  await app.db.execute(sql`UPDATE users SET kind = 'SERVICE' WHERE id = ${u.id}::uuid`);
  return u;
}

t.test('API keys', async (t) => {
  // A long principal cache: revocation must still take effect at once on this instance.
  const app = await buildTestApp({ PRINCIPAL_CACHE_MS: '60000' });
  t.teardown(() => app.close());
  const admin = await app.admin();
  const root = await app.root();
  const erp = await serviceUser(app, root);
  const region = await app.unit('REGION');
  const seller = await app.user(region, ['sales']);

  const created = await app.rest(admin, 'POST', '/v1/api-keys', { userId: erp.id, name: 'ERP sync' });
  t.equal(created.status, 201, created.raw);
  const key: string = created.body.key;
  t.match(key, /^keel_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/, 'a random key of a fixed shape');
  t.equal(created.body.prefix, key.slice(0, 13), 'the visible prefix is the start of the key');
  t.equal(created.headers.location, `/v1/api-keys/${created.body.id}`);
  t.equal(created.headers['cache-control'], 'no-store');
  t.same(Object.keys(created.body).sort(), ['createdAt', 'createdBy', 'expiresAt', 'id', 'key', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'updatedAt', 'userId']);
  t.equal(created.body.lastUsedAt, null);

  t.test('stored hashed, shown once', async (t) => {
    const [row] = await queryRows<{ hash: string; prefix: string }>(app.db, sql`SELECT hash, prefix FROM api_keys WHERE id = ${created.body.id}::uuid`);
    t.match(row?.hash, /^[0-9a-f]{64}$/, 'a SHA-256');
    const dump = JSON.stringify(await queryRows(app.db, sql`SELECT * FROM api_keys WHERE id = ${created.body.id}::uuid`));
    t.notOk(dump.includes(key), 'the key itself is nowhere in the table');
    const read = await app.rest(admin, 'GET', `/v1/api-keys/${created.body.id}`);
    t.equal(read.status, 200);
    t.equal(read.body.key, undefined, 'a read never shows the key');
    t.equal(read.body.hash, undefined);
    const list = await app.rest(admin, 'GET', `/v1/api-keys?userId=${erp.id}`);
    t.equal(list.status, 200);
    t.same(list.body.data.map((k: { id: string }) => k.id), [created.body.id]);
    const counted = await app.rest(admin, 'GET', `/v1/api-keys?userId=${erp.id}&count=true`);
    t.equal(counted.body.totalCount, 1, 'count=true answers totalCount');
    t.notOk(list.raw.includes(key.slice(14)), 'the list shows no secret');
    const audit = await queryRows<{ action: string; after: unknown }>(app.db, sql`SELECT action, after FROM audit_log WHERE entity_id = ${created.body.id}::uuid`);
    t.same(audit.map((a) => a.action), ['created'], 'the creation is audited');
    t.notOk(JSON.stringify(audit).includes(row!.hash), 'the audit row holds no hash');
  });

  t.test('accepted as a bearer token and as X-API-Key, on both doors', async (t) => {
    const bearer = await app.rest(key, 'GET', '/v1/me');
    t.equal(bearer.status, 200, bearer.raw);
    t.equal(bearer.body.user?.id ?? bearer.body.id, erp.id, 'the key acts as its SERVICE user');
    const header = await app.rest(null, 'GET', '/v1/me', undefined, { 'x-api-key': key });
    t.equal(header.status, 200);
    const g = await app.gql(key, '{ me { user { id } } }');
    t.same(g.errors, undefined);
    t.equal(g.data?.me?.user?.id, erp.id, 'GraphQL accepts the key too');
    const read = await app.rest(admin, 'GET', `/v1/api-keys/${created.body.id}`);
    t.ok(read.body.lastUsedAt, 'lastUsedAt is recorded');
    // A write made with the key is attributed to its user.
    const made = await app.rest(null, 'POST', '/v1/customers', { name: `Keyed ${Date.now()}`, kind: 'ORGANIZATION' }, { 'x-api-key': key });
    t.equal(made.status, 201, made.raw);
    const [a] = await queryRows<{ actor_id: string }>(app.db, sql`SELECT actor_id FROM audit_log WHERE entity_id = ${made.body.id}::uuid`);
    t.equal(a?.actor_id, erp.id);
  });

  t.test('wrong, malformed and foreign keys are refused as 401', async (t) => {
    const wrongSecret = `${key.slice(0, 14)}${'A'.repeat(43)}`;
    for (const k of [wrongSecret, 'keel_short', `${key}x`, 'keel_AAAAAAAA_' + 'B'.repeat(43)]) {
      const res = await app.rest(null, 'GET', '/v1/me', undefined, { 'x-api-key': k });
      t.equal(problemOf(res, 401), null, k.slice(0, 20));
      t.equal(res.body.code, 'UNAUTHENTICATED');
    }
    t.equal((await app.rest(`${key.slice(0, -1)}Z`, 'GET', '/v1/me')).status, 401, 'one character off');
    const huge = await app.rest(null, 'GET', '/v1/me', undefined, { 'x-api-key': `keel_${'x'.repeat(5000)}` });
    t.equal(huge.status, 401, 'a huge key is refused, not a 5xx');
  });

  t.test('revoked: refused at once; revoking twice is a conflict', async (t) => {
    const other = await app.rest(admin, 'POST', '/v1/api-keys', { userId: erp.id, name: 'to revoke' });
    t.equal((await app.rest(other.body.key, 'GET', '/v1/me')).status, 200, 'works (and is cached)');
    const del = await app.rest(admin, 'DELETE', `/v1/api-keys/${other.body.id}`);
    t.equal(del.status, 204, del.raw);
    t.equal((await app.rest(other.body.key, 'GET', '/v1/me')).status, 401, 'refused on the next request');
    t.equal((await app.rest(null, 'GET', '/v1/me', undefined, { 'x-api-key': other.body.key })).status, 401);
    const again = await app.rest(admin, 'DELETE', `/v1/api-keys/${other.body.id}`);
    t.equal(problemOf(again, 409), null);
    t.equal(again.body.code, 'API_KEY_REVOKED');
    const read = await app.rest(admin, 'GET', `/v1/api-keys/${other.body.id}`);
    t.ok(read.body.revokedAt, 'the key stays listed as revoked');
    const active = await app.rest(admin, 'GET', `/v1/api-keys?userId=${erp.id}&active=true`);
    t.notOk(active.body.data.some((k: { id: string }) => k.id === other.body.id), 'active=true leaves it out');
    const audit = await queryRows<{ action: string }>(app.db, sql`SELECT action FROM audit_log WHERE entity_id = ${other.body.id}::uuid ORDER BY id`);
    t.same(audit.map((a) => a.action), ['created', 'revoked']);
    t.equal((await app.rest(key, 'GET', '/v1/me')).status, 200, 'other keys keep working');
  });

  t.test('expired keys are refused; a deactivated user’s keys too', async (t) => {
    const soon = await app.rest(admin, 'POST', '/v1/api-keys', { userId: erp.id, name: 'short', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    t.equal(soon.status, 201);
    t.equal((await app.rest(soon.body.key, 'GET', '/v1/me')).status, 200);
    await app.db.execute(sql`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = ${soon.body.id}::uuid`);
    app.app.principals.clear();
    // The key cache holds the expiry it read: a key past it is refused without a new lookup.
    const svcApp = await buildTestApp();
    t.teardown(() => svcApp.close());
    t.equal((await svcApp.rest(soon.body.key, 'GET', '/v1/me')).status, 401, 'past expiresAt');
    const other = await serviceUser(app, root);
    const k = await app.rest(admin, 'POST', '/v1/api-keys', { userId: other.id, name: 'x' });
    await app.db.execute(sql`UPDATE users SET active = false WHERE id = ${other.id}::uuid`);
    t.equal((await svcApp.rest(k.body.key, 'GET', '/v1/me')).status, 401, 'a deactivated SERVICE user');
  });

  t.test('bad input answers 400 naming the field', async (t) => {
    const cases: [unknown, string][] = [
      [{ userId: erp.id }, 'name'],
      [{ userId: 'nope', name: 'x' }, 'userId'],
      [{ userId: erp.id, name: 'x', extra: 1 }, 'extra'],
      [{ userId: erp.id, name: 'x', expiresAt: '2000-01-01T00:00:00Z' }, 'expiresAt'],
      [{ userId: erp.id, name: 'x', expiresAt: '0000-01-01T00:00:00Z' }, 'expiresAt'],
      [{ userId: erp.id, name: 'a\u0000b' }, 'name'],
      [{ userId: erp.id, name: 'x'.repeat(201) }, 'name'],
    ];
    for (const [body, field] of cases) {
      const res = await app.rest(admin, 'POST', '/v1/api-keys', body);
      t.equal(problemOf(res, 400, [field]), null, JSON.stringify(body).slice(0, 80));
    }
    t.equal(problemOf(await app.rest(admin, 'GET', '/v1/api-keys?foo=1'), 400, ['foo']), null, 'unknown query parameter');
    t.equal(problemOf(await app.rest(admin, 'GET', '/v1/api-keys?cursor=%00'), 400), null, 'a bad cursor');
    const human = await app.rest(admin, 'POST', '/v1/api-keys', { userId: seller.id, name: 'x' });
    t.equal(problemOf(human, 422, ['userId']), null);
    t.equal(human.body.code, 'API_KEY_USER_NOT_SERVICE');
    const unknown = await app.rest(admin, 'POST', '/v1/api-keys', { userId: '00000000-0000-4000-8000-000000000000', name: 'x' });
    t.equal(problemOf(unknown, 400, ['userId']), null);
  });

  t.test('who may: admins manage, others are refused, another partner sees nothing', async (t) => {
    t.equal(problemOf(await app.rest(seller, 'POST', '/v1/api-keys', { userId: erp.id, name: 'x' }), 403), null, 'a salesperson may not create');
    t.equal(problemOf(await app.rest(seller, 'GET', '/v1/api-keys'), 403), null, 'nor list');
    t.equal(problemOf(await app.rest(erp, 'DELETE', `/v1/api-keys/${created.body.id}`), 404), null, 'an integration user does not see keys');
    const partnerA = await app.unit('PARTNER', region);
    const partnerB = await app.unit('PARTNER', region);
    const role = await customRole(app, 'SUBTREE', ['api-keys:read', 'api-keys:create', 'api-keys:delete', 'users:read']);
    const keeperA = await app.user(partnerA, [role.name]);
    const botB = await serviceUser(app, partnerB, []);
    const keyB = await app.rest(admin, 'POST', '/v1/api-keys', { userId: botB.id, name: 'partner B' });
    t.equal(problemOf(await app.rest(keeperA, 'GET', `/v1/api-keys/${keyB.body.id}`), 404), null, "another partner's key: 404");
    t.equal(problemOf(await app.rest(keeperA, 'DELETE', `/v1/api-keys/${keyB.body.id}`), 404), null, 'and it cannot revoke it');
    t.notOk((await app.rest(keeperA, 'GET', '/v1/api-keys')).raw.includes(keyB.body.id), 'nor list it');
    t.equal(problemOf(await app.rest(keeperA, 'POST', '/v1/api-keys', { userId: botB.id, name: 'x' }), 400, ['userId']), null, 'an invisible user is an unknown user');
    const botA = await serviceUser(app, partnerA, []);
    t.equal((await app.rest(keeperA, 'POST', '/v1/api-keys', { userId: botA.id, name: 'own' })).status, 201, 'its own partner’s service user');
    const exec = await app.user(region, ['executive']);
    t.equal((await app.rest(exec, 'GET', `/v1/api-keys/${keyB.body.id}`)).status, 200, 'an executive reads');
    t.equal(problemOf(await app.rest(exec, 'DELETE', `/v1/api-keys/${keyB.body.id}`), 403), null, 'but may not revoke');
  });

  t.test('the GraphQL door: same rules as REST', async (t) => {
    const fields = 'id userId name prefix createdBy createdAt expiresAt lastUsedAt revokedAt updatedAt';
    const made = await app.gql(admin, `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ${fields} key } }`, { input: { userId: erp.id, name: 'ERP over GraphQL' } });
    t.same(made.errors, undefined);
    const k = made.data.createApiKey;
    t.match(k.key, /^keel_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/, 'the key is shown in the answer that creates it');
    t.equal(k.prefix, k.key.slice(0, 13));
    t.equal(k.createdBy, admin.id);
    const rest = await app.rest(admin, 'GET', `/v1/api-keys/${k.id}`);
    const { key: _shown, ...stored } = k;
    t.same(stored, rest.body, 'the same record through both doors');

    const one = await app.gql(admin, `query($id: ID!) { apiKey(id: $id) { ${fields} } }`, { id: k.id });
    t.same(one.data.apiKey, rest.body);
    const list = await app.gql(admin, 'query($u: ID) { apiKeys(filter: { userId: $u }, first: 1) { totalCount edges { node { id } cursor } pageInfo { hasNextPage endCursor } } }', { u: erp.id });
    t.same(list.errors, undefined);
    const restList = await app.rest(admin, 'GET', `/v1/api-keys?userId=${erp.id}&count=true`);
    t.equal(list.data.apiKeys.totalCount, restList.body.totalCount, 'totalCount as REST counts');
    t.equal(list.data.apiKeys.edges[0].node.id, restList.body.data[0].id, 'newest first');
    t.equal(list.data.apiKeys.pageInfo.hasNextPage, restList.body.data.length > 1);
    const next = await app.gql(admin, 'query($u: ID, $a: String) { apiKeys(filter: { userId: $u }, first: 200, after: $a) { edges { node { id } } } }', { u: erp.id, a: list.data.apiKeys.pageInfo.endCursor });
    t.same(next.data.apiKeys.edges.map((e: { node: { id: string } }) => e.node.id), restList.body.data.slice(1).map((r: { id: string }) => r.id), 'the cursor pages on');

    t.equal((await app.rest(k.key, 'GET', '/v1/me')).status, 200, 'the key works');
    const revoked = await app.gql(admin, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: k.id });
    t.same(revoked.data, { revokeApiKey: true });
    t.equal((await app.rest(k.key, 'GET', '/v1/me')).status, 401, 'refused at once');
    const again = await app.gql(admin, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: k.id });
    t.same(again.codes, ['CONFLICT']);
    t.equal(again.errors?.[0]?.extensions?.reason, 'API_KEY_REVOKED');
    const active = await app.gql(admin, 'query($u: ID) { apiKeys(filter: { userId: $u, active: true }, first: 200) { edges { node { id revokedAt } } } }', { u: erp.id });
    t.notOk(active.data.apiKeys.edges.some((e: { node: { id: string } }) => e.node.id === k.id), 'active: true leaves it out');
    const audit = await queryRows<{ action: string }>(app.db, sql`SELECT action FROM audit_log WHERE entity_id = ${k.id}::uuid ORDER BY id`);
    t.same(audit.map((a) => a.action), ['created', 'revoked'], 'audited as through REST');

    // Bad input names the field; nothing is written.
    const before = await queryRows<{ n: number }>(app.db, sql`SELECT count(*)::int AS n FROM api_keys`);
    const bad: [Record<string, unknown>, string][] = [
      [{ userId: 'nope', name: 'x' }, 'input.userId'],
      [{ userId: erp.id, name: 'x'.repeat(201) }, 'input.name'],
      [{ userId: erp.id, name: 'x', expiresAt: '2000-01-01T00:00:00Z' }, 'input.expiresAt'],
    ];
    for (const [input, path] of bad) {
      const g = await app.gql(admin, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { id } }', { input });
      t.same(g.codes, ['BAD_USER_INPUT'], path);
      t.same(gqlPaths(g), [path], path);
    }
    const human = await app.gql(admin, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { id } }', { input: { userId: seller.id, name: 'x' } });
    t.equal(human.errors?.[0]?.extensions?.reason, 'API_KEY_USER_NOT_SERVICE');
    t.same(gqlPaths(await app.gql(admin, '{ apiKey(id: "nope") { id } }')), ['id'], 'a bad id');
    t.same(gqlPaths(await app.gql(admin, '{ apiKeys(filter: { userId: "nope" }) { totalCount } }')), ['filter.userId']);
    t.same(gqlPaths(await app.gql(admin, '{ apiKeys(first: 201) { totalCount } }')), ['first']);
    const after = await queryRows<{ n: number }>(app.db, sql`SELECT count(*)::int AS n FROM api_keys`);
    t.same(after, before, 'refused creations wrote nothing');

    // Who may.
    t.same((await app.gql(seller, '{ apiKeys { totalCount } }')).codes, ['FORBIDDEN'], 'a salesperson may not list');
    t.same((await app.gql(seller, `mutation { createApiKey(input: { userId: "${erp.id}", name: "x" }) { id } }`)).codes, ['FORBIDDEN'], 'nor create');
    t.same((await app.gql(erp, `mutation { revokeApiKey(id: "${created.body.id}") }`)).codes, ['NOT_FOUND'], 'an integration user does not see keys');
    const partnerA = await app.unit('PARTNER', region);
    const partnerB = await app.unit('PARTNER', region);
    const role = await customRole(app, 'SUBTREE', ['api-keys:read', 'api-keys:create', 'api-keys:delete', 'users:read']);
    const keeperA = await app.user(partnerA, [role.name]);
    const botB = await serviceUser(app, partnerB, []);
    const keyB = await app.rest(admin, 'POST', '/v1/api-keys', { userId: botB.id, name: 'partner B' });
    t.same((await app.gql(keeperA, `{ apiKey(id: "${keyB.body.id}") { id } }`)).codes, ['NOT_FOUND'], "another partner's key: not found");
    t.same((await app.gql(keeperA, `mutation { revokeApiKey(id: "${keyB.body.id}") }`)).codes, ['NOT_FOUND'], 'nor revocable');
    const listed = await app.gql(keeperA, '{ apiKeys(first: 200) { edges { node { id } } } }');
    t.notOk(JSON.stringify(listed.data).includes(keyB.body.id), 'nor listed');
    const invisible = await app.gql(keeperA, `mutation { createApiKey(input: { userId: "${botB.id}", name: "x" }) { id } }`);
    t.same(gqlPaths(invisible), ['input.userId'], 'an invisible user is an unknown user');
    t.ok((await app.rest(admin, 'GET', `/v1/api-keys/${keyB.body.id}`)).body.revokedAt === null, "the other partner's key is untouched");
  });
});
