import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { contacts, customers } from './customers.js';
import { opportunities } from './opportunities.js';
import { users } from './org.js';

// One touch point with a customer. Visibility follows the customer: the history belongs to the
// customer record (and so to the company), not to whoever logged it.
export const interactions = pgTable(
  'interactions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    contactId: uuid('contact_id').references(() => contacts.id),
    opportunityId: uuid('opportunity_id').references(() => opportunities.id),
    channel: text('channel').notNull(),
    direction: text('direction').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull(),
    subject: text('subject'),
    notes: text('notes'),
    outcome: text('outcome'),
    actorId: uuid('actor_id')
      .notNull()
      .references(() => users.id),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('interactions_customer_idx').on(t.customerId, t.occurredAt, t.id),
    index('interactions_opportunity_idx').on(t.opportunityId, t.occurredAt, t.id),
    index('interactions_contact_idx').on(t.contactId),
    index('interactions_actor_idx').on(t.actorId),
    index('interactions_behalf_idx').on(t.onBehalfOfId),
    // Activity within a period (sales performance): the range, with the columns the count joins on;
    // per actor when the caller reaches only some users (a partner manager: its users' rows of the period).
    index('interactions_occurred_idx').on(t.occurredAt, t.customerId, t.actorId),
    index('interactions_actor_occurred_idx').on(t.actorId, t.occurredAt, t.customerId),
    // Complaints per customer (the value model's churn signal): few rows, read by the full run whole
    // and by an incremental update per customer, instead of filtering every interaction.
    index('interactions_complaint_idx')
      .on(t.customerId, t.occurredAt)
      .where(sql`upper(btrim(${t.outcome})) = 'COMPLAINT'`),
  ],
);

// The time of each customer's latest interaction (its last contact: the value model's NO_CONTACT
// signal), kept by triggers on interactions (migration 0021) for every insert, an update that
// changes a row's customer or time (an edit, a merge) and a delete: a full value run reads one row
// per customer instead of grouping every interaction. No row for a customer without interactions.
export const customerLastContact = pgTable('customer_last_contact', {
  customerId: uuid('customer_id')
    .primaryKey()
    .references(() => customers.id, { onDelete: 'cascade' }),
  lastAt: timestamp('last_at', { withTimezone: true, precision: 3 }).notNull(),
});

// What an interaction was before each edit: one row per replaced version.
export const interactionRevisions = pgTable(
  'interaction_revisions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    interactionId: uuid('interaction_id')
      .notNull()
      .references(() => interactions.id),
    version: integer('version').notNull(),
    // The interaction's writable fields as they were at `version`.
    snapshot: jsonb('snapshot').notNull().default(sql`'{}'::jsonb`),
    editedBy: uuid('edited_by')
      .notNull()
      .references(() => users.id),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    editedAt: timestamp('edited_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('interaction_revisions_interaction_idx').on(t.interactionId, t.version), index('interaction_revisions_edited_by_idx').on(t.editedBy), index('interaction_revisions_behalf_idx').on(t.onBehalfOfId)],
);
