// Tokens of an external OpenID Connect provider, verified against a JWKS this test serves with keys
// it generates: RS256 and ES256 accepted; alg confusion, "none", expired, not-yet-valid, wrong
// issuer or audience and unknown key ids refused; key rotation picked up on an unknown kid.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildTestApp, TEST_SECRET } from '../helpers/app.js';

const ISSUER = 'https://idp.test.example/';
const AUDIENCE = 'keel-api';

type Key = { kid: string; alg: 'RS256' | 'ES256'; privateKey: CryptoKey; jwk: JWK; spki: string };

async function makeKey(kid: string, alg: 'RS256' | 'ES256'): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, spki: await exportSPKI(publicKey) };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

t.test('external identity provider', async (t) => {
  const rsa = await makeKey('rsa-1', 'RS256');
  const ec = await makeKey('ec-1', 'ES256');
  const later = await makeKey('rsa-2', 'RS256');
  const stranger = await makeKey('rsa-x', 'RS256');
  const published: JWK[] = [rsa.jwk, ec.jwk];
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;

  const env = { JWT_JWKS_URL: jwksUrl, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_JWKS_COOLDOWN_MS: '0' };
  const app = await buildTestApp(env);
  t.teardown(() => app.close());
  const unit = await app.unit('REGION');
  const user = await app.user(unit, ['sales']);

  const sign = (key: Key, claims: Record<string, unknown> = {}, opts: { exp?: string | number; nbf?: string | number; iss?: string; aud?: string } = {}) => {
    const jwt = new SignJWT({ sub: user.id, ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m');
    if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
    return jwt.sign(key.privateKey);
  };
  const me = async (token: string) => (await app.rest(token, 'GET', '/v1/me')).status;

  t.test('RS256 and ES256 tokens of the provider are accepted, on both doors', async (t) => {
    t.equal(await me(await sign(rsa)), 200, 'RS256');
    t.equal(await me(await sign(ec)), 200, 'ES256');
    const g = await app.gql(await sign(rsa), '{ me { user { id } } }');
    t.equal(g.data?.me?.user?.id, user.id, 'GraphQL');
    t.equal(await me(user.token), 200, "Keel's own HS256 tokens still work");
    const before = fetches;
    await me(await sign(rsa));
    t.equal(fetches, before, 'the key set is cached, not fetched per request');
  });

  t.test('refused: expired, not yet valid, wrong issuer or audience, no expiry', async (t) => {
    t.equal(await me(await sign(rsa, {}, { exp: Math.floor(Date.now() / 1000) - 60 })), 401, 'expired');
    t.equal(await me(await sign(rsa, {}, { nbf: Math.floor(Date.now() / 1000) + 600 })), 401, 'not yet valid');
    t.equal(await me(await sign(rsa, {}, { iss: 'https://evil.example/' })), 401, 'another issuer');
    t.equal(await me(await sign(rsa, {}, { aud: 'another-api' })), 401, 'another audience');
    const noExp = await new SignJWT({ sub: user.id }).setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).setIssuer(ISSUER).setAudience(AUDIENCE).sign(rsa.privateKey);
    t.equal(await me(noExp), 401, 'no exp');
    t.equal(await me(await sign(rsa, { sub: 'not-a-uuid' })), 401, 'a sub that is no user id');
    t.equal(await me(await sign(rsa, { sub: '00000000-0000-4000-8000-000000000000' })), 401, 'an unknown user');
  });

  t.test('refused: alg confusion and alg none', async (t) => {
    // An HS256 token "signed" with the provider's public key as the shared secret.
    const header = b64({ alg: 'HS256', kid: rsa.kid, typ: 'JWT' });
    const payload = b64({ sub: user.id, iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 });
    for (const secret of [rsa.spki, JSON.stringify(rsa.jwk)]) {
      const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      t.equal(await me(`${header}.${payload}.${sig}`), 401, 'HS256 with the public key');
    }
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    t.equal(await me(none), 401, 'alg none');
    const res = await app.rest(none, 'GET', '/v1/me');
    t.equal(res.body.code, 'UNAUTHENTICATED');
    // A token whose header claims RS256 but carries an ES256 key's signature.
    const forged = (await sign(ec)).split('.');
    const swapped = `${b64({ alg: 'RS256', kid: ec.kid })}.${forged[1]}.${forged[2]}`;
    t.equal(await me(swapped), 401, 'header algorithm that does not match the key');
  });

  t.test('unknown kid: refused; a rotated-in key is fetched and accepted', async (t) => {
    t.equal(await me(await sign(stranger)), 401, 'a key the provider never published');
    const before = fetches;
    published.push(later.jwk);
    t.equal(await me(await sign(later)), 200, 'a new key is picked up on its first use');
    t.ok(fetches > before, 'by fetching the key set again');
    const tampered = (await sign(rsa)).split('.');
    tampered[1] = b64({ sub: user.id, iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 3600, admin: true });
    t.equal(await me(tampered.join('.')), 401, 'a changed payload');
  });

  t.test('JWT_USER_CLAIM=email finds the user by email', async (t) => {
    const byEmail = await buildTestApp({ ...env, JWT_USER_CLAIM: 'email' });
    t.teardown(() => byEmail.close());
    const tok = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: ec.kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(ec.privateKey);
    const res = await byEmail.rest(await tok({ email: user.email.toUpperCase(), email_verified: true }), 'GET', '/v1/me');
    t.equal(res.status, 200, res.raw);
    t.equal((await byEmail.rest(await tok({ email: 'nobody@test.example' }), 'GET', '/v1/me')).status, 401, 'unknown email');
    t.equal((await byEmail.rest(await tok({ email: user.email, email_verified: false }), 'GET', '/v1/me')).status, 401, 'unverified email');
    t.equal((await byEmail.rest(await tok({ sub: user.id }), 'GET', '/v1/me')).status, 401, 'no email claim');
  });
});

t.test('configuration', async (t) => {
  const base = { NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, JWT_JWKS_URL: 'https://idp.example/jwks' };
  t.throws(() => loadConfig({ ...base, JWT_AUDIENCE: 'a' }), new ConfigError('Invalid environment variable JWT_ISSUER: required when JWT_JWKS_URL is set'));
  t.throws(() => loadConfig({ ...base, JWT_ISSUER: 'i' }), new ConfigError('Invalid environment variable JWT_AUDIENCE: required when JWT_JWKS_URL is set'));
  t.throws(() => loadConfig({ ...base, JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_ALGORITHMS: 'RS256,HS256' }), /JWT_ALGORITHMS/);
  t.throws(() => loadConfig({ ...base, JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_ALGORITHMS: 'none' }), /JWT_ALGORITHMS/);
  t.throws(() => loadConfig({ ...base, JWT_JWKS_URL: 'ftp://x/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }), /JWT_JWKS_URL/);
  t.throws(() => loadConfig({ ...base, JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_USER_CLAIM: 'name' }), /JWT_USER_CLAIM/);
  const ok = loadConfig({ ...base, JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_ALGORITHMS: 'ES256, RS256' });
  t.same(ok.externalJwt?.algorithms, ['ES256', 'RS256']);
  t.equal(ok.externalJwt?.userClaim, 'sub');
  t.equal(loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET }).externalJwt, undefined, 'off by default');
});
