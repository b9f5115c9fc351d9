import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorResponses } from '../../lib/schemas.js';
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
}
