import { z } from 'zod';
import { pageParams, syncParams } from '../../lib/pagination.js';
import { safeString, text, timestamp } from '../../lib/schemas.js';
import { CHURN_LEVELS, CHURN_SIGNALS, INDICATORS, VALUE_CLASSES } from './scoring.js';
import { VALUE_CAUSES } from './value.recompute.js';

export const COST_KINDS = ['MARKETING', 'SALES', 'SERVICE', 'OTHER'] as const;

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);
// Money: a decimal string, never a float. Costs are above zero.
const positiveMoney = z.string().regex(/^(?!0*(\.0*)?$)\d{1,16}(\.\d{1,2})?$/, 'a decimal string above zero with at most 16 integer digits and 2 decimals, e.g. "1500.00"');
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code: three capital letters');
// Spending is recorded when it happened, not planned ahead (a day's slack for time zones).
const incurredAt = timestamp.refine((v) => Date.parse(v) <= Date.now() + 86_400_000, 'must not be in the future');

export const recordCostBody = z
  .object({
    kind: z.preprocess(upper, z.enum(COST_KINDS)),
    amount: positiveMoney,
    currency,
    incurredAt: incurredAt.optional(),
    note: text(2000).nullish(),
  })
  .strict()
  .meta({ id: 'CostCreate' });
export type RecordCostInput = z.infer<typeof recordCostBody>;

export const costSchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    kind: z.enum(COST_KINDS),
    amount: z.string(),
    currency: z.string(),
    incurredAt: timestamp,
    note: z.string().nullable(),
    actorId: z.uuid(),
    onBehalfOfId: z.uuid().nullable(),
    createdAt: timestamp,
    /** A cost never changes once recorded: always its `createdAt` (the sync key). */
    updatedAt: timestamp,
  })
  .meta({ id: 'Cost' });
export type CostDto = z.infer<typeof costSchema>;

// A customer's costs: by when spent, newest first (the default), or by when recorded. A cost is never
// changed, so `updatedAt` is `createdAt` and a sync reads `updatedAfter` as "recorded after".
export const COST_SORTS = ['incurredAt', 'createdAt', 'updatedAt'] as const;
export type CostSort = (typeof COST_SORTS)[number];
export const listCostsQuery = z.object({ ...pageParams, ...syncParams }).strict();
export type ListCostsQuery = z.infer<typeof listCostsQuery>;

export const referenceEffectBody = z
  .object({
    level: z.number().int().min(0).max(5),
    reason: safeString().trim().min(1).max(2000),
  })
  .strict()
  .meta({ id: 'ReferenceEffectSet' });
export type ReferenceEffectInput = z.infer<typeof referenceEffectBody>;

export const referenceEffectSchema = z
  .object({ id: z.uuid(), customerId: z.uuid(), level: z.number().int(), reason: z.string(), actorId: z.uuid(), onBehalfOfId: z.uuid().nullable(), at: timestamp })
  .meta({ id: 'ReferenceEffect' });
export type ReferenceEffectDto = z.infer<typeof referenceEffectSchema>;

// ---- the value model ---------------------------------------------------------------------------

const amountParam = z.number().positive().max(1e15);
const percent = z.number().min(0).max(100);
const dayCount = z.number().int().min(1).max(3650);

export const churnConfigSchema = z
  .object({
    noContactDays: dayCount,
    orderWindowDays: dayCount,
    orderDropPercent: z.number().int().min(1).max(100),
    complaintWindowDays: dayCount,
    complaints: z.number().int().min(1).max(1000),
    lostDealWindowDays: dayCount,
    lostDeals: z.number().int().min(1).max(1000),
    highSignals: z.number().int().min(1).max(5),
  })
  .strict()
  .meta({ id: 'ChurnConfig' });

export const valueModelBody = z
  .object({
    weights: z
      .object(Object.fromEntries(INDICATORS.map((i) => [i, z.number().int().min(0).max(100)])) as Record<(typeof INDICATORS)[number], z.ZodNumber>)
      .strict()
      .refine((w) => Object.values(w).reduce((s, x) => s + x, 0) === 100, 'the weights must sum to 100'),
    revenueHalf: amountParam,
    expectedSalesHalf: amountParam,
    costHalf: amountParam,
    trailingMonths: z.number().int().min(1).max(60),
    aPercent: percent,
    cPercent: percent,
    churn: churnConfigSchema,
  })
  .strict()
  .refine((m) => m.aPercent + m.cPercent <= 100, { message: 'aPercent and cPercent together must not exceed 100', path: ['cPercent'] })
  .meta({ id: 'ValueModelUpdate' });
export type ValueModelInput = z.infer<typeof valueModelBody>;

export const valueModelSchema = z
  .object({
    version: z.number().int(),
    createdAt: timestamp,
    createdBy: z.uuid().nullable(),
    weights: z.record(z.enum(INDICATORS), z.number()),
    revenueHalf: z.number(),
    expectedSalesHalf: z.number(),
    costHalf: z.number(),
    trailingMonths: z.number().int(),
    aPercent: z.number(),
    cPercent: z.number(),
    churn: churnConfigSchema,
  })
  .meta({ id: 'ValueModel' });
export type ValueModelDto = z.infer<typeof valueModelSchema>;

export const recomputeResultSchema = z
  .object({
    modelVersion: z.number().int(),
    customers: z.number().int(),
    scoreChanged: z.number().int(),
    classChanged: z.number().int(),
    churnChanged: z.number().int(),
    actions: z.number().int(),
    ranked: z.number().int(),
    aMinScore: z.string().nullable(),
    cMaxScore: z.string().nullable(),
    finishedAt: timestamp,
  })
  .meta({ id: 'ValueRecomputation' });
export type RecomputeResultDto = z.infer<typeof recomputeResultSchema>;

// ---- a customer's value -----------------------------------------------------------------------

export const customerValueSchema = z
  .object({
    customerId: z.uuid(),
    score: z.number().nullable(),
    valueClass: z.enum(VALUE_CLASSES).nullable(),
    modelVersion: z.number().int(),
    computedAt: timestamp.nullable(),
    parts: z.array(
      z.object({ indicator: z.enum(INDICATORS), raw: z.string(), normalised: z.number(), weight: z.number(), contribution: z.number(), explanation: z.string() }),
    ),
    churn: z.object({
      level: z.enum(CHURN_LEVELS),
      signals: z.array(z.object({ kind: z.enum(CHURN_SIGNALS), detail: z.string(), since: timestamp })),
    }),
    history: z.array(
      z.object({ at: timestamp, score: z.number(), valueClass: z.enum(VALUE_CLASSES).nullable(), previousClass: z.enum(VALUE_CLASSES).nullable(), modelVersion: z.number().int(), cause: z.enum(VALUE_CAUSES) }),
    ),
  })
  .meta({ id: 'CustomerValue' });
export type CustomerValueDto = z.infer<typeof customerValueSchema>;
