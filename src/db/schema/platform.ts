import { sql } from 'drizzle-orm';
import { bigserial, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

// A 64-bit transaction id (PostgreSQL's xid8), read as a decimal string.
export const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

// Every write leaves one row here, in the same transaction as the write.
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    actorId: uuid('actor_id').notNull(),
    onBehalfOfId: uuid('on_behalf_of_id'),
    client: text('client'),
    requestId: text('request_id'),
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    action: text('action').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
  },
  (t) => [index('audit_entity_idx').on(t.entityType, t.entityId, t.id), index('audit_actor_idx').on(t.actorId), index('audit_at_idx').on(t.at)],
);

// The outbox: every change is an event written with the change; delivery reads it after a cursor.
// `xid` is the writing transaction's id: the feed's position is (xid, id), served only below the
// oldest transaction still running, so an event that commits late is never skipped by a reader.
export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    xid: xid8('xid').notNull().default(sql`pg_current_xact_id()`),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    type: text('type').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    ownerUserId: uuid('owner_user_id'),
    ownerUnitId: uuid('owner_unit_id'),
    actorId: uuid('actor_id'),
    onBehalfOfId: uuid('on_behalf_of_id'),
    // The `x-request-id` of the request that wrote the event (null for work of the job queue).
    requestId: text('request_id'),
    payload: jsonb('payload').notNull(),
  },
  (t) => [index('events_entity_idx').on(t.entityType, t.entityId), index('events_owner_unit_idx').on(t.ownerUnitId), index('events_position_idx').on(t.xid, t.id), index('events_at_idx').on(t.at)],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').notNull(),
    key: text('key').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    requestHash: text('request_hash').notNull(),
    state: text('state').notNull().default('PENDING'),
    statusCode: integer('status_code'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBody: text('response_body'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('idempotency_user_key_idx').on(t.userId, t.key), index('idempotency_created_idx').on(t.createdAt)],
);

// External ids of every resource that a system syncs (customers, contacts, opportunities, orders): one id per
// system and record, and one record per resource type, system and id across the company. The primary key is the
// uniqueness, so two concurrent upserts of the same new id cannot both win.
export const externalIds = pgTable(
  'external_ids',
  {
    resourceType: text('resource_type').notNull(),
    system: text('system').notNull(),
    externalId: text('external_id').notNull(),
    recordId: uuid('record_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    // What the last bulk row by this id wrote (a hash of the row as parsed) and the record's version right
    // after it: the same row again, while the record is still at that version, changes nothing (bulk loads).
    rowHash: text('row_hash'),
    rowVersion: integer('row_version'),
  },
  (t) => [
    primaryKey({ name: 'external_ids_pkey', columns: [t.resourceType, t.system, t.externalId] }),
    uniqueIndex('external_ids_record_system_idx').on(t.resourceType, t.recordId, t.system),
  ],
);
