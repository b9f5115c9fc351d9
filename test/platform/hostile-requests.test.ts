import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { buildTestApp, testConfig } from '../helpers/app.js';

// Requests refused before any route runs (by the router, by Node's HTTP parser, during shutdown)
// answer problem+json with a stable code like every other error, never Fastify's own JSON.

const app = await buildTestApp();
t.teardown(() => app.close());

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];
type Answer = { status: number; headers: Record<string, unknown>; raw: string };

function isProblem(t: Tap, res: Answer, status: number, code: string, what: string) {
  t.equal(res.status, status, `${what}: ${status}`);
  t.match(String(res.headers['content-type']), /^application\/problem\+json/, `${what}: problem+json`);
  const body = JSON.parse(res.raw);
  t.match(body, { type: /^https:\/\//, title: String, status, detail: String, code }, `${what}: ${code}`);
  t.notMatch(res.raw, /FST_|fastify|find-my-way|statusCode/i, `${what}: no framework codes or wording`);
  return body;
}

async function inject(method: 'GET' | 'POST', url: string, extra: { headers?: Record<string, string>; payload?: string } = {}): Promise<Answer> {
  const admin = await app.admin();
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${admin.token}`, ...extra.headers }, ...(extra.payload !== undefined ? { payload: extra.payload } : {}) });
  return { status: res.statusCode, headers: res.headers, raw: res.body };
}

// One raw HTTP exchange on a real socket: what Node's parser sees before Fastify does.
async function rawHttp(port: number, request: string): Promise<Answer> {
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => (out += d.toString()));
    socket.on('error', (err) => (out ? resolve(out) : reject(err)));
    socket.on('close', () => resolve(out));
    socket.write(request);
  });
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, raw: rest.join('\r\n\r\n') };
}

t.test('an id longer than the router accepts: 400 VALIDATION_FAILED naming the url', async (t) => {
  for (const url of [`/v1/customers/${'a'.repeat(150)}`, `/v1/org-units/${'9'.repeat(101)}`, `/v1/customers/${'x'.repeat(300)}/contacts`]) {
    const body = isProblem(t, await inject('GET', url), 400, 'VALIDATION_FAILED', url.slice(0, 30));
    t.same(body.errors, [{ path: 'url', message: 'a path segment is longer than 100 characters' }]);
  }
  t.equal((await inject('GET', `/v1/customers/${'a'.repeat(150)}`)).headers['x-request-id'] !== undefined, true, 'the request id is there');
});

t.test('bad percent-encoding in the path: 400 VALIDATION_FAILED naming the url', async (t) => {
  for (const url of ['/v1/customers/%E0%A4%A', '/v1/customers/%zz', '/v1/org-units/%']) {
    const body = isProblem(t, await inject('GET', url), 400, 'VALIDATION_FAILED', url);
    t.same(body.errors, [{ path: 'url', message: 'not a valid URL (bad percent-encoding)' }]);
  }
});

t.test('a Content-Length that does not match the body: 400 naming the header, nothing internal', async (t) => {
  const res = await inject('POST', '/v1/org-units', { headers: { 'content-type': 'application/json', 'content-length': '3' }, payload: '{"name":"x","kind":"REGION"}' });
  const body = isProblem(t, res, 400, 'VALIDATION_FAILED', 'content-length mismatch');
  t.same(body.errors, [{ path: 'content-length', message: 'does not match the length of the body' }]);
});

t.test('on a real socket: headers over the limit 431, a malformed request 400, both problem+json', async (t) => {
  const server = await buildApp(testConfig(), { database: app.database, migrate: false, logger: false });
  t.teardown(() => server.close());
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;

  const big = await rawHttp(port, `GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
  isProblem(t, big, 431, 'HEADERS_TOO_LARGE', 'headers over the limit');
  t.equal(big.headers['connection'], 'close');

  const manyHeaders = await rawHttp(port, `GET /v1/me HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 2000 }, (_, i) => `X-H${i}: ${'v'.repeat(10)}`).join('\r\n')}\r\n\r\n`);
  isProblem(t, manyHeaders, 431, 'HEADERS_TOO_LARGE', 'many headers');

  const longUrl = await rawHttp(port, `GET /v1/customers?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  isProblem(t, longUrl, 431, 'HEADERS_TOO_LARGE', 'a request line over the limit');

  const garbage = await rawHttp(port, 'THIS IS NOT HTTP\r\n\r\n');
  isProblem(t, garbage, 400, 'VALIDATION_FAILED', 'not HTTP');

  const badHeader = await rawHttp(port, 'GET /v1/me HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n');
  isProblem(t, badHeader, 400, 'VALIDATION_FAILED', 'a malformed header line');

  const ok = await rawHttp(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.equal(ok.status, 200, 'the server still answers');
});

t.test('during shutdown: 503 UNAVAILABLE problem+json, not a plain-JSON 503', async (t) => {
  const server = await buildApp(testConfig(), { database: app.database, migrate: false, logger: false });
  let release = () => undefined as void;
  const held = new Promise<void>((r) => (release = r));
  server.get('/v1/test-slow', async () => {
    await held;
    return { ok: true };
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;
  const admin = await app.admin();
  // One keep-alive connection: a request in flight, then another one sent once the drain has begun.
  const socket = connect(port, '127.0.0.1');
  let out = '';
  socket.on('data', (d) => (out += d.toString()));
  const ended = new Promise<void>((r) => socket.on('close', () => r()));
  socket.write(`GET /v1/test-slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin.token}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 300));
  const closed = server.close();
  await new Promise((r) => setTimeout(r, 100));
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 200));
  release();
  await Promise.race([ended, new Promise((r) => setTimeout(r, 5000))]);
  socket.destroy();
  await closed;
  const answers = out.split(/(?=HTTP\/1\.1 )/);
  t.match(answers[0], /^HTTP\/1\.1 200/, 'the request in flight completes');
  const second = answers[1] ?? '';
  const [head = '', body = ''] = second.split('\r\n\r\n');
  const headers = Object.fromEntries(head.split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  isProblem(t, { status: Number(head.split(' ')[1]), headers, raw: body }, 503, 'UNAVAILABLE', 'a request during the drain');
  t.equal(headers['retry-after'], '1');
});
