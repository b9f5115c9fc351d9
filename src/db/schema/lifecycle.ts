import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { customers } from './customers.js';
import { orgUnits, users } from './org.js';

// Every change of a customer's lifecycle stage: manual, or caused by a handoff, an opportunity or an order.
export const lifecycleTransitions = pgTable(
  'lifecycle_transitions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    fromStage: text('from_stage').notNull(),
    toStage: text('to_stage').notNull(),
    reason: text('reason'),
    // MANUAL | HANDOFF | OPPORTUNITY | ORDER
    cause: text('cause').notNull().default('MANUAL'),
    actorId: uuid('actor_id')
      .notNull()
      .references(() => users.id),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('lifecycle_transitions_customer_idx').on(t.customerId, t.at, t.id),
    index('lifecycle_transitions_at_idx').on(t.at),
    index('lifecycle_transitions_actor_idx').on(t.actorId),
    index('lifecycle_transitions_behalf_idx').on(t.onBehalfOfId),
  ],
);

// A qualified prospect handed to a sales unit or user, with a deadline.
export const handoffs = pgTable(
  'handoffs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    fromUserId: uuid('from_user_id')
      .notNull()
      .references(() => users.id),
    // The sender's pool: where a rejected customer goes back to.
    fromUnitId: uuid('from_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    toUserId: uuid('to_user_id').references(() => users.id),
    toUnitId: uuid('to_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    dueAt: timestamp('due_at', { withTimezone: true, precision: 3 }).notNull(),
    // PENDING | ACCEPTED | REJECTED | ESCALATED
    status: text('status').notNull().default('PENDING'),
    note: text('note'),
    reason: text('reason'),
    decidedBy: uuid('decided_by').references(() => users.id),
    decidedAt: timestamp('decided_at', { withTimezone: true, precision: 3 }),
    escalatedAt: timestamp('escalated_at', { withTimezone: true, precision: 3 }),
    // The manager the escalation went to.
    escalatedToId: uuid('escalated_to_id').references(() => users.id),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('handoffs_customer_idx').on(t.customerId, t.createdAt, t.id),
    index('handoffs_to_user_idx').on(t.toUserId, t.status),
    index('handoffs_to_unit_idx').on(t.toUnitId, t.status),
    index('handoffs_from_user_idx').on(t.fromUserId, t.status),
    index('handoffs_due_idx').on(t.status, t.dueAt),
    index('handoffs_from_unit_idx').on(t.fromUnitId),
    index('handoffs_decided_by_idx').on(t.decidedBy),
    index('handoffs_escalated_to_idx').on(t.escalatedToId),
    index('handoffs_behalf_idx').on(t.onBehalfOfId),
    // At most one open handoff per customer.
    uniqueIndex('handoffs_one_pending_idx').on(t.customerId).where(sql`${t.status} = 'PENDING'`),
  ],
);


// Who owned a record before and after: transfers, reassignments, handoffs, merges.
export const ownershipChanges = pgTable(
  'ownership_changes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // customer | opportunity | action
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    // The customer whose timeline shows the change (the record itself, or its customer).
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    fromUserId: uuid('from_user_id').references(() => users.id),
    fromUnitId: uuid('from_unit_id').references(() => orgUnits.id),
    toUserId: uuid('to_user_id').references(() => users.id),
    toUnitId: uuid('to_unit_id').references(() => orgUnits.id),
    // TRANSFER | REASSIGNMENT | HANDOFF | MERGE
    cause: text('cause').notNull(),
    transferId: uuid('transfer_id'),
    actorId: uuid('actor_id')
      .notNull()
      .references(() => users.id),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('ownership_changes_customer_idx').on(t.customerId, t.at, t.id),
    index('ownership_changes_entity_idx').on(t.entityType, t.entityId),
    index('ownership_changes_transfer_idx').on(t.transferId),
    index('ownership_changes_from_user_idx').on(t.fromUserId),
    index('ownership_changes_to_user_idx').on(t.toUserId),
    index('ownership_changes_from_unit_idx').on(t.fromUnitId),
    index('ownership_changes_to_unit_idx').on(t.toUnitId),
    index('ownership_changes_actor_idx').on(t.actorId),
    index('ownership_changes_behalf_idx').on(t.onBehalfOfId),
  ],
);
