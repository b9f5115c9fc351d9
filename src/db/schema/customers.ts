import { sql } from 'drizzle-orm';
import { index, integer, jsonb, numeric, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orgUnits, users } from './org.js';

export type Address = {
  line1?: string | undefined;
  line2?: string | undefined;
  city?: string | undefined;
  postalCode?: string | undefined;
  region?: string | undefined;
  country?: string | undefined;
};

export const customers = pgTable(
  'customers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind').notNull(),
    name: text('name').notNull(),
    nameNorm: text('name_norm').notNull(),
    registrationId: text('registration_id'),
    registrationNorm: text('registration_norm'),
    phones: text('phones').array().notNull().default(sql`'{}'::text[]`),
    phonesNorm: text('phones_norm').array().notNull().default(sql`'{}'::text[]`),
    emails: text('emails').array().notNull().default(sql`'{}'::text[]`),
    emailsNorm: text('emails_norm').array().notNull().default(sql`'{}'::text[]`),
    // name + phone digits + emails, lower-cased: one trigram index serves the `q` search.
    searchText: text('search_text').notNull(),
    website: text('website'),
    industry: text('industry'),
    region: text('region'),
    address: jsonb('address').$type<Address>(),
    roles: text('roles').array().notNull().default(sql`'{}'::text[]`),
    lifecycleStage: text('lifecycle_stage').notNull().default('SUSPECT'),
    status: text('status').notNull().default('ACTIVE'),
    sourceChannel: text('source_channel'),
    sourceCampaign: text('source_campaign'),
    sourceReferrerCustomerId: uuid('source_referrer_customer_id'),
    sourceDetail: text('source_detail'),
    creditStatus: text('credit_status'),
    // Credit as the ERP knows it: a limit in money (decimal, never a float) and its currency.
    creditLimit: numeric('credit_limit', { precision: 18, scale: 2 }),
    creditCurrency: text('credit_currency'),
    // The computed valueScore, valueClass and churnRisk live in customer_values (value module): a full
    // recomputation writes that narrow table, never this wide, heavily indexed one.
    externalIds: jsonb('external_ids').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    ownerUserId: uuid('owner_user_id').references(() => users.id),
    ownerUnitId: uuid('owner_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    mergedIntoId: uuid('merged_into_id'),
    version: integer('version').notNull().default(1),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('customers_owner_user_idx').on(t.ownerUserId),
    index('customers_owner_unit_idx').on(t.ownerUnitId),
    index('customers_created_idx').on(t.createdAt, t.id),
    index('customers_updated_idx').on(t.updatedAt, t.id),
    index('customers_name_idx').on(t.name, t.id),
    index('customers_lifecycle_idx').on(t.lifecycleStage, t.createdAt, t.id),
    index('customers_status_idx').on(t.status),
    // Pipeline reports: the few customers whose deals leave the open pipeline (frozen, merged), anti-joined.
    index('customers_inactive_idx').on(t.id).where(sql`${t.status} <> 'ACTIVE'`),
    index('customers_source_idx').on(t.sourceChannel),
    index('customers_name_norm_idx').on(t.nameNorm),
    index('customers_registration_norm_idx').on(t.registrationNorm),
    index('customers_phones_norm_idx').using('gin', t.phonesNorm),
    index('customers_emails_norm_idx').using('gin', t.emailsNorm),
    index('customers_search_trgm_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
    index('customers_merged_into_idx').on(t.mergedIntoId),
    index('customers_referrer_idx').on(t.sourceReferrerCustomerId),
    index('customers_external_ids_idx').using('gin', t.externalIds),
  ],
);

export const contacts = pgTable(
  'contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    name: text('name').notNull(),
    title: text('title'),
    decisionRole: text('decision_role').notNull().default('OTHER'),
    phones: text('phones').array().notNull().default(sql`'{}'::text[]`),
    emails: text('emails').array().notNull().default(sql`'{}'::text[]`),
    // The read copy of the contact's rows in external_ids (which holds the uniqueness), written with them.
    externalIds: jsonb('external_ids').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('contacts_customer_idx').on(t.customerId, t.createdAt, t.id), index('contacts_updated_idx').on(t.updatedAt, t.id)],
);
