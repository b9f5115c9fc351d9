import { z } from 'zod';
import { pageParams, syncParams } from '../../lib/pagination.js';
import { isoDate, page, trimmed } from '../../lib/schemas.js';
import { currencyCode, historyMonths, minSample, moneyString, rateString } from '../reports/index.js';
import { RATE_SOURCES } from './decompose.js';

// A period is at most ten years: a plan is a sales target, not a forecast of the century.
const MAX_PERIOD_DAYS = 3_660;

const targetAmount = moneyString.refine((v) => /[1-9]/.test(v), 'must be greater than 0');
const decomposeFields = {
  unitId: z.uuid(),
  pipelineId: z.uuid().optional(),
  periodStart: isoDate,
  periodEnd: isoDate,
  target: z
    .object({
      amount: targetAmount,
      currency: currencyCode,
    })
    .strict(),
  minSample: minSample.optional(),
  historyMonths: historyMonths.optional(),
};

const periodRule = <T extends { periodStart: string; periodEnd: string }>(s: z.ZodType<T>) =>
  s
    .refine((v) => v.periodStart <= v.periodEnd, { path: ['periodStart'], message: 'must not be after periodEnd' })
    .refine((v) => Date.parse(v.periodEnd) - Date.parse(v.periodStart) <= MAX_PERIOD_DAYS * 86_400_000, { path: ['periodEnd'], message: 'a period is at most 3660 days' });

export const decomposeInput = periodRule(z.object(decomposeFields).strict());
export type DecomposeInput = z.infer<typeof decomposeInput>;

export const createPlanInput = periodRule(z.object({ ...decomposeFields, name: trimmed(200).optional() }).strict());
export type CreatePlanInput = z.infer<typeof createPlanInput>;

const notWritable = (why: string) => z.never({ error: why }).optional();

/**
 * PATCH /v1/plans/{id}: a JSON merge patch of the plan's writable fields. `target` merges key by key;
 * `name: null` clears the name. A plan stays with its unit and pipeline.
 */
export const patchPlanInput = z
  .object({
    name: trimmed(200).nullable().optional(),
    periodStart: isoDate.optional(),
    periodEnd: isoDate.optional(),
    target: z.object({ amount: targetAmount.optional(), currency: currencyCode.optional() }).strict().optional(),
    minSample: minSample.optional(),
    historyMonths: historyMonths.optional(),
    unitId: notWritable('a plan stays with its unit: store a new plan for another unit'),
    pipelineId: notWritable('a plan stays with its pipeline: store a new plan for another pipeline'),
  })
  .strict()
  .meta({ id: 'PlanPatch' });
export type PatchPlanInput = z.infer<typeof patchPlanInput>;

/** The period rules of a create, applied to a plan's period after a patch. */
export const planPeriod = periodRule(z.object({ periodStart: isoDate, periodEnd: isoDate }));

// A sync reads the plans changed after an instant, by updatedAt (api.md §1 Sync); default newest first.
export const listPlansQuery = z.object({ ...pageParams, unitId: z.uuid().optional(), ...syncParams }).strict();
export type ListPlansQuery = z.infer<typeof listPlansQuery>;

export const requiredSchema = z.object({ stageKey: z.string(), count: z.number().int().nullable() });
export const planRateSchema = z.object({
  fromStageKey: z.string(),
  toStageKey: z.string(),
  rate: rateString.nullable(),
  sampleSize: z.number().int(),
  source: z.enum(RATE_SOURCES),
  sourceUnitId: z.uuid().nullable(),
  belowMinimumSample: z.boolean(),
});

const decompositionFields = {
  unitId: z.uuid(),
  pipelineId: z.uuid(),
  periodStart: z.string(),
  periodEnd: z.string(),
  target: z.object({ amount: z.string(), currency: z.string() }),
  averageWonAmount: z.string().nullable(),
  averageWonAmountSampleSize: z.number().int(),
  averageWonAmountSource: z.enum(RATE_SOURCES),
  wonNeeded: z.number().int().nullable(),
  required: z.array(requiredSchema),
  rates: z.array(planRateSchema),
  minSample: z.number().int(),
  historyMonths: z.number().int(),
  measuredFrom: z.iso.datetime({ offset: true }),
  measuredTo: z.iso.datetime({ offset: true }),
};
export const decompositionSchema = z.object(decompositionFields).meta({ id: 'PlanDecomposition' });
export type DecompositionDto = z.infer<typeof decompositionSchema>;

export const planSchema = z
  .object({
    id: z.uuid(),
    name: z.string().nullable(),
    ...decompositionFields,
    version: z.number().int(),
    createdBy: z.uuid(),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'Plan' });
export type PlanDto = z.infer<typeof planSchema>;
export const planPageSchema = page(planSchema);

export const progressSchema = z
  .object({
    planId: z.uuid(),
    asOf: z.iso.datetime({ offset: true }),
    periodStart: z.string(),
    periodEnd: z.string(),
    elapsedShare: rateString,
    stages: z.array(
      z.object({
        stageKey: z.string(),
        required: z.number().int().nullable(),
        requiredToday: z.number().int().nullable(),
        expectedToDate: z.number().int().nullable(),
        actual: z.number().int(),
        gap: z.number().int().nullable(),
      }),
    ),
    won: z.object({ currency: z.string(), target: z.string(), actual: z.string(), gap: z.string() }),
    averageWonAmountToday: z.string().nullable(),
    ratesToday: z.array(planRateSchema),
  })
  .meta({ id: 'PlanProgress' });
export type ProgressDto = z.infer<typeof progressSchema>;
