import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorResponses } from '../../lib/schemas.js';
import { explainQuery, explanationSchema } from './access.schemas.js';

export async function accessRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/access/explain', {
    schema: {
      tags: ['org'],
      summary: 'Why (or why not) a user sees and may change a record: every reason of the visibility rule that holds, and the fields hidden from the user',
      querystring: explainQuery,
      response: { 200: explanationSchema, ...errorResponses },
    },
    handler: async (req) => app.services.access.explain(req.principal, req.query),
  });
}
