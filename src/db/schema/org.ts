import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const orgUnits = pgTable(
  'org_units',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    partnerType: text('partner_type'),
    parentId: uuid('parent_id'),
    // Materialised path of ids ("/root/child/"): subtree = path LIKE prefix || '%'.
    path: text('path').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('org_units_parent_idx').on(t.parentId),
    index('org_units_path_idx').using('btree', sql`${t.path} text_pattern_ops`),
    uniqueIndex('org_units_single_root_idx').on(sql`(true)`).where(sql`${t.parentId} IS NULL`),
  ],
);

export const roles = pgTable(
  'roles',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    scope: text('scope').notNull(),
    permissions: text('permissions').array().notNull().default(sql`'{}'::text[]`),
    hiddenFields: text('hidden_fields').array().notNull().default(sql`'{}'::text[]`),
    builtIn: boolean('built_in').notNull().default(false),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('roles_name_idx').on(t.name)],
);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    unitId: uuid('unit_id').notNull().references(() => orgUnits.id),
    kind: text('kind').notNull().default('HUMAN'),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_email_idx').on(sql`lower(${t.email})`), index('users_unit_idx').on(t.unitId)],
);

export const userRoles = pgTable(
  'user_roles',
  {
    userId: uuid('user_id').notNull().references(() => users.id),
    roleId: uuid('role_id').notNull().references(() => roles.id),
  },
  (t) => [primaryKey({ columns: [t.userId, t.roleId] }), index('user_roles_role_idx').on(t.roleId)],
);

export const delegations = pgTable(
  'delegations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    fromUserId: uuid('from_user_id').notNull().references(() => users.id),
    toUserId: uuid('to_user_id').notNull().references(() => users.id),
    startsAt: timestamp('starts_at', { withTimezone: true, precision: 3 }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true, precision: 3 }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    createdBy: uuid('created_by').notNull().references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    // Moves when the delegation is revoked or ended (a sync's read, api.md §1 Sync).
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('delegations_to_idx').on(t.toUserId, t.endsAt),
    index('delegations_from_idx').on(t.fromUserId),
    index('delegations_created_by_idx').on(t.createdBy),
    // Lists page newest first on (createdAt, id).
    index('delegations_created_idx').on(t.createdAt, t.id),
    index('delegations_updated_idx').on(t.updatedAt, t.id),
  ],
);

// An explicit grant: one record shared with one unit or one user.
export const shares = pgTable(
  'shares',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    resourceType: text('resource_type').notNull(),
    resourceId: uuid('resource_id').notNull(),
    toUnitId: uuid('to_unit_id').references(() => orgUnits.id),
    toUserId: uuid('to_user_id').references(() => users.id),
    // Null: until revoked. Past it the share grants nothing (the visibility predicate skips it);
    // the row stays, so lists and audits still show what was granted.
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }),
    createdBy: uuid('created_by').notNull().references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('shares_resource_idx').on(t.resourceType, t.resourceId),
    index('shares_to_unit_idx').on(t.toUnitId),
    index('shares_to_user_idx').on(t.toUserId),
    index('shares_created_by_idx').on(t.createdBy),
    // Lists page newest first on (createdAt, id).
    index('shares_created_idx').on(t.createdAt, t.id),
  ],
);

// A long-term handover of a user's book: what moved, to whom, by whom.
export const transfers = pgTable(
  'transfers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    fromUserId: uuid('from_user_id')
      .notNull()
      .references(() => users.id),
    toUserId: uuid('to_user_id').references(() => users.id),
    toUnitId: uuid('to_unit_id')
      .notNull()
      .references(() => orgUnits.id),
    // { customers, opportunities, actions }
    counts: jsonb('counts').$type<Record<string, number>>().notNull(),
    actorId: uuid('actor_id')
      .notNull()
      .references(() => users.id),
    onBehalfOfId: uuid('on_behalf_of_id').references(() => users.id),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('transfers_from_idx').on(t.fromUserId),
    index('transfers_to_user_idx').on(t.toUserId),
    index('transfers_to_unit_idx').on(t.toUnitId),
    index('transfers_actor_idx').on(t.actorId),
    index('transfers_behalf_idx').on(t.onBehalfOfId),
  ],
);
