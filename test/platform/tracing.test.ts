import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { FLUSH_LIMIT_MS } from '../../src/plugins/tracing.js';
import { buildTestApp, TestApp, testConfig } from '../helpers/app.js';

// OTLP/JSON as the collector receives it (only what is asserted).
type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: AnyValue }[];
  status?: { code?: number };
};
type Export = { resourceSpans: { resource?: { attributes?: { key: string; value: AnyValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };

// A local collector: accepts POST /v1/traces with JSON, keeps every body and the headers it came with.
const received: { path: string; contentType: string | undefined; body: Export }[] = [];
const collector = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Export });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
collector.listen(0, '127.0.0.1');
await once(collector, 'listening');
t.teardown(() => collector.close());
const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

const base = await buildTestApp();
t.teardown(() => base.close());

const spans = () => received.flatMap((r) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));
const attr = (s: OtlpSpan, key: string): string | number | boolean | undefined => {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.stringValue ?? v.boolValue ?? v.doubleValue;
};
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

t.test('with OTEL_EXPORTER_OTLP_ENDPOINT: request spans, db spans, traceparent, nothing secret', async (t) => {
  const raw = await buildApp(testConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'keel-under-test' }), { database: base.database, migrate: false, logger: false });
  raw.get('/v1/test-boom', async () => {
    throw new Error('boom for the trace');
  });
  await raw.ready();
  const app = new TestApp(raw, base.database);
  const user = await app.user(await app.root(), ['sales']);

  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');
  const secretName = `Tracing Secret ${randomBytes(6).toString('hex')}`;
  const created = await app.rest(user, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name: secretName }, { traceparent: `00-${traceId}-${parentSpanId}-01` });
  t.equal(created.status, 201, JSON.stringify(created.body));
  const read = await app.rest(user, 'GET', `/v1/customers/${created.body.id}`);
  t.equal(read.status, 200);
  // A search whose text must not be recorded: the path is, its query is not.
  const searched = await app.rest(user, 'GET', `/v1/customers?limit=5&q=${encodeURIComponent(secretName)}`);
  t.equal(searched.status, 200);
  const gqlBody = { query: 'query Other { me { user { id } } } query Mine($id: ID!) { customer(id: $id) { id name } }', operationName: 'Mine', variables: { id: created.body.id } };
  const gql = await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
    payload: JSON.stringify(gqlBody),
  });
  t.equal(gql.statusCode, 200, gql.body);
  t.equal(JSON.parse(gql.body).data?.customer?.name, secretName, gql.body);
  t.equal((await app.rest(null, 'GET', '/healthz')).status, 200);
  // A caller that did not sample its trace: nothing recorded of this request.
  const unsampled = randomBytes(16).toString('hex');
  t.equal((await app.rest(user, 'GET', '/v1/me', undefined, { traceparent: `00-${unsampled}-${randomBytes(8).toString('hex')}-00` })).status, 200);
  const boom = await app.rest(user, 'GET', '/v1/test-boom');
  t.equal(boom.status, 500);
  // Over a real socket too: the body arrives through the socket's events, after onRequest.
  await raw.listen({ port: 0, host: '127.0.0.1' });
  const socketTrace = randomBytes(16).toString('hex');
  const overSocket = await fetch(`http://127.0.0.1:${(raw.server.address() as AddressInfo).port}/v1/customers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}`, traceparent: `00-${socketTrace}-${randomBytes(8).toString('hex')}-01` },
    body: JSON.stringify({ kind: 'ORGANIZATION', name: `${secretName} socket` }),
  });
  t.equal(overSocket.status, 201);
  t.equal(received.length, 0, 'batched: nothing sent before the flush');
  await raw.close();

  t.ok(received.length > 0, 'the close flushed the spans');
  t.ok(received.every((r) => r.path === '/v1/traces' && r.contentType?.startsWith('application/json')), 'OTLP/HTTP JSON on /v1/traces');
  const service = received[0]?.body.resourceSpans[0]?.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
  t.equal(service, 'keel-under-test');
  const all = spans();

  // The create: a server span under the caller's trace, with its route, path and status.
  const create = all.find((s) => s.kind === SERVER && attr(s, 'http.route') === '/v1/customers' && attr(s, 'http.request.method') === 'POST');
  t.ok(create, 'a server span for the create');
  if (!create) return;
  t.equal(create.name, 'POST /v1/customers');
  t.equal(create.traceId, traceId, "the traceparent's trace id is honoured");
  t.equal(create.parentSpanId, parentSpanId, "the caller's span is the parent");
  t.equal(attr(create, 'http.response.status_code'), 201);
  t.equal(attr(create, 'url.path'), '/v1/customers');
  const search = all.find((s) => s.kind === SERVER && attr(s, 'http.route') === '/v1/customers' && attr(s, 'http.request.method') === 'GET');
  t.equal(search && attr(search, 'url.path'), '/v1/customers', 'the path without its query');
  t.equal(attr(create, 'keel.request_id'), created.headers['x-request-id']);
  t.not(create.status?.code, ERROR);
  const createDb = all.filter((s) => s.name === 'db.query' && s.parentSpanId === create.spanId);
  t.ok(createDb.length > 0, 'db spans under the create');
  t.ok(createDb.every((s) => s.traceId === traceId && s.kind === CLIENT && attr(s, 'db.system') === 'postgresql'), 'same trace, client spans, postgresql');
  t.ok(createDb.some((s) => attr(s, 'db.operation.name') === 'INSERT'), 'the insert is among them');
  t.ok(createDb.every((s) => /^[A-Z]+$/.test(String(attr(s, 'db.operation.name')))), 'the operation name only, no statement text');

  const socketSpan = all.find((s) => s.kind === SERVER && s.traceId === socketTrace);
  t.equal(socketSpan && attr(socketSpan, 'http.response.status_code'), 201, 'the request over a socket has its span');
  t.ok(all.some((s) => s.name === 'db.query' && s.parentSpanId === socketSpan?.spanId && attr(s, 'db.operation.name') === 'INSERT'), 'its insert is under it');

  // The read: its own trace (no traceparent), with the route template and its statements.
  const get = all.find((s) => s.kind === SERVER && attr(s, 'http.route') === '/v1/customers/:id');
  t.ok(get, 'a server span for the read');
  t.equal(get && attr(get, 'url.path'), `/v1/customers/${created.body.id}`);
  t.equal(get && attr(get, 'http.response.status_code'), 200);
  t.not(get?.traceId, traceId, 'a request without traceparent starts its own trace');
  t.notOk(get?.parentSpanId, 'a root span');
  t.ok(all.some((s) => s.name === 'db.query' && s.parentSpanId === get?.spanId && s.traceId === get?.traceId && attr(s, 'db.operation.name') === 'SELECT'), 'the read selects under its span');

  // GraphQL: the operation's name and type on the request span, its statements under it.
  const graph = all.find((s) => s.kind === SERVER && attr(s, 'http.route') === '/graphql');
  t.ok(graph, 'a server span for the GraphQL request');
  t.equal(graph && attr(graph, 'graphql.operation.name'), 'Mine');
  t.equal(graph && attr(graph, 'graphql.operation.type'), 'query');
  t.ok(all.some((s) => s.name === 'db.query' && s.parentSpanId === graph?.spanId && s.traceId === graph?.traceId), 'GraphQL statements under its span');

  t.notOk(all.some((s) => attr(s, 'url.path') === '/healthz'), 'health probes are not traced');
  t.notOk(all.some((s) => s.traceId === unsampled), 'an unsampled trace is not recorded');

  // A 5xx answer marks its span as an error.
  const failed = all.find((s) => s.kind === SERVER && attr(s, 'http.route') === '/v1/test-boom');
  t.equal(failed && attr(failed, 'http.response.status_code'), 500);
  t.equal(failed?.status?.code, ERROR);

  // Nothing recorded of values, parameters or credentials.
  const values = all.flatMap((s) => (s.attributes ?? []).map((a) => `${a.key}=${JSON.stringify(a.value)}`)).join('\n');
  t.notMatch(values, secretName, 'no value of a statement or a body');
  const outsidePaths = all.flatMap((s) => (s.attributes ?? []).filter((a) => a.key !== 'url.path').map((a) => JSON.stringify(a.value))).join('\n');
  t.notMatch(outsidePaths, created.body.id, 'no parameter (the id) outside the path it was in');
  t.notMatch(values, user.token, 'no bearer token');
  t.notMatch(values, /authorization|bearer/i, 'no Authorization header');
  t.notMatch(values, /\bfrom\b|\bvalues\b|\$1/i, 'no statement text');
  t.ok(all.filter((s) => s.name === 'db.query').every((s) => (s.attributes ?? []).every((a) => ['db.system', 'db.system.name', 'db.operation.name', 'error.type'].includes(a.key))), 'db spans carry only the system and the operation');
});

