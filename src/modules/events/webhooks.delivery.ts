import http from 'node:http';
import https from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/client.js';
import type { DeliveryAttempt } from '../../db/schema/index.js';
import { loadPrincipal } from '../org/index.js';
import { readFeed, typesOf } from './events.service.js';
import { signatureHeader } from './webhooks.signing.js';
import { guardedLookup } from './webhooks.target.js';
import { type DeliveryRow, webhooksRepository as repo } from './webhooks.repository.js';

// The delivery engine. Each tick, any instance: (1) reads the feed for each active subscription as
// its creator may read it, from where it stood, into delivery rows (the subscription row is locked
// with SKIP LOCKED, so two instances never read for the same one at once); (2) claims due deliveries
// fairly per subscription and per record in order, sends them signed, and records the outcome.

export type DeliveryConfig = { retryScheduleMs: number[]; timeoutMs: number; allowPrivate: boolean };

const FAN_OUT_BATCH = 500;
const PER_WEBHOOK = 10;

/** The schedule's delay for the try after `attempts` failed ones, ±20 % so retries of many receivers spread out. */
export function retryDelay(scheduleMs: readonly number[], attempts: number, random = Math.random): number | null {
  const base = scheduleMs[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}

type Outcome = { statusCode: number | null; error: string | null; latencyMs: number };

/** The `x-request-id` of the request that wrote the event, when it has one (deliveries made before it was recorded have none). */
export function requestIdHeader(event: unknown): { 'x-request-id'?: string } {
  const id = (event as { requestId?: unknown } | null)?.requestId;
  return typeof id === 'string' && id.length > 0 ? { 'x-request-id': id } : {};
}

function post(url: string, headers: Record<string, string>, body: string, cfg: DeliveryConfig): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ statusCode: null, error: 'invalid url', latencyMs: 0 });
      return;
    }
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: cfg.timeoutMs, lookup: guardedLookup(cfg.allowPrivate) as never },
      (res) => {
        // The answer's body is not needed; read at most a little of it and drop it.
        res.resume();
        res.on('end', () => resolve({ statusCode: res.statusCode ?? null, error: null, latencyMs: Math.round(performance.now() - started) }));
        res.on('error', (e) => resolve({ statusCode: res.statusCode ?? null, error: e.message.slice(0, 200), latencyMs: Math.round(performance.now() - started) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${cfg.timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ statusCode: null, error: (e.code ? `${e.code}: ` : '') + e.message.slice(0, 200), latencyMs: Math.round(performance.now() - started) }));
    req.end(body);
  });
}

export function createDeliveryEngine(database: Database, cfg: DeliveryConfig, log?: FastifyBaseLogger) {
  const { db } = database;

  /** Reads the feed into deliveries for every active subscription no other instance is on. */
  async function fanOut(): Promise<number> {
    return db.transaction(async (tx) => {
      let made = 0;
      for (const w of await repo.lockForFanOut(tx, 100)) {
        const creator = await loadPrincipal(tx, w.createdBy);
        if (!creator || !creator.active) {
          await repo.disable(tx, w.id, 'the creator is no longer active');
          continue;
        }
        let types;
        try {
          types = typesOf(w.types);
        } catch {
          continue;
        }
        const feed = await readFeed(tx, creator, { after: { xid: String(w.posXid), id: Number(w.posId) }, types, limit: FAN_OUT_BATCH });
        await repo.insertDeliveries(
          tx,
          feed.events.map((e) => ({ webhookId: w.id, eventId: e.id, eventType: e.type, entityId: e.entityId, payload: e })),
        );
        await repo.setPosition(tx, w.id, feed.next);
        made += feed.events.length;
      }
      return made;
    });
  }

  async function send(d: DeliveryRow, target: { url: string; secrets: string[] }): Promise<'ok' | 'gone' | 'failed'> {
    const body = JSON.stringify(d.payload);
    const ts = Math.floor(Date.now() / 1000);
    const outcome = await post(
      target.url,
      {
        'content-type': 'application/json',
        'user-agent': 'Keel-Webhooks/1',
        'webhook-id': d.eventId,
        'webhook-timestamp': String(ts),
        'webhook-signature': signatureHeader(target.secrets, d.eventId, ts, body),
        ...requestIdHeader(d.payload),
      },
      body,
      cfg,
    );
    const attempt: DeliveryAttempt = { at: new Date().toISOString(), statusCode: outcome.statusCode, latencyMs: outcome.latencyMs, error: outcome.error };
    const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
    if (ok) {
      await repo.finish(db, d.id, { status: 'DELIVERED', nextAttemptAt: null, attempt, delivered: true });
      return 'ok';
    }
    if (outcome.statusCode === 410) {
      await db.transaction(async (tx) => {
        await repo.finish(tx, d.id, { status: 'PENDING', nextAttemptAt: new Date(), attempt: { ...attempt, error: 'receiver answered 410 Gone: subscription disabled' }, delivered: false });
        await repo.disable(tx, d.webhookId, 'the receiver answered 410 Gone');
      });
      return 'gone';
    }
    const delay = retryDelay(cfg.retryScheduleMs, d.attempts + 1);
    await repo.finish(db, d.id, delay === null ? { status: 'DEAD', nextAttemptAt: null, attempt, delivered: false } : { status: 'PENDING', nextAttemptAt: new Date(Date.now() + delay), attempt, delivered: false });
    return 'failed';
  }

  /** Claims and sends what is due; subscriptions in parallel, each one's deliveries in order. */
  async function deliver(): Promise<number> {
    const claimed = await db.transaction((tx) => repo.claimDue(tx, PER_WEBHOOK, cfg.timeoutMs + 30_000));
    if (claimed.length === 0) return 0;
    const targets = await repo.secretsOf(db, [...new Set(claimed.map((d) => d.webhookId))]);
    const byWebhook = new Map<string, DeliveryRow[]>();
    for (const d of claimed) byWebhook.set(d.webhookId, [...(byWebhook.get(d.webhookId) ?? []), d]);
    let sent = 0;
    await Promise.all(
      [...byWebhook.entries()].map(async ([id, ds]) => {
        const target = targets.get(id);
        if (!target) return;
        // A claim holds at most one delivery per record (the oldest pending one), so a failure
        // here never lets a later event of the same record overtake it.
        for (const d of ds) {
          const r = await send(d, target);
          if (r === 'ok') sent++;
          else if (r === 'gone') break;
        }
      }),
    );
    return sent;
  }

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;

  return {
    fanOut,
    deliver,
    /** One round: read the feed into deliveries, then send what is due. */
    async tick(): Promise<{ queued: number; sent: number }> {
      const queued = await fanOut();
      const sent = await deliver();
      return { queued, sent };
    },
    start(pollMs: number): void {
      if (timer) return;
      // A round that delivered something is followed at once by the next (a backlog drains at the
      // receivers' pace, not at PER_WEBHOOK per poll); an idle or failing round waits pollMs.
      const loop = () => {
        let busy = false;
        running = this.tick()
          .then((r) => {
            busy = r.sent > 0;
          })
          .catch((err: unknown) => log?.error({ err }, 'webhook delivery round failed'))
          .finally(() => {
            running = null;
            if (timer) timer = setTimeout(loop, busy ? 0 : pollMs);
          });
      };
      timer = setTimeout(loop, pollMs);
    },
    async stop(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

export type DeliveryEngine = ReturnType<typeof createDeliveryEngine>;
