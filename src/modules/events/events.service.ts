import type { Database, Executor } from '../../db/client.js';
import { hiddenFields, type Principal, requirePermission } from '../../lib/access.js';
import { AppError, fieldError } from '../../lib/errors.js';
import { decodeCursor, encodeCursor } from '../../lib/pagination.js';
import { EVENT_TYPE_NAMES, EVENT_TYPES, type EventType, eventData, expandTypes, hasDealCustomer, STORED_TO_PUBLIC } from './catalogue.js';
import { type EventRow, eventsRepository as repo, type Position } from './events.repository.js';
import type { EventDto, EventPage, EventsQuery } from './events.schemas.js';

const XID = /^\d{1,20}$/;

/** An event's id and a feed cursor are the same thing: its position, opaque. */
export const positionCursor = (pos: Position): string => encodeCursor([pos.xid, pos.id]);

/** A cursor back into a position; `at` names the parameter a bad one is reported under. */
export function parsePosition(cursor: string, at = 'after'): Position {
  let v: unknown[];
  try {
    v = decodeCursor(cursor, 2);
  } catch {
    throw fieldError('VALIDATION_FAILED', at, 'invalid cursor');
  }
  const [xid, id] = v;
  if (typeof xid !== 'string' || !XID.test(xid) || typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw fieldError('VALIDATION_FAILED', at, 'invalid cursor');
  return { xid, id };
}

const before = (a: Position, b: Position): boolean => (BigInt(a.xid) === BigInt(b.xid) ? a.id < b.id : BigInt(a.xid) < BigInt(b.xid));

/** The catalogue types a `types` filter names; 400 naming `at` for a name the catalogue does not have. */
export function typesOf(names: readonly string[] | undefined, at = 'types'): EventType[] {
  if (!names) return EVENT_TYPE_NAMES;
  const r = expandTypes(names);
  if ('unknown' in r) throw fieldError('VALIDATION_FAILED', at, `unknown event type ${JSON.stringify(r.unknown).slice(0, 80)}: one of the catalogue's types (GET /docs, webhooks) or <entity>.*`);
  return r.types;
}

export const storedTypesOf = (types: readonly EventType[]): string[] =>
  [...STORED_TO_PUBLIC.entries()].filter(([, t]) => types.includes(t)).map(([stored]) => stored);

export function toEventDto(r: EventRow, hidden: ReadonlySet<string>): EventDto | null {
  const type = STORED_TO_PUBLIC.get(r.type);
  if (!type) return null;
  const customer = r.c_id && r.c_name !== null ? { id: r.c_id, name: r.c_name, externalIds: r.c_external_ids ?? {} } : null;
  return {
    id: positionCursor({ xid: r.xid, id: Number(r.id) }),
    type,
    occurredAt: new Date(r.at).toISOString(),
    entityType: r.entity_type,
    entityId: r.entity_id,
    actorId: r.actor_id,
    onBehalfOfId: r.on_behalf_of_id,
    requestId: r.request_id,
    data: eventData(type, r.payload, hidden, customer),
  };
}

const DEAL_TYPES = Object.keys(EVENT_TYPES)
  .filter((t) => hasDealCustomer(t as EventType))
  .flatMap((t) => EVENT_TYPES[t as EventType].from.map((a) => `${EVENT_TYPES[t as EventType].entity}.${a}`));

/**
 * One page of the feed as `p` may read it, after `after` (from the oldest kept event when null).
 * `nextCursor` is always a position to resume from: past the last event served, or — when the page
 * is not full — past everything that had committed when it was read (events `p` may not read
 * included), so a reader never scans them again.
 */
export async function readFeed(ex: Executor, p: Principal, o: { after: Position | null; types: readonly EventType[]; limit: number; at?: string }): Promise<{ events: EventDto[]; next: Position; hasMore: boolean }> {
  if (o.after) {
    const pruned = await repo.prunedThrough(ex);
    if (pruned && before(o.after, pruned)) {
      throw new AppError('CURSOR_EXPIRED', `${o.at ?? 'after'}: the events after this cursor are older than the retention and were removed; start again without a cursor`, {
        errors: [{ path: o.at ?? 'after', message: 'expired cursor' }],
      });
    }
  }
  const horizon = await repo.horizon(ex);
  const rows = await repo.page(ex, p, { after: o.after, horizon, storedTypes: storedTypesOf(o.types), limit: o.limit + 1, dealTypes: DEAL_TYPES });
  const hasMore = rows.length > o.limit;
  const served = hasMore ? rows.slice(0, o.limit) : rows;
  const hidden = hiddenFields(p);
  const events = served.map((r) => toEventDto(r, hidden)).filter((e): e is EventDto => e !== null);
  const last = served[served.length - 1];
  let next: Position;
  if (hasMore && last) next = { xid: last.xid, id: Number(last.id) };
  else {
    const edge = { xid: horizon, id: 0 };
    next = o.after && !before(o.after, edge) ? o.after : edge;
  }
  return { events, next, hasMore };
}

export type EventsConfig = { retentionDays: number };

export function createEventService(database: Database, cfg: EventsConfig) {
  const { db } = database;
  return {
    async list(p: Principal, q: EventsQuery): Promise<EventPage> {
      requirePermission(p, 'events:read');
      const types = typesOf(q.types);
      const after = q.after ? parsePosition(q.after) : null;
      const r = await readFeed(db, p, { after, types, limit: q.limit });
      return { data: r.events, nextCursor: positionCursor(r.next), hasMore: r.hasMore };
    },

    /** Removes what is older than the retention (the prune job). */
    async prune(now = new Date()): Promise<number> {
      const cutoff = new Date(now.getTime() - cfg.retentionDays * 86_400_000);
      return db.transaction(async (tx) => repo.prune(tx, cutoff, await repo.horizon(tx)));
    },
  };
}

export type EventService = ReturnType<typeof createEventService>;
