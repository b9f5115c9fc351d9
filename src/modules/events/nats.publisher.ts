import type { FastifyBaseLogger } from 'fastify';
import type { JetStreamClient, NatsConnection } from 'nats';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { queryRows } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { systemPrincipal } from '../org/index.js';
import { EVENT_TYPE_NAMES } from './catalogue.js';
import type { Position } from './events.repository.js';
import { readFeed } from './events.service.js';

// Every event, in feed order, to JetStream subject `keel.events.<type>` with `Nats-Msg-Id` = the event
// id (the stream deduplicates a re-send). The position is stored in `event_publishers` and moved only
// after JetStream acknowledged the batch, in a transaction holding the row (SKIP LOCKED), so several
// instances never publish at once and a restart resumes where the last acknowledged batch ended.

export const STREAM = 'KEEL_EVENTS';
const PUBLISHER = 'nats';
const BATCH = 500;
// The client library is loaded on the first connection: a server without NATS_URL never loads it.
const natsLib = () => import('nats');

export function createNatsPublisher(database: Database, url: string, log?: FastifyBaseLogger) {
  const { db } = database;
  let nc: NatsConnection | null = null;
  let js: JetStreamClient | null = null;

  async function connection(): Promise<JetStreamClient> {
    if (js && nc && !nc.isClosed()) return js;
    nc = await (await natsLib()).connect({ servers: url, name: 'keel-events' });
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.streams.info(STREAM);
    } catch {
      await jsm.streams.add({ name: STREAM, subjects: ['keel.events.>'] });
    }
    js = nc.jetstream();
    return js;
  }

  // The bus carries every event: read with a reader whose scope is ALL for every read.
  const reader = async (ex: typeof db): Promise<Principal> => ({
    ...(await systemPrincipal(ex)),
    roles: [{ id: 'events-publisher', name: 'events-publisher', scope: 'ALL', permissions: ['*:read'], hiddenFields: [] }],
  });

  /** Publishes the next batch; returns how many events went out (0 when another instance holds the position). */
  async function tick(): Promise<number> {
    const client = await connection();
    const { headers: natsHeaders, StringCodec } = await natsLib();
    const sc = StringCodec();
    return db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO event_publishers (name, pos_xid, pos_id) VALUES (${PUBLISHER}, '0'::xid8, 0) ON CONFLICT (name) DO NOTHING`);
      const [row] = await queryRows<{ xid: string; id: string }>(tx, sql`SELECT pos_xid::text AS xid, pos_id AS id FROM event_publishers WHERE name = ${PUBLISHER} FOR UPDATE SKIP LOCKED`);
      if (!row) return 0;
      const after: Position = { xid: row.xid, id: Number(row.id) };
      const feed = await readFeed(tx, await reader(tx), { after: after.xid === '0' ? null : after, types: EVENT_TYPE_NAMES, limit: BATCH });
      for (const e of feed.events) {
        const h = natsHeaders();
        h.set('Nats-Msg-Id', e.id);
        if (e.requestId) h.set('x-request-id', e.requestId);
        await client.publish(`keel.events.${e.type}`, sc.encode(JSON.stringify(e)), { msgID: e.id, headers: h });
      }
      await tx.execute(sql`UPDATE event_publishers SET pos_xid = ${feed.next.xid}::xid8, pos_id = ${feed.next.id}, updated_at = now() WHERE name = ${PUBLISHER}`);
      return feed.events.length;
    });
  }

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  return {
    tick,
    start(pollMs: number): void {
      if (timer) return;
      const loop = () => {
        running = tick()
          .catch((err: unknown) => log?.error({ err }, 'publishing events to NATS failed'))
          .finally(() => {
            running = null;
            if (timer) timer = setTimeout(loop, pollMs);
          });
      };
      timer = setTimeout(loop, pollMs);
    },
    async stop(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
      await nc?.drain().catch(() => undefined);
      nc = null;
      js = null;
    },
  };
}

export type NatsPublisher = ReturnType<typeof createNatsPublisher>;
