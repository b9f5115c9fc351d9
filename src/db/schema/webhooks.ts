import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './org.js';
import { xid8 } from './platform.js';

// Webhook subscriptions: each sees what its creator sees. `posXid`/`posId` is how far the feed has
// been read into deliveries for it (the feed's own position, see events.xid).
export const webhooks = pgTable(
  'webhooks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    url: text('url').notNull(),
    types: text('types').array().notNull(),
    description: text('description'),
    active: boolean('active').notNull().default(true),
    disabledReason: text('disabled_reason'),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id),
    // The creator's unit when it was created: a subscription is owned like a record (visibility rule).
    ownerUnitId: uuid('owner_unit_id').notNull(),
    // Signing secrets (whsec_…): the current one, and the one it replaced while the overlap lasts.
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true, precision: 3 }),
    posXid: xid8('pos_xid').notNull().default(sql`pg_snapshot_xmin(pg_current_snapshot())`),
    posId: bigint('pos_id', { mode: 'number' }).notNull().default(0),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('webhooks_created_by_idx').on(t.createdBy), index('webhooks_owner_unit_idx').on(t.ownerUnitId), index('webhooks_created_idx').on(t.createdAt, t.id)],
);

export type DeliveryAttempt = { at: string; statusCode: number | null; latencyMs: number; error: string | null };

// One event to one subscription: the envelope as the subscription's creator may read it, frozen when
// the event was picked up (so pruning the feed never loses an undelivered event), and its attempts.
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    payload: jsonb('payload').notNull(),
    // PENDING (due at nextAttemptAt), DELIVERED, DEAD (every try failed: dead-lettered, replayable)
    status: text('status').notNull().default('PENDING'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }).defaultNow(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    lastLatencyMs: integer('last_latency_ms'),
    attemptLog: jsonb('attempt_log').$type<DeliveryAttempt[]>().notNull().default([]),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('webhook_deliveries_due_idx').on(t.webhookId, t.status, t.nextAttemptAt),
    index('webhook_deliveries_order_idx').on(t.webhookId, t.entityId, t.seq),
    index('webhook_deliveries_list_idx').on(t.webhookId, t.seq),
  ],
);

// How far the feed has been pruned: a cursor before this position answers 410.
export const eventsPruned = pgTable('events_pruned', {
  id: integer('id').primaryKey().default(1),
  xid: xid8('xid').notNull(),
  eventId: bigint('event_id', { mode: 'number' }).notNull(),
  prunedAt: timestamp('pruned_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

// Where an outward publisher (NATS JetStream) stands in the feed, so a restart resumes there.
export const eventPublishers = pgTable('event_publishers', {
  name: text('name').primaryKey(),
  posXid: xid8('pos_xid').notNull(),
  posId: bigint('pos_id', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});
