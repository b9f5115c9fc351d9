import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, idParams, page } from '../../lib/schemas.js';
import {
  interactionRevisionSchema,
  interactionSchema,
  listInteractionsQuery,
  pageQuery,
  patchInteractionBody,
  recordInteractionBody,
  timelineEntrySchema,
  timelineQuery,
} from './contact-history.schemas.js';

const tags = ['interactions'];

export async function contactHistoryRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.contactHistory;

  app.get('/customers/:id/interactions', {
    schema: { tags, summary: "A customer's interactions, newest first", params: idParams, querystring: listInteractionsQuery, response: { 200: page(interactionSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listForCustomer(req.principal, req.params.id, req.query), req.query.count),
  });

  app.post('/customers/:id/interactions', {
    schema: { tags, summary: 'Record an interaction with a customer', params: idParams, body: recordInteractionBody, response: { 201: interactionSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const i = await svc().record(req.principal, req.params.id, req.body);
      reply.code(201).header('location', `/v1/interactions/${i.id}`);
      return withEtag(reply, i);
    },
  });

  app.get('/interactions/:id', {
    schema: { tags, summary: 'Read an interaction', params: idParams, response: { 200: interactionSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().get(req.principal, req.params.id)),
  });

  app.patch('/interactions/:id', {
    schema: { tags, summary: 'Merge-patch an interaction (If-Match honoured; the replaced version is kept)', params: idParams, body: patchInteractionBody, response: { 200: interactionSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().update(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']))),
  });

  app.get('/interactions/:id/revisions', {
    schema: { tags, summary: 'Earlier versions of an interaction, oldest first', params: idParams, querystring: pageQuery, response: { 200: page(interactionRevisionSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().revisions(req.principal, req.params.id, req.query.cursor, req.query.limit), req.query.count),
  });

  app.get('/opportunities/:id/interactions', {
    schema: { tags, summary: "An opportunity's interactions, newest first", params: idParams, querystring: listInteractionsQuery.omit({ opportunityId: true }), response: { 200: page(interactionSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listForOpportunity(req.principal, req.params.id, req.query), req.query.count),
  });

  app.get('/customers/:id/timeline', {
    schema: { tags: ['timeline'], summary: "A customer's timeline: one feed of its history, newest first", params: idParams, querystring: timelineQuery, response: { 200: page(timelineEntrySchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().timeline(req.principal, req.params.id, req.query), req.query.count),
  });
}
