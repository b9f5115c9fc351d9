import { z } from 'zod';
import { isoDate } from '../../lib/schemas.js';
import { SOURCE_CHANNELS } from '../customers/index.js';
import { GROUP_BYS } from './report-scope.js';
import { bound } from './reports.schemas.js';

// Query and answer shapes of the pipeline reports: funnel, conversion, forecast, sales performance.

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);
const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

export const currencyCode = z.preprocess(upper, z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code: three capital letters'));
export const moneyString = z.string().regex(/^\d{1,16}(\.\d{1,2})?$/, 'a non-negative decimal string with at most 16 integer digits and 2 decimals, e.g. "1500.00"');
// Rates: a decimal string with four places ("0.2500"), like money never a float.
export const rateString = z.string().regex(/^\d\.\d{4}$/);
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month, e.g. 2025-03').refine((v) => v >= '1900-01' && v <= '9999-12', 'must be between 1900-01 and 9999-12');

/** The smallest sample a measured rate needs before it is used (docs/reports.md). */
export const DEFAULT_MIN_SAMPLE = 20;
export const minSample = z.coerce.number().int().min(1).max(100_000);
export const historyMonths = z.coerce.number().int().min(1).max(60);

const scope = {
  pipelineId: z.uuid().optional(),
  ownerUnitId: z.uuid().optional(),
  ownerUserId: z.uuid().optional(),
  source: z.preprocess(upper, z.enum(SOURCE_CHANNELS)).optional(),
  currency: currencyCode.optional(),
};
const groupBy = z.preprocess(lower, z.enum(GROUP_BYS)).optional();

export const funnelQuery = z
  .object({ ...scope, groupBy, expectedCloseFrom: isoDate.optional(), expectedCloseTo: isoDate.optional() })
  .strict()
  .refine((q) => !q.expectedCloseFrom || !q.expectedCloseTo || q.expectedCloseFrom <= q.expectedCloseTo, { path: ['expectedCloseFrom'], message: 'must not be after expectedCloseTo' });
export type FunnelQuery = z.infer<typeof funnelQuery>;

export const conversionQuery = z.object({ ...scope, groupBy, from: bound('from').optional(), to: bound('to').optional() }).strict();
export type ConversionQuery = z.infer<typeof conversionQuery>;

export const forecastQuery = z
  .object({
    ...scope,
    groupBy,
    from: month.optional(),
    to: month.optional(),
    commitProbability: z.coerce.number().int().min(0).max(100).optional(),
    minSample: minSample.optional(),
    historyMonths: historyMonths.optional(),
  })
  .strict();
export type ForecastQuery = z.infer<typeof forecastQuery>;

export const performanceQuery = z
  .object({ ...scope, groupBy: z.preprocess(lower, z.enum(['user', 'unit', 'partner'])).optional(), from: bound('from').optional(), to: bound('to').optional() })
  .strict();
export type PerformanceQuery = z.infer<typeof performanceQuery>;

// ---- answers --------------------------------------------------------------------------------------

const group = z.object({ key: z.string().nullable(), name: z.string().nullable() }).nullable();

const funnelCells = {
  count: z.number().int(),
  amount: z.string(),
  weightedAmount: z.string(),
  unpricedCount: z.number().int(),
  otherCurrencyCount: z.number().int(),
};
export const funnelSchema = z
  .object({
    pipelineId: z.uuid(),
    currency: z.string(),
    groupBy: z.enum(GROUP_BYS).nullable(),
    groups: z.array(
      z.object({
        group,
        stages: z.array(z.object({ stageId: z.uuid(), stageKey: z.string(), stageName: z.string(), probability: z.number().int(), ...funnelCells })),
        totals: z.object(funnelCells),
      }),
    ),
  })
  .meta({ id: 'FunnelReport' });
export type FunnelDto = z.infer<typeof funnelSchema>;

export const conversionStepSchema = z.object({
  fromStageKey: z.string(),
  toStageKey: z.string(),
  entered: z.number().int(),
  advanced: z.number().int(),
  lost: z.number().int(),
  open: z.number().int(),
  conversionRate: rateString.nullable(),
  sampleSize: z.number().int(),
  wonByEnd: z.number().int(),
  winRateFromStage: rateString.nullable(),
  meanDaysInStage: z.number().nullable(),
  medianDaysInStage: z.number().nullable(),
  timeSampleSize: z.number().int(),
});
export const conversionSchema = z
  .object({
    pipelineId: z.uuid(),
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    groupBy: z.enum(GROUP_BYS).nullable(),
    groups: z.array(
      z.object({
        group,
        steps: z.array(conversionStepSchema),
        wonCount: z.number().int(),
        lostCount: z.number().int(),
        winRate: rateString.nullable(),
        meanCycleDays: z.number().nullable(),
        backwardMoves: z.number().int(),
        reopenings: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'ConversionReport' });
export type ConversionDto = z.infer<typeof conversionSchema>;

const forecastCells = {
  openCount: z.number().int(),
  weighted: z.string(),
  historyBased: z.string(),
  commit: z.string(),
  bestCase: z.string(),
  won: z.string(),
  wonCount: z.number().int(),
  unpricedCount: z.number().int(),
  otherCurrencyCount: z.number().int(),
};
export const forecastSchema = z
  .object({
    pipelineId: z.uuid(),
    currency: z.string(),
    from: z.string(),
    to: z.string(),
    commitProbability: z.number().int(),
    stageRates: z.array(z.object({ stageKey: z.string(), rate: rateString, sampleSize: z.number().int(), source: z.enum(['HISTORY', 'PIPELINE']) })),
    months: z.array(z.object({ month: z.string(), ...forecastCells })),
    totals: z.object(forecastCells),
    undatedCount: z.number().int(),
    groupBy: z.enum(GROUP_BYS).nullable(),
    // Without groupBy, one group (null) holding the same numbers as months and totals.
    groups: z.array(
      z.object({ group, months: z.array(z.object({ month: z.string(), ...forecastCells })), totals: z.object(forecastCells), undatedCount: z.number().int() }),
    ),
  })
  .meta({ id: 'ForecastReport' });
export type ForecastDto = z.infer<typeof forecastSchema>;

const performanceCells = {
  created: z.number().int(),
  won: z.number().int(),
  lost: z.number().int(),
  wonAmount: z.string(),
  winRate: rateString.nullable(),
  conversionRate: rateString.nullable(),
  meanCycleDays: z.number().nullable(),
  interactions: z.number().int(),
  actionsDone: z.number().int(),
};
export const performanceSchema = z
  .object({
    pipelineId: z.uuid(),
    currency: z.string(),
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    groupBy: z.enum(['user', 'unit', 'partner']),
    rows: z.array(z.object({ group, ...performanceCells })),
  })
  .meta({ id: 'SalesPerformanceReport' });
export type PerformanceDto = z.infer<typeof performanceSchema>;
