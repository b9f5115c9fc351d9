import { z } from 'zod';
import { EXTERNAL_SYSTEM_PATTERN } from '../../lib/external-ids.js';
import { cursorParam, limitSchema } from '../../lib/pagination.js';
import { queryFlag, safeString, text, timestamp, trimmed } from '../../lib/schemas.js';
import { ORDER_STATUSES } from './orders.rules.js';

export { ORDER_STATUSES } from './orders.rules.js';
export const ORDER_SORTS = ['orderedAt', 'updatedAt'] as const;
export const MAX_LINES = 1000;

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);
const status = z.preprocess(upper, z.enum(ORDER_STATUSES));

// Money and quantities are decimal strings (numeric in SQL), never floats.
export const money = z.string().regex(/^\d{1,16}(\.\d{1,2})?$/, 'a non-negative decimal string with at most 16 integer digits and 2 decimals, e.g. "1500.00"');
const quantity = z
  .string()
  .regex(/^\d{1,14}(\.\d{1,4})?$/, 'a decimal string with at most 14 integer digits and 4 decimals, e.g. "2" or "0.5"')
  .refine((v) => /[1-9]/.test(v), 'must be above zero');
export const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code: three capital letters');

export const systemName = z.string().regex(EXTERNAL_SYSTEM_PATTERN, 'a system name: a lower-case letter, then up to 31 letters, digits, _ or -');
export const externalIdValue = safeString().trim().min(1).max(200);
const externalIds = z.record(systemName, externalIdValue);
const externalIdsPatch = z.record(systemName, externalIdValue.nullable());

export const orderLineInput = z
  .object({
    product: trimmed(300),
    productLine: text(100).nullish(),
    quantity,
    unitPrice: money,
    // Given: the line's amount as invoiced (a discount, say); left out: quantity × unitPrice, to the cent.
    amount: money.optional(),
  })
  .strict()
  .meta({ id: 'OrderLineWrite' });

const lines = z.array(orderLineInput).max(MAX_LINES);
const customerRef = z.object({ system: systemName, externalId: externalIdValue }).strict().meta({ id: 'OrderCustomerRef' });

const notWritable = (why: string) => z.never({ error: why }).optional();
const ownerNotHere = notWritable("an order is owned as its customer is: its owner follows the customer's");

// The fields a create and an upsert share.
const orderFields = {
  customerId: z.uuid().optional(),
  customer: customerRef.optional(),
  opportunityId: z.uuid().nullish(),
  number: text(100).nullish(),
  status: status.optional(),
  orderedAt: timestamp.optional(),
  paidAt: timestamp.optional(),
  shippedAt: timestamp.optional(),
  confirmedAt: timestamp.optional(),
  cancelledAt: timestamp.optional(),
  amount: money.optional(),
  lines: lines.optional(),
  externalIds: externalIds.optional(),
  ownerUserId: ownerNotHere,
  ownerUnitId: ownerNotHere,
};

const oneCustomer = (v: { customerId?: string | undefined; customer?: unknown }, ctx: z.RefinementCtx) => {
  if (v.customerId !== undefined && v.customer !== undefined) ctx.addIssue({ code: 'custom', path: ['customer'], message: 'give customerId or customer, not both' });
};

export const createOrderBody = z
  .object({ ...orderFields, currency })
  .strict()
  .superRefine((v, ctx) => {
    oneCustomer(v, ctx);
    if (v.customerId === undefined && v.customer === undefined) ctx.addIssue({ code: 'custom', path: ['customerId'], message: 'required: the customer by customerId, or by customer: { system, externalId }' });
  })
  .meta({ id: 'OrderCreate' });
export type CreateOrderInput = z.infer<typeof createOrderBody>;

// A step's time may be corrected; `null` removes one the order's status does not need.
const stepTime = timestamp.nullish();
export const patchOrderBody = z
  .object({
    opportunityId: z.uuid().nullish(),
    number: text(100).nullish(),
    status: status.optional(),
    orderedAt: timestamp.optional(),
    paidAt: stepTime,
    shippedAt: stepTime,
    confirmedAt: stepTime,
    cancelledAt: stepTime,
    amount: money.optional(),
    currency: currency.optional(),
    lines: lines.optional(),
    externalIds: externalIdsPatch.nullish(),
    customerId: notWritable('an order stays with its customer'),
    customer: notWritable('an order stays with its customer'),
    ownerUserId: ownerNotHere,
    ownerUnitId: ownerNotHere,
  })
  .strict()
  .meta({ id: 'OrderPatch' });
export type PatchOrderInput = z.infer<typeof patchOrderBody>;

/**
 * PUT …/external/{system}/{externalId}: the create body when the order is new, a merge patch when it
 * exists (then a customer given must be the order's own). Checked against the one that applies.
 */
export const upsertOrderBody = z
  .object({ ...orderFields, paidAt: stepTime, shippedAt: stepTime, confirmedAt: stepTime, cancelledAt: stepTime, currency: currency.optional(), externalIds: externalIdsPatch.optional() })
  .strict()
  .superRefine(oneCustomer)
  .meta({ id: 'OrderUpsert' });
export type UpsertOrderInput = z.infer<typeof upsertOrderBody>;

export const externalParams = z.object({ system: systemName, externalId: externalIdValue }).strict();

export const orderLineSchema = z
  .object({ product: z.string(), productLine: z.string().nullable(), quantity: z.string(), unitPrice: z.string(), amount: z.string() })
  .meta({ id: 'OrderLine' });

export const orderSchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    opportunityId: z.uuid().nullable(),
    number: z.string().nullable(),
    status: z.enum(ORDER_STATUSES),
    orderedAt: timestamp,
    paidAt: timestamp.nullable(),
    shippedAt: timestamp.nullable(),
    confirmedAt: timestamp.nullable(),
    cancelledAt: timestamp.nullable(),
    amount: z.string().meta({ description: 'decimal string: the sum of the lines, e.g. "1500.00"' }),
    currency: z.string(),
    lines: z.array(orderLineSchema),
    // Absent for callers whose roles hide the company's system ids (customer.externalIds).
    externalIds: z.record(z.string(), z.string()).optional(),
    ownerUserId: z.uuid().nullable(),
    ownerUnitId: z.uuid(),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Order' });
export type OrderDto = z.infer<typeof orderSchema>;

const listFields = {
  limit: limitSchema,
  cursor: cursorParam.optional(),
  sort: safeString().max(40).optional(),
  status: status.optional(),
  opportunityId: z.uuid().optional(),
  number: text(100).optional(),
  currency: currency.optional(),
  productLine: text(100).optional(),
  orderedAfter: timestamp.optional(),
  orderedBefore: timestamp.optional(),
  updatedAfter: timestamp.optional(),
  // true: the answer carries totalCount, the rows of every page within visibility.
  count: queryFlag.optional(),
};

export const listOrdersQuery = z
  .object({ ...listFields, customerId: z.uuid().optional(), ownerUserId: z.uuid().optional(), ownerUnitId: z.uuid().optional() })
  .strict();
export type ListOrdersQuery = z.infer<typeof listOrdersQuery>;

export const customerOrdersQuery = z.object(listFields).strict();