t.test('without OTEL_EXPORTER_OTLP_ENDPOINT: nothing created, nothing exported', async (t) => {
  const before = received.length;
  const raw = await buildApp(testConfig(), { database: base.database, migrate: false, logger: false });
  await raw.ready();
  const app = new TestApp(raw, base.database);
  t.equal(raw.config.tracing, undefined);
  t.notOk(raw.hasPlugin('tracing'), 'the tracing plugin is not registered');
  const user = await app.user(await app.root(), ['sales']);
  t.equal((await app.rest(user, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name: `Untraced ${randomBytes(6).toString('hex')}` }, { traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` })).status, 201);
  t.equal((await app.gql(user, '{ me { user { id } } }')).status, 200);
  await raw.close();
  await new Promise((r) => setTimeout(r, 300));
  t.equal(received.length, before, 'no export');
});

t.test('a collector that is away fails no request and does not hold the close', async (t) => {
  // A port that was just free: nothing listens there.
  const gone = createServer();
  gone.listen(0, '127.0.0.1');
  await once(gone, 'listening');
  const port = (gone.address() as AddressInfo).port;
  await new Promise((r) => gone.close(r));
  const raw = await buildApp(testConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/` }), { database: base.database, migrate: false, logger: false });
  await raw.ready();
  const app = new TestApp(raw, base.database);
  const user = await app.user(await app.root(), ['sales']);
  t.equal((await app.rest(user, 'GET', '/v1/me')).status, 200);
  t.equal((await app.gql(user, '{ me { user { id } } }')).status, 200);
  const started = Date.now();
  await raw.close();
  const ms = Date.now() - started;
  t.ok(ms < FLUSH_LIMIT_MS + 2000, `closed in ${ms} ms: the flush is bounded (${FLUSH_LIMIT_MS} ms)`);
});
