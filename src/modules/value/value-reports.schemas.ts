import { z } from 'zod';
import { DATE_RANGE_MESSAGE, isoDate, LATEST_INSTANT, timestamp } from '../../lib/schemas.js';
import { CHURN_SIGNALS, VALUE_CLASSES } from './scoring.js';

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);
// A day (2025-03-01) or an RFC 3339 time; a day as `to` means the whole day.
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const LATEST_MS = Date.parse(LATEST_INSTANT);
const bound = (edge: 'from' | 'to') =>
  z
    .union([isoDate, timestamp], { error: `must be a day (2025-03-01) or an RFC 3339 time, ${DATE_RANGE_MESSAGE.replace('must be ', '')}` })
    .transform((v) => (DAY.test(v) ? new Date(Math.min(Date.parse(`${v}T00:00:00Z`) + (edge === 'to' ? 86_400_000 : 0), LATEST_MS)) : new Date(v)));
const reportLimit = z.coerce.number().int().min(1).max(200).default(50);
const rate = z.string().regex(/^\d\.\d{4}$/);
const valueClass = z.enum(VALUE_CLASSES);

export const pyramidQuery = z
  .object({ groupBy: z.enum(['unit', 'partner']).optional(), from: bound('from').optional(), to: bound('to').optional() })
  .strict();
export type PyramidQuery = z.infer<typeof pyramidQuery>;

const classRow = z.object({ valueClass, customers: z.number().int(), share: rate.nullable(), revenue: z.string(), cost: z.string() });
export const pyramidSchema = z
  .object({
    modelVersion: z.number().int(),
    lastRunAt: timestamp.nullable(),
    groupBy: z.enum(['unit', 'partner']).nullable(),
    totals: z.object({ customers: z.number().int(), classes: z.array(classRow) }),
    groups: z.array(z.object({ unitId: z.uuid().nullable(), unitName: z.string().nullable(), customers: z.number().int(), classes: z.array(classRow) })),
    moves: z.object({
      from: timestamp,
      to: timestamp,
      rows: z.array(z.object({ fromClass: valueClass.nullable(), toClass: valueClass.nullable(), customers: z.number().int() })),
    }),
  })
  .meta({ id: 'ValuePyramidReport' });
export type PyramidDto = z.infer<typeof pyramidSchema>;

const customerCols = {
  customerId: z.uuid(),
  name: z.string(),
  ownerUserId: z.uuid().nullable(),
  ownerUnitId: z.uuid(),
  // Absent when the caller's roles hide them.
  valueClass: valueClass.nullable().optional(),
  valueScore: z.number().nullable().optional(),
};

export const churnRiskQuery = z.object({ level: z.preprocess(upper, z.enum(['WATCH', 'HIGH'])).optional(), limit: reportLimit }).strict();
export type ChurnRiskQuery = z.infer<typeof churnRiskQuery>;
export const churnRiskReportSchema = z
  .object({
    totals: z.object({ HIGH: z.number().int(), WATCH: z.number().int() }),
    rows: z.array(
      z.object({ ...customerCols, churnRisk: z.enum(['WATCH', 'HIGH']), signals: z.array(z.object({ kind: z.enum(CHURN_SIGNALS), detail: z.string(), since: timestamp })) }),
    ),
  })
  .meta({ id: 'ChurnRiskReport' });
export type ChurnRiskReportDto = z.infer<typeof churnRiskReportSchema>;

const moneyParam = z.string().regex(/^\d{1,16}(\.\d{1,2})?$/, 'a non-negative decimal string, e.g. "10000.00"');
export const winBackQuery = z
  .object({
    months: z.coerce.number().int().min(2).max(60).default(24),
    silentMonths: z.coerce.number().int().min(1).max(59).default(12),
    minRevenue: moneyParam.default('0'),
    limit: reportLimit,
  })
  .strict()
  .refine((q) => q.silentMonths < q.months, { message: 'must be less than months', path: ['silentMonths'] });
export type WinBackQuery = z.infer<typeof winBackQuery>;
export const winBackReportSchema = z
  .object({
    months: z.number().int(),
    silentMonths: z.number().int(),
    rows: z.array(
      z.object({ ...customerCols, previousRevenue: z.string(), lastOrderAt: timestamp, lastContactAt: timestamp.nullable(), lostDeals: z.number().int() }),
    ),
  })
  .meta({ id: 'WinBackReport' });
export type WinBackReportDto = z.infer<typeof winBackReportSchema>;

export const crossSellQuery = z
  .object({ months: z.coerce.number().int().min(1).max(60).default(24), maxLines: z.coerce.number().int().min(1).max(10).default(2), limit: reportLimit })
  .strict();
export type CrossSellQuery = z.infer<typeof crossSellQuery>;
export const crossSellReportSchema = z
  .object({
    months: z.number().int(),
    rows: z.array(z.object({ ...customerCols, revenue: z.string(), linesBought: z.array(z.string()), linesNotBought: z.array(z.string()) })),
  })
  .meta({ id: 'CrossSellReport' });
export type CrossSellReportDto = z.infer<typeof crossSellReportSchema>;
