import { z } from 'zod';
import { DATE_RANGE_MESSAGE, isoDate, LATEST_INSTANT, timestamp } from '../../lib/schemas.js';
import { SOURCE_CHANNELS } from '../customers/index.js';

// A day (2025-03-01) or an RFC 3339 timestamp. A day as `to` means the whole day: up to the next midnight
// (UTC), or the last storable instant for 9999-12-31, whose next midnight has a five-digit year.
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const LATEST_MS = Date.parse(LATEST_INSTANT);
export const bound = (edge: 'from' | 'to') =>
  z
    .union([isoDate, timestamp], { error: `must be a day (2025-03-01) or an RFC 3339 time, ${DATE_RANGE_MESSAGE.replace('must be ', '')}` })
    .transform((v) => (DAY.test(v) ? new Date(Math.min(Date.parse(`${v}T00:00:00Z`) + (edge === 'to' ? 86_400_000 : 0), LATEST_MS)) : new Date(v)));

export const sourceReportQuery = z.object({ from: bound('from').optional(), to: bound('to').optional() }).strict();
export type SourceReportQuery = z.infer<typeof sourceReportQuery>;

// Rates: a decimal string with four places ("0.2500"), like money never a float.
const rate = z.string().regex(/^\d\.\d{4}$/);

export const sourceReportRowSchema = z.object({
  channel: z.enum(SOURCE_CHANNELS).nullable(),
  campaign: z.string().nullable(),
  customers: z.number().int(),
  toOpportunity: z.number().int(),
  toCustomer: z.number().int(),
  opportunityRate: rate,
  customerRate: rate,
});

export const sourceReportSchema = z
  .object({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    rows: z.array(sourceReportRowSchema),
    totals: z.object({
      customers: z.number().int(),
      toOpportunity: z.number().int(),
      toCustomer: z.number().int(),
      opportunityRate: rate.nullable(),
      customerRate: rate.nullable(),
    }),
  })
  .meta({ id: 'SourceReport' });
export type SourceReportDto = z.infer<typeof sourceReportSchema>;
