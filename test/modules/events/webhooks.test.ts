import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { buildTestApp, company, type User } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';

// A short retry schedule so a test sees retries, a dead letter and recovery in milliseconds; the
// receiver runs on 127.0.0.1, so private targets are allowed here (the SSRF test builds its own app).
const app = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '20ms,20ms,20ms,20ms,20ms,20ms', WEBHOOK_TIMEOUT_MS: '2000' });
t.teardown(() => app.close());

type Received = { headers: IncomingHttpHeaders; body: string };
type Mode = 'ok' | '500' | '410';

/** A receiver that answers as `mode` says, or is down (closed) until started again. */
async function receiver() {
  const got: Received[] = [];
  let mode: Mode = 'ok';
  let server: Server | null = null;
  let port = 0;
  const listen = async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (mode === 'ok') got.push({ headers: req.headers, body });
        res.statusCode = mode === 'ok' ? 204 : mode === '500' ? 500 : 410;
        res.end();
      });
    });
    await new Promise<void>((r) => server?.listen(port, '127.0.0.1', () => r()));
    port = (server?.address() as AddressInfo).port;
  };
  await listen();
  return {
    got,
    get url() {
      return `http://127.0.0.1:${port}/hooks`;
    },
    set mode(m: Mode) {
      mode = m;
    },
    async down() {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      server?.closeAllConnections();
      server = null;
    },
    up: listen,
    close: async () => {
      if (server) await new Promise<void>((r) => server?.close(() => r()));
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function subscribe(who: User, url: string, types: string[]) {
  const r = await app.rest(who, 'POST', '/v1/webhooks', { url, types });
  if (r.status !== 201) throw new Error(r.raw);
  return r.body as { id: string; secret: string; version: number };
}

/** Delivery rounds until `done` holds (the horizon may lag behind other transactions for a moment). */
async function until(done: () => boolean, rounds = 60) {
  for (let i = 0; i < rounds && !done(); i++) {
    await app.app.services.webhookDelivery.tick();
    if (!done()) await sleep(40);
  }
}

t.test('CRUD: the secret once, partners apart, bad input 400, no permission 403', async (t) => {
  const c = await company(app);
  const rx = await receiver();
  t.teardown(rx.close);
  const m = c.users.partnerAManager;
  const created = await app.rest(m, 'POST', '/v1/webhooks', { url: rx.url, types: ['customer.*', 'opportunity.won'], description: 'portal' });
  t.equal(created.status, 201, created.raw);
  t.match(created.body.secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
  t.equal(created.headers.location, `/v1/webhooks/${created.body.id}`);
  t.equal(created.headers.etag, '"1"');
  t.same({ ...created.body, secret: undefined, createdAt: undefined, updatedAt: undefined }, {
    id: created.body.id, url: rx.url, types: ['customer.*', 'opportunity.won'], description: 'portal', active: true, disabledReason: null,
    createdBy: m.id, secret: undefined, previousSecretExpiresAt: null, version: 1, createdAt: undefined, updatedAt: undefined,
  });
  const id = created.body.id;
  const read = await app.rest(m, 'GET', `/v1/webhooks/${id}`);
  t.equal(read.status, 200);
  t.notOk('secret' in read.body, 'the secret is shown only once');
  const list = await app.rest(m, 'GET', '/v1/webhooks');
  t.same(list.body.data.map((w: { id: string }) => w.id), [id]);

  const patched = await app.rest(m, 'PATCH', `/v1/webhooks/${id}`, { types: ['contact.created'] }, { 'if-match': '"1"' });
  t.equal(patched.status, 200, patched.raw);
  t.same(patched.body.types, ['contact.created']);
  t.equal((await app.rest(m, 'PATCH', `/v1/webhooks/${id}`, { description: 'x' }, { 'if-match': '"1"' })).status, 412);

  // Another partner's manager: the subscription does not exist for it.
  const other = c.users.partnerBManager;
  t.equal((await app.rest(other, 'GET', `/v1/webhooks/${id}`)).status, 404);
  t.equal((await app.rest(other, 'PATCH', `/v1/webhooks/${id}`, { active: false })).status, 404);
  t.equal((await app.rest(other, 'DELETE', `/v1/webhooks/${id}`)).status, 404);
  t.equal((await app.rest(other, 'GET', `/v1/webhooks/${id}/deliveries`)).status, 404);
  t.equal((await app.rest(other, 'POST', `/v1/webhooks/${id}/replay`, {})).status, 404);
  t.equal((await app.rest(other, 'POST', `/v1/webhooks/${id}/rotate-secret`)).status, 404);
  t.notOk((await app.rest(other, 'GET', '/v1/webhooks')).body.data.some((w: { id: string }) => w.id === id));
  // The company's admin sees it (scope ALL).
  t.equal((await app.rest(c.users.admin, 'GET', `/v1/webhooks/${id}`)).status, 200);

  const bad = async (body: unknown, path: string, status = 400) => {
    const r = await app.rest(m, 'POST', '/v1/webhooks', body);
    t.equal(r.status, status, r.raw);
    t.ok(r.body.errors?.some((e: { path: string }) => e.path === path), `names ${path}: ${r.raw}`);
  };
  await bad({ url: rx.url, types: ['customer.exploded'] }, 'types');
  await bad({ url: rx.url, types: [] }, 'types');
  await bad({ url: 'not a url', types: ['customer.created'] }, 'url');
  await bad({ url: rx.url, types: ['customer.created'], secret: 'mine' }, 'secret');
  await bad({ url: `${rx.url}\u0000`, types: ['customer.created'] }, 'url');
  await bad({ url: `https://${'a'.repeat(3000)}.example`, types: ['customer.created'] }, 'url');
  await bad({ url: 'ftp://files.example/x', types: ['customer.created'] }, 'url', 422);
  t.equal((await app.rest(m, 'POST', `/v1/webhooks/${id}/replay`, { after: 'zz!' })).status, 400);
  t.equal((await app.rest(m, 'GET', `/v1/webhooks/${id}/deliveries?status=LOST`)).status, 400);

  t.equal((await app.rest(c.users.sales, 'POST', '/v1/webhooks', { url: rx.url, types: ['customer.created'] })).status, 403);
  t.equal((await app.rest(c.users.sales, 'GET', '/v1/webhooks')).status, 403);

  t.equal((await app.rest(m, 'DELETE', `/v1/webhooks/${id}`)).status, 204);
  t.equal((await app.rest(m, 'GET', `/v1/webhooks/${id}`)).status, 404);
});

t.test('a receiver that is down, then answers 500, then recovers gets every event, in order per record, signed', async (t) => {
  const c = await company(app);
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await subscribe(c.users.partnerAManager, rx.url, ['customer.*', 'contact.*']);
  t.teardown(() => app.rest(c.users.partnerAManager, 'DELETE', `/v1/webhooks/${hook.id}`));
  await rx.down();

  const s = c.users.partnerASales;
  const a = await app.customer(s, { name: `Alpha Handel ${tag()}` });
  const b = await app.customer(s, { name: `Beta Handel ${tag()}` });
  for (const [i, cu] of [a, b, a].entries()) await app.rest(s, 'PATCH', `/v1/customers/${cu.id}`, { website: `https://v${i}.example` });
  await app.rest(s, 'POST', `/v1/customers/${a.id}/contacts`, { name: 'Carla Kontakt' });
  await app.customer(c.users.partnerBSales, { name: `Not for A ${tag()}` });

  // Down: every try fails and is scheduled again.
  await until(() => false, 3);
  const failing = await app.rest(c.users.partnerAManager, 'GET', `/v1/webhooks/${hook.id}/deliveries`);
  t.equal(failing.status, 200);
  t.equal(failing.body.data.length, 6, 'six events queued for partner A, none of partner B');
  t.ok(failing.body.data.every((d: { status: string }) => d.status === 'PENDING' || d.status === 'DEAD'));
  t.ok(failing.body.data.some((d: { attempts: number; lastError: string | null }) => d.attempts >= 1 && d.lastError), 'attempts and the error are recorded');

  await rx.up();
  rx.mode = '500';
  await until(() => false, 2);
  rx.mode = 'ok';
  await until(() => new Set(rx.got.map((g) => g.headers['webhook-id'])).size >= 6);
  t.equal((await app.rest(c.users.partnerAManager, 'GET', `/v1/webhooks/${hook.id}/deliveries?status=DEAD`)).body.data.length, 0, 'nothing dead-lettered');

  const wh = new Webhook(hook.secret);
  const events = rx.got.map((g) => wh.verify(g.body, g.headers as Record<string, string>) as { id: string; type: string; entityId: string; data: any });
  t.pass('every delivery verifies with the standardwebhooks library');
  // Duplicates only as at-least-once allows, and each is the same event under the same webhook-id.
  const byId = new Map(events.map((e) => [e.id, e]));
  t.equal(byId.size, 6, 'every event arrived');
  for (const g of rx.got) t.equal(g.headers['webhook-id'], JSON.parse(g.body).id);
  const perRecord = (id: string) => [...byId.values()].filter((e) => e.entityId === id && e.type.startsWith('customer.')).map((e) => e.data.after.website ?? null);
  t.same(perRecord(a.id), [null, 'https://v0.example', 'https://v2.example'], 'in order for Alpha');
  t.same(perRecord(b.id), [null, 'https://v1.example'], 'in order for Beta');
  t.ok([...byId.values()].every((e) => !('externalIds' in (e.data.after ?? {}))), "hidden fields absent from a partner's deliveries");
  t.notOk([...byId.values()].some((e) => e.data.after?.name?.startsWith('Not for A')), "another partner's events never delivered");

  const delivered = await app.rest(c.users.partnerAManager, 'GET', `/v1/webhooks/${hook.id}/deliveries?status=DELIVERED`);
  t.ok(delivered.body.data.length >= 6);
  const one = delivered.body.data[0];
  t.equal(one.lastStatusCode, 204);
  t.type(one.lastLatencyMs, 'number');
  t.ok(one.attemptLog.length >= 1);
});

t.test('every try used up: dead-lettered, visible, and delivered again by a replay', async (t) => {
  const c = await company(app);
  const rx = await receiver();
  t.teardown(rx.close);
  rx.mode = '500';
  const hook = await subscribe(c.users.partnerAManager, rx.url, ['customer.created']);
  t.teardown(() => app.rest(c.users.partnerAManager, 'DELETE', `/v1/webhooks/${hook.id}`));
  const start = (await app.rest(c.users.partnerAManager, 'GET', '/v1/events?limit=500')).body;
  const cu = await app.customer(c.users.partnerASales, { name: `Dead letter ${tag()}` });
  const deadOnes = async () => (await app.rest(c.users.partnerAManager, 'GET', `/v1/webhooks/${hook.id}/deliveries?status=DEAD`)).body.data;
  let dead: any[] = [];
  for (let i = 0; i < 80 && dead.length === 0; i++) {
    await app.app.services.webhookDelivery.tick();
    dead = await deadOnes();
    if (dead.length === 0) await sleep(30);
  }
  t.equal(dead.length, 1, 'dead-lettered after the last try');
  t.equal(dead[0].attempts, 7, 'one try and six retries');
  t.equal(dead[0].lastStatusCode, 500);
  t.equal(dead[0].nextAttemptAt, null);
  t.equal(dead[0].entityId, cu.id);
  rx.mode = 'ok';
  // Replay from a cursor: everything after it that the subscription matches, sent again.
  const r = await app.rest(c.users.partnerAManager, 'POST', `/v1/webhooks/${hook.id}/replay`, { after: start.nextCursor });
  t.equal(r.status, 202, r.raw);
  await until(() => rx.got.length >= 1);
  t.same(rx.got.map((g) => JSON.parse(g.body).entityId), [cu.id]);
  t.equal(rx.got[0]?.headers['webhook-id'], dead[0].eventId, 'the same webhook-id: the receiver can deduplicate');
});

t.test('rotation: old and new secret both sign during the overlap', async (t) => {
  const c = await company(app);
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await subscribe(c.users.partnerAManager, rx.url, ['customer.created']);
  t.teardown(() => app.rest(c.users.partnerAManager, 'DELETE', `/v1/webhooks/${hook.id}`));
  const rotated = await app.rest(c.users.partnerAManager, 'POST', `/v1/webhooks/${hook.id}/rotate-secret`);
  t.equal(rotated.status, 200, rotated.raw);
  t.not(rotated.body.secret, hook.secret);
  t.type(rotated.body.previousSecretExpiresAt, 'string');
  await app.customer(c.users.partnerASales);
  await until(() => rx.got.length >= 1);
  const g = rx.got[0];
  t.ok(g);
  if (!g) return;
  t.equal(String(g.headers['webhook-signature']).split(' ').length, 2, 'two signatures');
  t.ok(new Webhook(hook.secret).verify(g.body, g.headers as Record<string, string>), 'the old secret verifies');
  t.ok(new Webhook(rotated.body.secret).verify(g.body, g.headers as Record<string, string>), 'the new secret verifies');
});

t.test('410 Gone disables the subscription', async (t) => {
  const c = await company(app);
  const rx = await receiver();
  t.teardown(rx.close);
  rx.mode = '410';
  const hook = await subscribe(c.users.partnerAManager, rx.url, ['customer.created']);
  t.teardown(() => app.rest(c.users.partnerAManager, 'DELETE', `/v1/webhooks/${hook.id}`));
  await app.customer(c.users.partnerASales);
  let w: any;
  for (let i = 0; i < 40; i++) {
    await app.app.services.webhookDelivery.tick();
    w = (await app.rest(c.users.partnerAManager, 'GET', `/v1/webhooks/${hook.id}`)).body;
    if (!w.active) break;
    await sleep(40);
  }
  t.equal(w.active, false);
  t.match(w.disabledReason, /410/);
});

t.test('fair per subscription: a dead target with a backlog does not starve a live one', async (t) => {
  const c = await company(app);
  const rx = await receiver();
  t.teardown(rx.close);
  const deadRx = await receiver();
  const deadUrl = deadRx.url;
  await deadRx.down();
  const dead = await subscribe(c.users.partnerAManager, deadUrl, ['customer.created']);
  t.teardown(() => app.rest(c.users.partnerAManager, 'DELETE', `/v1/webhooks/${dead.id}`));
  for (let i = 0; i < 25; i++) await app.customer(c.users.partnerASales);
  await app.app.services.webhookDelivery.fanOut();
  const live = await subscribe(c.users.partnerAManager, rx.url, ['customer.created']);
  t.teardown(() => app.rest(c.users.partnerAManager, 'DELETE', `/v1/webhooks/${live.id}`));
  await app.customer(c.users.partnerASales, { name: `Live one ${tag()}` });
  await until(() => rx.got.length >= 1, 40);
  t.equal(rx.got.length, 1, 'the live receiver got its event');
  t.match(JSON.parse(rx.got[0]?.body ?? '{}').data.after.name, /^Live one/);
});

t.test('SSRF guard: private, loopback and link-local targets refused unless WEBHOOK_ALLOW_PRIVATE', async (t) => {
  const strict = await buildTestApp();
  t.teardown(() => strict.close());
  const admin = await strict.admin();
  for (const url of ['http://127.0.0.1/x', 'http://localhost:8080/x', 'http://10.1.2.3/x', 'http://192.168.0.1/', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://[fe80::1]/x', 'http://0.0.0.0/', 'http://[::ffff:127.0.0.1]/']) {
    const r = await strict.rest(admin, 'POST', '/v1/webhooks', { url, types: ['customer.created'] });
    t.equal(r.status, 422, `${url}: ${r.raw}`);
    t.equal(r.body.code, 'WEBHOOK_URL_NOT_ALLOWED');
    t.same(r.body.errors?.[0]?.path, 'url');
  }
  const ok = await strict.rest(admin, 'POST', '/v1/webhooks', { url: 'https://93.184.215.14/hooks', types: ['customer.created'] });
  t.equal(ok.status, 201, ok.raw);
  // Patching to a private target is refused as well.
  const p = await strict.rest(admin, 'PATCH', `/v1/webhooks/${ok.body.id}`, { url: 'http://127.0.0.1:9/x' });
  t.equal(p.status, 422);
  t.equal((await strict.rest(admin, 'DELETE', `/v1/webhooks/${ok.body.id}`)).status, 204);
});

t.test('two instances delivering at once: each event reaches the receiver once', { skip: app.database.kind !== 'postgres' && 'needs PostgreSQL' }, async (t) => {
  const second = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '20ms,20ms,20ms,20ms,20ms,20ms' });
  t.teardown(() => second.close());
  const c = await company(app);
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await subscribe(c.users.partnerAManager, rx.url, ['customer.created']);
  t.teardown(() => app.rest(c.users.partnerAManager, 'DELETE', `/v1/webhooks/${hook.id}`));
  for (let i = 0; i < 12; i++) await app.customer(c.users.partnerASales);
  for (let i = 0; i < 40 && rx.got.length < 12; i++) {
    await Promise.all([app.app.services.webhookDelivery.tick(), second.app.services.webhookDelivery.tick()]);
    await sleep(30);
  }
  const ids = rx.got.map((g) => g.headers['webhook-id']);
  t.equal(new Set(ids).size, 12, 'every event delivered');
  t.equal(ids.length, 12, 'none twice');
});

t.test('a backlog drains in consecutive rounds: one subscription is not held to one batch per poll', async (t) => {
  const c = await company(app);
  const rx = await receiver();
  t.teardown(rx.close);
  const hook = await subscribe(c.users.partnerAManager, rx.url, ['customer.created']);
  t.teardown(() => app.rest(c.users.partnerAManager, 'DELETE', `/v1/webhooks/${hook.id}`));
  // 25 records (a round claims at most 10 deliveries of a subscription, one per record).
  for (let i = 0; i < 25; i++) await app.customer(c.users.partnerASales);
  // A long poll, so that a loaded machine's slowness cannot pass for it: one batch per poll would need
  // 16 s here, the consecutive rounds take well under a second.
  const POLL_MS = 8000;
  const engine = app.app.services.webhookDelivery;
  engine.start(POLL_MS);
  t.teardown(() => engine.stop());
  let first = 0;
  const giveUp = Date.now() + 3 * POLL_MS;
  while (Date.now() < giveUp && rx.got.length < 25) {
    if (!first && rx.got.length > 0) first = Date.now();
    await sleep(20);
  }
  const drained = Date.now() - first;
  await engine.stop();
  t.equal(new Set(rx.got.map((g) => g.headers['webhook-id'])).size, 25, 'every event delivered');
  // One batch per poll would need three rounds, two polls (16 s) apart; the rounds after a busy one
  // start at once, so everything arrives before the next poll would have come.
  t.ok(first > 0 && drained < POLL_MS, `the 25 arrived within one poll interval of the first (${drained} ms)`);
});
