import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { customers } from './customers.js';
import { opportunities } from './opportunities.js';
import { orgUnits, users } from './org.js';

// A registration of a customer (or of a deal on it) by a salesperson or partner; once approved it
// protects the customer against other units until `protectedUntil`.
export const claims = pgTable(
  'claims',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    opportunityId: uuid('opportunity_id').references(() => opportunities.id),
    claimantUserId: uuid('claimant_user_id')
      .notNull()
      .references(() => users.id),
    claimantUnitId: uuid('claimant_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    // PENDING | APPROVED | REJECTED | EXPIRED
    status: text('status').notNull().default('PENDING'),
    // The claimant's case for it.
    note: text('note'),
    // The decision's reason (approve and reject both need one).
    reason: text('reason'),
    protectedUntil: timestamp('protected_until', { withTimezone: true, precision: 3 }),
    decidedBy: uuid('decided_by').references(() => users.id),
    decidedAt: timestamp('decided_at', { withTimezone: true, precision: 3 }),
    expiredAt: timestamp('expired_at', { withTimezone: true, precision: 3 }),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('claims_customer_idx').on(t.customerId, t.status),
    index('claims_opportunity_idx').on(t.opportunityId),
    // The CLAIM arm of the visibility rule reads the claimant's approved claims.
    index('claims_claimant_user_idx').on(t.claimantUserId, t.status),
    index('claims_claimant_unit_idx').on(t.claimantUnitId, t.status),
    index('claims_created_idx').on(t.createdAt, t.id),
    index('claims_due_idx').on(t.status, t.protectedUntil),
    index('claims_decided_by_idx').on(t.decidedBy),
    index('claims_behalf_idx').on(t.onBehalfOfId),
    // A customer is protected by one approved claim at a time.
    uniqueIndex('claims_one_approved_idx').on(t.customerId).where(sql`${t.status} = 'APPROVED'`),
  ],
);

// Ordered allocation rules: the first active rule whose match fits a new lead names who gets it.
export const allocationRules = pgTable(
  'allocation_rules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    order: integer('order').notNull(),
    active: boolean('active').notNull().default(true),
    // { region?, industry?, source?, kind?, lifecycleStage? }
    match: jsonb('match').$type<Record<string, string>>().notNull(),
    targetUnitId: uuid('target_unit_id').references(() => orgUnits.id),
    targetUserId: uuid('target_user_id').references(() => users.id),
    // FIXED | ROUND_ROBIN | LEAST_LOADED
    strategy: text('strategy').notNull(),
    capacityPerUser: integer('capacity_per_user'),
    // Round-robin's cursor: the last user served; the row is locked while one create picks the next.
    lastUserId: uuid('last_user_id').references(() => users.id),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('allocation_rules_order_idx').on(t.order, t.id),
    index('allocation_rules_target_unit_idx').on(t.targetUnitId),
    index('allocation_rules_target_user_idx').on(t.targetUserId),
    index('allocation_rules_last_user_idx').on(t.lastUserId),
    index('allocation_rules_created_by_idx').on(t.createdBy),
  ],
);
