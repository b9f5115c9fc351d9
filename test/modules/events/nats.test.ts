import { sql } from 'drizzle-orm';
import { AckPolicy, connect, DeliverPolicy, StringCodec } from 'nats';
import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';

// Against the NATS server with JetStream on 127.0.0.1:4222.
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const reachable = await connect({ servers: NATS_URL, timeout: 2000 })
  .then(async (nc) => {
    await nc.close();
    return true;
  })
  .catch(() => false);

t.test('every event reaches JetStream keel.events.<type> with Nats-Msg-Id = event id, resuming from its stored position', { skip: !reachable && `no NATS at ${NATS_URL}` }, async (t) => {
  const app = await buildTestApp({ EVENTS_NATS_URL: NATS_URL });
  t.teardown(() => app.close());
  const pub = app.app.services.natsPublisher;
  if (!pub) throw new Error('publisher not configured');
  t.teardown(() => pub.stop());
  // Start from now: the shared database's older history is not this test's business.
  await app.db.execute(sql`INSERT INTO event_publishers (name, pos_xid, pos_id) VALUES ('nats', pg_snapshot_xmin(pg_current_snapshot()), 0)
    ON CONFLICT (name) DO UPDATE SET pos_xid = excluded.pos_xid, pos_id = 0`);
  const c = await company(app);
  const cu = await app.customer(c.users.sales);
  await app.rest(c.users.sales, 'PATCH', `/v1/customers/${cu.id}`, { website: 'https://nats.example' });
  let published = 0;
  for (let i = 0; i < 50; i++) {
    published += await pub.tick();
    const [pos] = (await app.db.execute(sql`SELECT count(*)::int AS n FROM events WHERE entity_id = ${cu.id} AND (xid, id) > (SELECT pos_xid, pos_id FROM event_publishers WHERE name = 'nats')`) as unknown as { rows: { n: number }[] }).rows;
    if (pos?.n === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(published >= 2, `published ${published}`);

  const nc = await connect({ servers: NATS_URL });
  t.teardown(() => nc.close());
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info('KEEL_EVENTS');
  t.same(info.config.subjects, ['keel.events.>']);
  const consumer = await jsm.consumers.add('KEEL_EVENTS', { filter_subject: 'keel.events.customer.*', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(Date.now() - 120_000).toISOString() });
  const cons = await nc.jetstream().consumers.get('KEEL_EVENTS', consumer.name);
  const sc = StringCodec();
  const mine: { subject: string; msgId: string | undefined; body: { id: string; type: string; entityId: string } }[] = [];
  const batch = await cons.fetch({ max_messages: 1000, expires: 3000 });
  for await (const m of batch) {
    const body = JSON.parse(sc.decode(m.data));
    if (body.entityId === cu.id) mine.push({ subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), body });
  }
  await jsm.consumers.delete('KEEL_EVENTS', consumer.name);
  t.same(mine.map((m) => m.subject), ['keel.events.customer.created', 'keel.events.customer.updated'], 'in feed order, one subject per type');
  for (const m of mine) t.equal(m.msgId, m.body.id, 'Nats-Msg-Id is the event id');

  // A restart resumes from the stored position: nothing of this customer is published again.
  await pub.stop();
  const again = await pub.tick();
  t.ok(again >= 0);
  const [row] = (await app.db.execute(sql`SELECT count(*)::int AS n FROM events WHERE entity_id = ${cu.id} AND (xid, id) > (SELECT pos_xid, pos_id FROM event_publishers WHERE name = 'nats')`) as unknown as { rows: { n: number }[] }).rows;
  t.equal(row?.n, 0, 'the position stays past the published events');
});
