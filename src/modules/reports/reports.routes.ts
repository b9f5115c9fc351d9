import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorResponses } from '../../lib/schemas.js';
import {
  conversionQuery,
  conversionSchema,
  forecastQuery,
  forecastSchema,
  funnelQuery,
  funnelSchema,
  performanceQuery,
  performanceSchema,
} from './pipeline-reports.schemas.js';
import { sourceReportQuery, sourceReportSchema } from './reports.schemas.js';

export async function reportsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.reports;

  app.get('/reports/sources', {
    schema: {
      tags: ['reports'],
      summary: 'Customers created in a period, per source channel and campaign, and how many reached OPPORTUNITY and CUSTOMER',
      querystring: sourceReportQuery,
      response: { 200: sourceReportSchema, ...errorResponses },
    },
    handler: async (req) => svc().sources(req.principal, req.query),
  });

  app.get('/reports/funnel', {
    schema: {
      tags: ['reports'],
      summary: 'Open deals of a pipeline per stage now: count, amount and weighted amount, optionally grouped',
      querystring: funnelQuery,
      response: { 200: funnelSchema, ...errorResponses },
    },
    handler: async (req) => svc().funnel(req.principal, req.query),
  });

  app.get('/reports/conversion', {
    schema: {
      tags: ['reports'],
      summary: 'Stage-to-stage conversion in a period from the transition history: entered, advanced, lost, rates, time in stage, win rate, cycle',
      querystring: conversionQuery,
      response: { 200: conversionSchema, ...errorResponses },
    },
    handler: async (req) => svc().conversion(req.principal, req.query),
  });

  app.get('/reports/forecast', {
    schema: {
      tags: ['reports'],
      summary: 'Expected revenue per month: weighted pipeline, history-based forecast, commit, best case and won amounts booked',
      querystring: forecastQuery,
      response: { 200: forecastSchema, ...errorResponses },
    },
    handler: async (req) => svc().forecast(req.principal, req.query),
  });

  app.get('/reports/sales-performance', {
    schema: {
      tags: ['reports'],
      summary: 'Per user, unit or partner: deals created, won and lost, win rate, conversion, cycle time, interactions and key actions done',
      querystring: performanceQuery,
      response: { 200: performanceSchema, ...errorResponses },
    },
    handler: async (req) => svc().salesPerformance(req.principal, req.query),
  });
}
