import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, page } from '../../lib/schemas.js';
import { auditEntrySchema, listAuditQuery } from './audit.schemas.js';

export async function auditRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/audit', {
    schema: {
      tags: ['audit'],
      summary: 'The audit trail (admins, executives), newest first, within the caller’s visibility; hidden fields masked',
      querystring: listAuditQuery,
      response: { 200: page(auditEntrySchema), ...errorResponses },
    },
    handler: async (req) => answerPage(await app.services.audit.list(req.principal, req.query), req.query.count),
  });
}
