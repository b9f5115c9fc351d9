import pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { AppError } from '../../lib/errors.js';
import { eventsRepository as repo, type Position } from './events.repository.js';
import type { EventDto } from './events.schemas.js';
import { parsePosition, readFeed, typesOf } from './events.service.js';

// Live updates (GraphQL `subscription { events }`): each subscriber follows the feed itself, from
// where it stood when it subscribed (or from `after`), with its own principal — the same order, the
// same visibility rule (lib/access `event.visible`), the same hidden fields as `GET /v1/events`. What
// wakes the subscribers is PostgreSQL: a trigger on the outbox notifies channel `keel_events` when a
// transaction that wrote events commits, and every instance LISTENs on a connection of its own, so a
// change made through any instance reaches the subscribers of all. A timer wakes them too (every
// `pollMs`): it covers a lost listening connection, the embedded database (no second connection), and
// events held back behind a long transaction (the feed serves a transaction's events only when every
// older one has ended, which sends no notification).

export const LIVE_CHANNEL = 'keel_events';
// Events read per statement, and how many may wait for a slow subscriber before reading pauses (the
// position does not move past what was queued, so nothing is lost: reading resumes as it drains).
const PAGE = 100;
const HIGH_WATER = 500;

export type LiveConfig = { databaseUrl?: string | undefined; pollMs: number };
export type LiveArgs = { types?: string[] | undefined; after?: string | undefined };
/** The subscriber's principal as it is now (roles and scope may have changed), or null once deactivated. */
export type RefreshPrincipal = (userId: string) => Promise<(Principal & { active: boolean }) | null>;

type Subscriber = { wake(): void; end(): void };

export function createLiveEvents(database: Database, cfg: LiveConfig, log: FastifyBaseLogger, refresh: RefreshPrincipal) {
  const { db } = database;
  const subscribers = new Set<Subscriber>();
  let listener: pg.Client | null = null;
  let connecting = false;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const wakeAll = () => subscribers.forEach((s) => s.wake());

  function drop(c: pg.Client) {
    if (listener === c) listener = null;
    c.removeAllListeners('notification');
    c.end().catch(() => undefined);
  }

  /** One connection per instance LISTENs while anyone subscribes; a lost one is reopened by the timer. */
  async function listen(): Promise<void> {
    if (!cfg.databaseUrl || listener || connecting || closed || subscribers.size === 0) return;
    connecting = true;
    const c = new pg.Client({ connectionString: cfg.databaseUrl, application_name: 'keel-live-events' });
    c.on('error', (err) => {
      log.warn({ reason: err.message }, 'live events: listening connection lost');
      drop(c);
    });
    c.on('notification', wakeAll);
    try {
      await c.connect();
      await c.query(`LISTEN ${LIVE_CHANNEL}`);
      if (closed || subscribers.size === 0) drop(c);
      else {
        listener = c;
        wakeAll(); // what committed while the connection was being made
      }
    } catch (err) {
      log.warn({ reason: (err as Error).message }, 'live events: cannot listen; following by polling');
      drop(c);
    } finally {
      connecting = false;
    }
  }

  function started() {
    if (!timer) {
      timer = setInterval(() => {
        void listen();
        wakeAll();
      }, cfg.pollMs);
      timer.unref();
    }
    void listen();
  }

  function stopped() {
    if (subscribers.size > 0) return;
    if (timer) clearInterval(timer);
    timer = null;
    if (listener) drop(listener);
  }

  return {
    /**
     * The events `p` may read from now on (after `after` when given), as they commit. Refused like the
     * feed: 403 without `events:read`, 400 naming `types` or `after`, 410 for an expired `after`.
     */
    async subscribe(p: Principal, args: LiveArgs): Promise<AsyncIterableIterator<EventDto>> {
      if (closed) throw new AppError('UNAVAILABLE', 'the server is shutting down; subscribe again');
      requirePermission(p, 'events:read');
      const types = typesOf(args.types);
      let cursor: Position | null = args.after ? parsePosition(args.after) : { xid: await repo.horizon(db), id: 0 };
      if (args.after) {
        // An expired cursor is refused now, not as a failure of the running subscription.
        const first = await readFeed(db, p, { after: cursor, types, limit: 1 });
        if (first.events.length === 0) cursor = first.next;
      }
      const queue: EventDto[] = [];
      let waiting: ((r: IteratorResult<EventDto>) => void) | null = null;
      let failure: ((err: Error) => void) | null = null;
      let failed: Error | null = null;
      let done = false;
      let pumping = false;
      let again = false;
      let paused = false;

      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        subscribers.delete(sub);
        stopped();
        if (err && waiting) failure?.(err);
        else if (err) failed = err;
        else waiting?.({ value: undefined, done: true });
        waiting = null;
        failure = null;
      };

      async function pump(): Promise<void> {
        if (pumping) {
          again = true;
          return;
        }
        pumping = true;
        try {
          do {
            again = false;
            // Who the subscriber is now: a deactivated user or a withdrawn `events:read` ends it.
            const now = await refresh(p.userId);
            if (!now || !now.active) return finish(new AppError('UNAUTHENTICATED', 'the user is unknown or deactivated'));
            requirePermission(now, 'events:read');
            for (;;) {
              if (done) return;
              if (queue.length >= HIGH_WATER) {
                paused = true;
                break;
              }
              const r = await readFeed(db, now, { after: cursor, types, limit: PAGE });
              cursor = r.next;
              for (const e of r.events) {
                if (waiting) {
                  const w = waiting;
                  waiting = null;
                  failure = null;
                  w({ value: e, done: false });
                } else queue.push(e);
              }
              if (!r.hasMore) break;
            }
          } while (again && !done);
        } catch (err) {
          // A refusal ends the subscription with its reason; a database hiccup is retried on the next wake.
          if (err instanceof AppError) finish(err);
          else log.warn({ reason: (err as Error).message }, 'live events: reading the feed failed; retrying');
        } finally {
          pumping = false;
        }
      }

      const sub: Subscriber = { wake: () => void pump(), end: () => finish() };
      subscribers.add(sub);
      started();

      const iterator: AsyncIterableIterator<EventDto> = {
        next() {
          const e = queue.shift();
          if (paused && queue.length < HIGH_WATER / 2) {
            paused = false;
            void pump();
          }
          if (e) return Promise.resolve({ value: e, done: false });
          if (failed) {
            const err = failed;
            failed = null;
            return Promise.reject(err);
          }
          if (done) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve, reject) => {
            waiting = resolve;
            failure = reject;
          });
        },
        return() {
          finish();
          return Promise.resolve({ value: undefined, done: true });
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      void pump();
      return iterator;
    },

    /** Wakes every subscriber of this instance now (after a write here, without waiting for the notification). */
    wake: wakeAll,

    /** How many subscriptions this instance serves. */
    size: () => subscribers.size,

    /** Ends every subscription and stops listening (the app is closing). */
    async close(): Promise<void> {
      closed = true;
      [...subscribers].forEach((s) => s.end());
      stopped();
    },
  };
}

export type LiveEvents = ReturnType<typeof createLiveEvents>;
