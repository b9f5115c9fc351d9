import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorResponses, problem } from '../../lib/schemas.js';
import { eventPageSchema, eventsQuery } from './events.schemas.js';

export async function eventsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.get('/events', {
    schema: {
      tags: ['events'],
      summary: 'The change feed: events after a cursor, in order, as the caller may read them (types and data: see webhooks)',
      querystring: eventsQuery,
      response: { 200: eventPageSchema, ...errorResponses, 410: problem },
    },
    handler: async (req) => {
      const { hasMore: _, ...page } = await app.services.events.list(req.principal, req.query);
      return page;
    },
  });
}
