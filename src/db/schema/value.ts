import { index, integer, jsonb, numeric, pgTable, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { customers } from './customers.js';
import { users } from './org.js';

// Customer value (domain.md §7). The value module owns these tables. The customer's computed fields
// (valueScore, valueClass, churnRisk) are read from customer_values by join: they are not copied
// into the customer row.

// The value model, versioned: each PUT adds a version; the highest is in force. Every score names its version.
export const valueModels = pgTable('value_models', {
  version: integer('version').primaryKey(),
  config: jsonb('config').notNull(),
  createdBy: uuid('created_by').references(() => users.id),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

// One row per full recomputation: the class cut-offs it found, which incremental updates reuse.
export const valueRuns = pgTable('value_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  modelVersion: integer('model_version').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true, precision: 3 }),
  ranked: integer('ranked').notNull().default(0),
  aMinScore: numeric('a_min_score', { precision: 5, scale: 2 }),
  cMaxScore: numeric('c_max_score', { precision: 5, scale: 2 }),
  changed: integer('changed').notNull().default(0),
});

// The current value of a customer: the raw indicators it was scored on, the score, the class and the churn flag.
export const customerValues = pgTable(
  'customer_values',
  {
    customerId: uuid('customer_id')
      .primaryKey()
      .references(() => customers.id),
    modelVersion: integer('model_version').notNull(),
    revenue: numeric('revenue', { precision: 18, scale: 2 }).notNull().default('0'),
    expectedSales: numeric('expected_sales', { precision: 18, scale: 2 }).notNull().default('0'),
    cost: numeric('cost', { precision: 18, scale: 2 }).notNull().default('0'),
    referenceLevel: smallint('reference_level').notNull().default(0),
    creditStatus: text('credit_status'),
    score: numeric('score', { precision: 5, scale: 2 }).notNull(),
    valueClass: text('value_class'),
    churnLevel: text('churn_level').notNull().default('NONE'),
    // [{ kind, detail, since }]
    churnSignals: jsonb('churn_signals').notNull().default([]),
    computedAt: timestamp('computed_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    // The customers list's filters by valueClass and churnRisk (its sort by valueScore puts the
    // never-scored last, an expression no index serves; as before, it sorts the visible rows).
    index('customer_values_class_idx').on(t.valueClass, t.score),
    index('customer_values_churn_idx').on(t.churnLevel),
  ],
);

// Each change of a customer's score or class, with its cause.
export const customerValueHistory = pgTable(
  'customer_value_history',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    score: numeric('score', { precision: 5, scale: 2 }).notNull(),
    valueClass: text('value_class'),
    previousClass: text('previous_class'),
    previousScore: numeric('previous_score', { precision: 5, scale: 2 }),
    modelVersion: integer('model_version').notNull(),
    // ORDER | COST | REFERENCE_EFFECT | OPPORTUNITY | CREDIT | INTERACTION | SCHEDULE | MODEL | RECOMPUTE
    cause: text('cause').notNull(),
  },
  (t) => [index('customer_value_history_customer_idx').on(t.customerId, t.at, t.id), index('customer_value_history_at_idx').on(t.at)],
);

// What serving a customer cost.
export const customerCosts = pgTable(
  'customer_costs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    kind: text('kind').notNull(),
    amount: numeric('amount', { precision: 18, scale: 2 }).notNull(),
    currency: text('currency').notNull(),
    incurredAt: timestamp('incurred_at', { withTimezone: true, precision: 3 }).notNull(),
    note: text('note'),
    actorId: uuid('actor_id')
      .notNull()
      .references(() => users.id),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('customer_costs_customer_idx').on(t.customerId, t.incurredAt, t.id),
    index('customer_costs_created_idx').on(t.customerId, t.createdAt, t.id),
    index('customer_costs_actor_idx').on(t.actorId),
    index('customer_costs_behalf_idx').on(t.onBehalfOfId),
  ],
);

// A manager's judgement of a customer's demonstration effect: one row per judgement, the newest in force.
export const referenceEffects = pgTable(
  'reference_effects',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    level: smallint('level').notNull(),
    reason: text('reason').notNull(),
    actorId: uuid('actor_id')
      .notNull()
      .references(() => users.id),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('reference_effects_customer_idx').on(t.customerId, t.at, t.id),
    index('reference_effects_actor_idx').on(t.actorId),
    index('reference_effects_behalf_idx').on(t.onBehalfOfId),
  ],
);
