import type { Database } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { fieldError } from '../../lib/errors.js';
import { reportsRepository as repo } from './reports.repository.js';
import type { SourceReportDto, SourceReportQuery } from './reports.schemas.js';
import { rateOf } from './numbers.js';
import { createPipelineReportService, DEFAULT_PERIOD_DAYS } from './pipeline-reports.service.js';

export { rateOf };

export function createReportService(database: Database) {
  const { db } = database;
  return {
    ...createPipelineReportService(database),
    async sources(p: Principal, q: SourceReportQuery): Promise<SourceReportDto> {
      requirePermission(p, 'reports:read');
      const to = q.to ?? new Date();
      const from = q.from ?? new Date(to.getTime() - DEFAULT_PERIOD_DAYS * 86_400_000);
      if (from.getTime() > to.getTime()) throw fieldError('VALIDATION_FAILED', 'from', 'must not be after to');
      const rows = await repo.sources(db, p, from, to);
      const sum = (k: 'customers' | 'to_opportunity' | 'to_customer') => rows.reduce((n, r) => n + r[k], 0);
      const total = { customers: sum('customers'), toOpportunity: sum('to_opportunity'), toCustomer: sum('to_customer') };
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        rows: rows.map((r) => ({
          channel: r.channel as SourceReportDto['rows'][number]['channel'],
          campaign: r.campaign,
          customers: r.customers,
          toOpportunity: r.to_opportunity,
          toCustomer: r.to_customer,
          opportunityRate: rateOf(r.to_opportunity, r.customers),
          customerRate: rateOf(r.to_customer, r.customers),
        })),
        totals: {
          ...total,
          opportunityRate: total.customers ? rateOf(total.toOpportunity, total.customers) : null,
          customerRate: total.customers ? rateOf(total.toCustomer, total.customers) : null,
        },
      };
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
