import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorResponses } from '../../lib/schemas.js';
import {
  churnRiskQuery,
  churnRiskReportSchema,
  crossSellQuery,
  crossSellReportSchema,
  pyramidQuery,
  pyramidSchema,
  winBackQuery,
  winBackReportSchema,
} from './value-reports.schemas.js';

const tags = ['reports'];

// Paths under /v1/reports, served by the value module (the reports it computes from value data).
export async function valueReportRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.value.reports;

  app.get('/reports/value-pyramid', {
    schema: { tags, summary: 'Customers, revenue and cost per value class (per unit or partner), and the moves between classes over a period', querystring: pyramidQuery, response: { 200: pyramidSchema, ...errorResponses } },
    handler: async (req) => svc().pyramid(req.principal, req.query),
  });
  app.get('/reports/churn-risk', {
    schema: { tags, summary: 'Customers at risk of leaving (HIGH first), with the signals and when each began', querystring: churnRiskQuery, response: { 200: churnRiskReportSchema, ...errorResponses } },
    handler: async (req) => svc().churnRisk(req.principal, req.query),
  });
  app.get('/reports/win-back', {
    schema: { tags, summary: 'Customers who bought in the period and have been silent since: biggest first', querystring: winBackQuery, response: { 200: winBackReportSchema, ...errorResponses } },
    handler: async (req) => svc().winBack(req.principal, req.query),
  });
  app.get('/reports/cross-sell', {
    schema: { tags, summary: 'Customers buying only one or a few product lines, with the lines they do not buy', querystring: crossSellQuery, response: { 200: crossSellReportSchema, ...errorResponses } },
    handler: async (req) => svc().crossSell(req.principal, req.query),
  });
}
