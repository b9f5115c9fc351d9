import { index, integer, numeric, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { customers } from './customers.js';
import { opportunities } from './opportunities.js';
import { orgUnits, users } from './org.js';

// Orders flow in from ERP (domain.md §8): ordered → paid → shipped → confirmed, or cancelled.
// The owner is the customer's, copied so the one visibility rule reads orders like their customer.
export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    opportunityId: uuid('opportunity_id').references(() => opportunities.id),
    number: text('number'),
    status: text('status').notNull().default('ORDERED'),
    orderedAt: timestamp('ordered_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    paidAt: timestamp('paid_at', { withTimezone: true, precision: 3 }),
    shippedAt: timestamp('shipped_at', { withTimezone: true, precision: 3 }),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true, precision: 3 }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true, precision: 3 }),
    amount: numeric('amount', { precision: 18, scale: 2 }).notNull().default('0'),
    currency: text('currency').notNull(),
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
    index('orders_customer_idx').on(t.customerId, t.orderedAt, t.id),
    index('orders_opportunity_idx').on(t.opportunityId),
    index('orders_owner_user_idx').on(t.ownerUserId),
    index('orders_owner_unit_idx').on(t.ownerUnitId),
    index('orders_status_idx').on(t.status),
    index('orders_ordered_idx').on(t.orderedAt, t.id),
    index('orders_updated_idx').on(t.updatedAt, t.id),
    // ERP order numbers are looked up (`?number=`); not unique: numbering is the ERP's, per company or per system.
    index('orders_number_idx').on(t.number),
  ],
);

export const orderLines = pgTable(
  'order_lines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    product: text('product').notNull(),
    productLine: text('product_line'),
    quantity: numeric('quantity', { precision: 18, scale: 4 }).notNull(),
    unitPrice: numeric('unit_price', { precision: 18, scale: 2 }).notNull(),
    amount: numeric('amount', { precision: 18, scale: 2 }).notNull(),
  },
  (t) => [index('order_lines_order_idx').on(t.orderId, t.position), index('order_lines_product_line_idx').on(t.productLine)],
);
