import { sql } from 'drizzle-orm';
import { boolean, date, index, integer, jsonb, numeric, pgTable, smallint, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { customers } from './customers.js';
import { orgUnits, users } from './org.js';

// An ordered list of stages; one default pipeline, others per product line or unit.
export const pipelines = pgTable(
  'pipelines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    isDefault: boolean('is_default').notNull().default(false),
    // Optional: the unit (and its subtree) or product line this pipeline is meant for.
    unitId: uuid('unit_id').references(() => orgUnits.id),
    productLine: text('product_line'),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('pipelines_single_default_idx').on(sql`(true)`).where(sql`${t.isDefault}`), index('pipelines_unit_idx').on(t.unitId)],
);

export const pipelineStages = pgTable(
  'pipeline_stages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pipelineId: uuid('pipeline_id')
      .notNull()
      .references(() => pipelines.id),
    key: text('key').notNull(),
    name: text('name').notNull(),
    position: integer('position').notNull(),
    // Win probability in percent, 0–100.
    probability: integer('probability').notNull(),
    terminal: boolean('terminal').notNull().default(false),
    // For terminal stages: WON or LOST (the opportunity's status on entering); null otherwise.
    outcome: text('outcome'),
    // Gate criteria to enter this stage (shape owned by the gate logic).
    gates: jsonb('gates').notNull().default(sql`'{}'::jsonb`),
  },
  (t) => [uniqueIndex('pipeline_stages_key_idx').on(t.pipelineId, t.key), index('pipeline_stages_position_idx').on(t.pipelineId, t.position)],
);

export const opportunities = pgTable(
  'opportunities',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    pipelineId: uuid('pipeline_id')
      .notNull()
      .references(() => pipelines.id),
    stageId: uuid('stage_id')
      .notNull()
      .references(() => pipelineStages.id),
    // The stage it was created in, written once at creation and never changed (the pipeline reports
    // start each deal's stage history here rather than at its first transition's origin).
    createdStageId: uuid('created_stage_id')
      .notNull()
      .references(() => pipelineStages.id),
    name: text('name').notNull(),
    // Money: numeric in SQL, a decimal string in JSON, never a float.
    amount: numeric('amount', { precision: 18, scale: 2 }),
    currency: text('currency'),
    expectedCloseDate: date('expected_close_date', { mode: 'string' }),
    // OPEN | WON | LOST
    status: text('status').notNull().default('OPEN'),
    qualification: jsonb('qualification').notNull().default(sql`'{}'::jsonb`),
    lostReason: text('lost_reason'),
    competitor: text('competitor'),
    // The read copy of the opportunity's rows in external_ids (which holds the uniqueness), written with them.
    externalIds: jsonb('external_ids').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    stageEnteredAt: timestamp('stage_entered_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    closedAt: timestamp('closed_at', { withTimezone: true, precision: 3 }),
    ownerUserId: uuid('owner_user_id').references(() => users.id),
    ownerUnitId: uuid('owner_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    version: integer('version').notNull().default(1),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('opportunities_customer_idx').on(t.customerId, t.createdAt, t.id),
    index('opportunities_pipeline_idx').on(t.pipelineId),
    index('opportunities_stage_idx').on(t.stageId, t.createdAt, t.id),
    index('opportunities_status_idx').on(t.status, t.createdAt, t.id),
    index('opportunities_owner_user_idx').on(t.ownerUserId),
    index('opportunities_owner_unit_idx').on(t.ownerUnitId),
    index('opportunities_created_idx').on(t.createdAt, t.id),
    index('opportunities_updated_idx').on(t.updatedAt, t.id),
    index('opportunities_close_idx').on(t.expectedCloseDate, t.id),
    index('opportunities_amount_idx').on(t.amount, t.id),
    index('opportunities_created_by_idx').on(t.createdBy),
    // Reports: deals closed within a period (win rate, cycle time, booked revenue).
    index('opportunities_closed_idx').on(t.closedAt),
  ],
);

// The only way a stage changes; one row per move.
export const stageTransitions = pgTable(
  'stage_transitions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    opportunityId: uuid('opportunity_id')
      .notNull()
      .references(() => opportunities.id),
    // Denormalised for the customer's timeline.
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    fromStageId: uuid('from_stage_id').references(() => pipelineStages.id),
    toStageId: uuid('to_stage_id')
      .notNull()
      .references(() => pipelineStages.id),
    reason: text('reason'),
    lostReason: text('lost_reason'),
    competitor: text('competitor'),
    secondsInFromStage: integer('seconds_in_from_stage'),
    actorId: uuid('actor_id')
      .notNull()
      .references(() => users.id),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('stage_transitions_opportunity_idx').on(t.opportunityId, t.at, t.id),
    index('stage_transitions_customer_idx').on(t.customerId, t.at, t.id),
    index('stage_transitions_from_idx').on(t.fromStageId),
    index('stage_transitions_to_idx').on(t.toStageId),
    index('stage_transitions_actor_idx').on(t.actorId),
    index('stage_transitions_behalf_idx').on(t.onBehalfOfId),
    // Reports: the moves made within a period (conversion, time in stage).
    index('stage_transitions_at_idx').on(t.at),
  ],
);

// Key actions: the advancement plan of an opportunity or a customer. The assignee and its unit are
// the action's owner for the visibility rule.
export const actions = pgTable(
  'actions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    opportunityId: uuid('opportunity_id').references(() => opportunities.id),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    title: text('title').notNull(),
    // Optional machine key a stage gate can require done (e.g. SOLUTION_ACCEPTED before NEGOTIATION).
    key: text('key'),
    notes: text('notes'),
    dueAt: timestamp('due_at', { withTimezone: true, precision: 3 }),
    value: smallint('value').notNull().default(3),
    urgency: smallint('urgency').notNull().default(3),
    // OPEN | DONE | CANCELLED
    status: text('status').notNull().default('OPEN'),
    // PLANNED (made by a user) | ESCALATION (a missed handoff deadline) | VALUE_ALERT | CHURN_ALERT (the value module)
    kind: text('kind').notNull().default('PLANNED'),
    // For ESCALATION actions: the handoff that escalated (unique: an escalation happens once).
    handoffId: uuid('handoff_id'),
    assigneeId: uuid('assignee_id')
      .notNull()
      .references(() => users.id),
    ownerUnitId: uuid('owner_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    completedAt: timestamp('completed_at', { withTimezone: true, precision: 3 }),
    version: integer('version').notNull().default(1),
    createdBy: uuid('created_by').references(() => users.id),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('actions_assignee_idx').on(t.assigneeId, t.status, t.dueAt),
    index('actions_owner_unit_idx').on(t.ownerUnitId),
    index('actions_opportunity_idx').on(t.opportunityId, t.createdAt, t.id),
    index('actions_customer_idx').on(t.customerId, t.createdAt, t.id),
    index('actions_key_idx').on(t.opportunityId, t.key),
    uniqueIndex('actions_handoff_idx').on(t.handoffId),
    index('actions_created_by_idx').on(t.createdBy),
    index('actions_behalf_idx').on(t.onBehalfOfId),
    // Actions completed within a period (sales performance).
    index('actions_done_idx').on(t.completedAt).where(sql`${t.status} = 'DONE'`),
  ],
);
