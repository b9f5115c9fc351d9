import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { buildTestApp, TEST_SECRET, TestApp, testConfig } from '../helpers/app.js';

const app = await buildTestApp();
t.teardown(() => app.close());

const now = () => Math.floor(Date.now() / 1000);
const hs256 = createSigner({ key: TEST_SECRET, algorithm: 'HS256', noTimestamp: true });

// Another app on the same database with other settings (issuer, audience, production, ...).
async function appWith(overrides: Record<string, string>): Promise<TestApp> {
  const other = await buildApp(testConfig(overrides), { database: app.database, migrate: false, logger: false });
  await other.ready();
  return new TestApp(other, app.database);
}

async function expect401(t: Tap, who: string | null, what: string, headers: Record<string, string> = {}) {
  const res = await app.rest(who, 'GET', '/v1/me', undefined, headers);
  t.equal(res.status, 401, `${what}: 401`);
  t.match(res.headers['content-type'], /^application\/problem\+json/, `${what}: problem+json`);
  t.equal(res.headers['www-authenticate'], 'Bearer', `${what}: WWW-Authenticate`);
  t.match(res.body, { type: String, title: String, status: 401, detail: String }, `${what}: problem body`);
  t.notMatch(res.raw, /stack|at \w+ \(/, `${what}: no internals`);
}
// The type of a subtest (the last overload of t.test takes only the callback).
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('a valid token reaches the route', async (t) => {
  const root = await app.root();
  const u = await app.user(root, ['sales']);
  const res = await app.rest(u, 'GET', '/v1/me');
  t.equal(res.status, 200);
  t.equal(res.body.user.id, u.id);
  const byHand = hs256({ sub: u.id, exp: now() + 60 });
  t.equal((await app.rest(byHand, 'GET', '/v1/me')).status, 200, 'a hand-signed HS256 token with sub and exp is fine');
});

t.test('missing or malformed Authorization', async (t) => {
  await expect401(t, null, 'no header');
  await expect401(t, null, 'Basic scheme', { authorization: 'Basic YWRtaW46YWRtaW4=' });
  await expect401(t, null, 'empty bearer', { authorization: 'Bearer ' });
  await expect401(t, 'not.a.jwt', 'garbage token');
  await expect401(t, null, 'token without scheme', { authorization: hs256({ sub: randomUUID(), exp: now() + 60 }) });
});

t.test('tokens the verifier must refuse', async (t) => {
  const root = await app.root();
  const u = await app.user(root, ['sales']);
  const good = { sub: u.id, exp: now() + 600 };

  await expect401(t, createSigner({ key: 'another-secret-that-is-also-long-enough-0123456789', algorithm: 'HS256' })(good), 'wrong signature');
  const parts = app.token(u.id).split('.');
  const tampered = Buffer.from(JSON.stringify({ sub: randomUUID(), exp: now() + 600 })).toString('base64url');
  await expect401(t, `${parts[0]}.${tampered}.${parts[2]}`, 'payload swapped under a valid signature');
  await expect401(t, createSigner({ algorithm: 'none' })(good), 'alg none');
  const noneByHand = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`;
  await expect401(t, noneByHand, 'alg none, built by hand');
  await expect401(t, createSigner({ key: TEST_SECRET, algorithm: 'HS512' })(good), 'HS512 with the right secret');
  await expect401(t, createSigner({ key: TEST_SECRET, algorithm: 'HS384' })(good), 'HS384 with the right secret');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  await expect401(t, createSigner({ key: privateKey, algorithm: 'RS256' })(good), 'RS256');
  await expect401(t, hs256({ sub: u.id, exp: now() - 10 }), 'expired');
  await expect401(t, hs256({ sub: u.id }), 'no exp');
  await expect401(t, hs256({ exp: now() + 600 }), 'no sub');
  await expect401(t, hs256({ sub: 'admin@example.com', exp: now() + 600 }), 'sub not a uuid');
  await expect401(t, hs256({ sub: 42, exp: now() + 600 }), 'sub a number');
  await expect401(t, hs256({ sub: randomUUID(), exp: now() + 600 }), 'unknown user');
  await expect401(t, hs256({ sub: u.id, exp: now() + 600, nbf: now() + 300 }), 'not yet valid');
});

t.test('a deactivated user is refused even with a valid token', async (t) => {
  const root = await app.root();
  const u = await app.user(root, ['sales'], { active: false });
  await expect401(t, u.token, 'inactive user');
});

t.test('public routes need no token; unknown routes answer 404 to anyone', async (t) => {
  t.equal((await app.rest(null, 'GET', '/healthz')).status, 200);
  t.equal((await app.rest(null, 'GET', '/readyz')).status, 200);
  const unknown = await app.rest(null, 'GET', '/v1/no-such-thing');
  t.equal(unknown.status, 404);
});

t.test('GraphQL without a valid token: 401 with UNAUTHENTICATED', async (t) => {
  for (const [what, token] of [
    ['no token', null],
    ['bad token', 'not.a.jwt'],
    ['unknown user', hs256({ sub: randomUUID(), exp: now() + 60 })],
  ] as const) {
    const g = await app.gql(token, '{ me { user { id } } }');
    t.equal(g.status, 401, `${what}: 401`);
    t.same(g.codes, ['UNAUTHENTICATED'], `${what}: extensions.code`);
    t.equal(g.data, null, `${what}: no data`);
  }
});

t.test('JWT_ISSUER and JWT_AUDIENCE are enforced when set', async (t) => {
  const strict = await appWith({ JWT_ISSUER: 'https://id.keel.test', JWT_AUDIENCE: 'keel-api' });
  t.teardown(() => strict.app.close());
  const root = await app.root();
  const u = await app.user(root, ['sales']);
  const call = (token: string) => strict.rest(token, 'GET', '/v1/me');

  t.equal((await call(strict.token(u.id))).status, 200, 'the app signs with its issuer and audience');
  t.equal((await call(app.token(u.id))).status, 401, 'no iss/aud: refused');
  const claims = { sub: u.id, exp: now() + 600 };
  t.equal((await call(hs256({ ...claims, iss: 'https://id.keel.test', aud: 'keel-api' }))).status, 200, 'both right');
  t.equal((await call(hs256({ ...claims, iss: 'https://evil.test', aud: 'keel-api' }))).status, 401, 'wrong issuer');
  t.equal((await call(hs256({ ...claims, aud: 'keel-api' }))).status, 401, 'missing issuer');
  t.equal((await call(hs256({ ...claims, iss: 'https://id.keel.test', aud: 'other-api' }))).status, 401, 'wrong audience');
  t.equal((await call(hs256({ ...claims, iss: 'https://id.keel.test' }))).status, 401, 'missing audience');
  const g = await strict.gql(app.token(u.id), '{ me { user { id } } }');
  t.same(g.codes, ['UNAUTHENTICATED'], 'GraphQL too');

  const issOnly = await appWith({ JWT_ISSUER: 'keel' });
  t.teardown(() => issOnly.app.close());
  t.equal((await issOnly.rest(hs256({ ...claims, iss: 'keel', aud: 'anything' }), 'GET', '/v1/me')).status, 200, 'audience free when unset');
  t.equal((await issOnly.rest(hs256({ ...claims, iss: 'nope' }), 'GET', '/v1/me')).status, 401);
  t.equal((await app.rest(hs256({ ...claims, iss: 'whoever', aud: 'whatever' }), 'GET', '/v1/me')).status, 200, 'unset: not checked');
});
