import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildTestApp } from '../helpers/app.js';

// CORS (api.md §0): the origins in CORS_ORIGINS, and in development any local dev server; a real
// preflight needs no token and does not 404; the headers a front end needs to read are exposed.

const allowed = 'https://app.example.com';
const app = await buildTestApp({ CORS_ORIGINS: `${allowed}, https://portal.example.org/` });
t.teardown(() => app.close());
const dev = await buildTestApp({ NODE_ENV: 'development' });
t.teardown(() => dev.close());

const preflight = (target: typeof app, origin: string, url = '/v1/customers', method = 'POST') =>
  target.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type, if-match, idempotency-key, x-request-id' },
  });

const list = (v: unknown) => String(v ?? '').toLowerCase().split(/\s*,\s*/).filter(Boolean);

t.test('a preflight from an allowed origin: 204 without a token, the method and headers allowed', async (t) => {
  for (const [url, method] of [
    ['/v1/customers', 'POST'],
    ['/v1/customers/00000000-0000-4000-8000-000000000000', 'PATCH'],
    ['/graphql', 'POST'],
    ['/v1/org-units', 'GET'],
  ] as const) {
    const res = await preflight(app, allowed, url, method);
    t.equal(res.statusCode, 204, `${method} ${url}: 204, not 401 or 404`);
    t.equal(res.headers['access-control-allow-origin'], allowed);
    t.ok(list(res.headers['access-control-allow-methods']).includes(method.toLowerCase()), `${method} allowed`);
    const headers = list(res.headers['access-control-allow-headers']);
    for (const h of ['authorization', 'content-type', 'if-match', 'idempotency-key', 'x-request-id', 'x-api-key']) t.ok(headers.includes(h), `${h} allowed`);
    t.match(String(res.headers.vary), /origin/i, 'Vary: Origin');
  }
  const slash = await preflight(app, 'https://portal.example.org');
  t.equal(slash.headers['access-control-allow-origin'], 'https://portal.example.org', 'a configured origin with a trailing slash matches');
});

t.test('a cross-origin GET: the origin allowed and the headers a client reads exposed', async (t) => {
  const admin = await app.admin();
  const res = await app.inject({ method: 'GET', url: '/v1/me', headers: { origin: allowed, authorization: `Bearer ${admin.token}` } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['access-control-allow-origin'], allowed);
  const exposed = list(res.headers['access-control-expose-headers']);
  for (const h of ['etag', 'location', 'idempotent-replayed', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'x-request-id']) {
    t.ok(exposed.includes(h), `${h} exposed`);
  }
  t.notOk(res.headers['access-control-allow-credentials'], 'bearer tokens, no credentialed requests');
  const refused = await app.inject({ method: 'GET', url: '/v1/me', headers: { origin: allowed } });
  t.equal(refused.statusCode, 401, 'CORS does not replace authentication');
  t.equal(refused.headers['access-control-allow-origin'], allowed, 'the browser may read the 401');
});

t.test('an origin not in the list gets no Access-Control-Allow-Origin', async (t) => {
  const admin = await app.admin();
  for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.net', 'http://app.example.com', 'http://localhost:5173', 'null']) {
    const pre = await preflight(app, origin);
    t.notOk(pre.headers['access-control-allow-origin'], `${origin}: no preflight grant`);
    t.not(pre.statusCode, 404, `${origin}: no 404 either`);
    const get = await app.inject({ method: 'GET', url: '/v1/me', headers: { origin, authorization: `Bearer ${admin.token}` } });
    t.notOk(get.headers['access-control-allow-origin'], `${origin}: GET not granted`);
  }
});

t.test('in development any http://localhost:* and http://127.0.0.1:* origin is allowed', async (t) => {
  for (const origin of ['http://localhost:5173', 'http://localhost:3001', 'http://127.0.0.1:8080', 'http://localhost']) {
    const res = await preflight(dev, origin);
    t.equal(res.statusCode, 204);
    t.equal(res.headers['access-control-allow-origin'], origin, origin);
  }
  for (const origin of ['https://localhost.evil.com', 'http://localhost.evil.com:80', 'http://10.0.0.1:5173', allowed]) {
    t.notOk((await preflight(dev, origin)).headers['access-control-allow-origin'], `${origin}: not a local dev server`);
  }
});

t.test('CORS_ORIGINS is validated at start', async (t) => {
  const env = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) };
  t.same(loadConfig({ ...env, CORS_ORIGINS: ' https://a.example.com ,http://b.example.com:8080,' }).corsOrigins, ['https://a.example.com', 'http://b.example.com:8080']);
  t.same(loadConfig(env).corsOrigins, []);
  t.throws(() => loadConfig({ ...env, CORS_ORIGINS: 'https://a.example.com/app' }), { name: 'Error', message: /^Invalid environment variable CORS_ORIGINS: / }, 'a path is not an origin');
  t.ok(catchError(() => loadConfig({ ...env, CORS_ORIGINS: 'ftp://a.example.com' })) instanceof ConfigError, 'a ConfigError: the start stops with one line');
  t.throws(() => loadConfig({ ...env, CORS_ORIGINS: 'a.example.com' }), /CORS_ORIGINS/, 'a scheme is required');
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
