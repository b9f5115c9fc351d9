import { sql } from 'drizzle-orm';
import { date, index, integer, jsonb, numeric, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orgUnits, users } from './org.js';
import { pipelines } from './opportunities.js';

// A sales plan: a unit's target for a period, decomposed backwards through the funnel with the rates
// measured when it was made. Progress recomputes with today's rates; the stored numbers stay as made.
export const plans = pgTable(
  'plans',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    unitId: uuid('unit_id')
      .notNull()
      .references(() => orgUnits.id),
    pipelineId: uuid('pipeline_id')
      .notNull()
      .references(() => pipelines.id),
    name: text('name'),
    periodStart: date('period_start', { mode: 'string' }).notNull(),
    periodEnd: date('period_end', { mode: 'string' }).notNull(),
    targetAmount: numeric('target_amount', { precision: 18, scale: 2 }).notNull(),
    currency: text('currency').notNull(),
    averageWonAmount: numeric('average_won_amount', { precision: 18, scale: 2 }),
    // The decomposition as computed: [{ stageKey, count }], [{ fromStageKey, toStageKey, rate, sampleSize, source, … }],
    // and how it was measured (minimum sample, history window, average won amount's sample and source).
    required: jsonb('required').notNull(),
    rates: jsonb('rates').notNull(),
    measurement: jsonb('measurement').notNull().default(sql`'{}'::jsonb`),
    version: integer('version').notNull().default(1),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('plans_unit_idx').on(t.unitId, t.createdAt, t.id),
    index('plans_pipeline_idx').on(t.pipelineId),
    index('plans_created_by_idx').on(t.createdBy),
    index('plans_created_idx').on(t.createdAt, t.id),
  ],
);
