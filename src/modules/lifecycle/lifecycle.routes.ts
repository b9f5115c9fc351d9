import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, idParams, page } from '../../lib/schemas.js';
import { handoffBody, handoffSchema, listHandoffsQuery, listTransitionsQuery, rejectBody, transitionBody, transitionResultSchema, transitionSchema } from './lifecycle.schemas.js';

export async function lifecycleRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.lifecycle;

  app.get('/customers/:id/lifecycle-transitions', {
    schema: { tags: ['lifecycle'], summary: "A customer's lifecycle transitions, newest first", params: idParams, querystring: listTransitionsQuery, response: { 200: page(transitionSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listTransitions(req.principal, req.params.id, req.query.cursor, req.query.limit), req.query.count),
  });

  app.post('/customers/:id/lifecycle-transitions', {
    schema: {
      tags: ['lifecycle'],
      summary: "Move a customer's lifecycle stage (a move back needs a reason; If-Match honoured)",
      params: idParams,
      body: transitionBody,
      response: { 201: transitionResultSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const row = await svc().transition(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']));
      return reply.code(201).header('etag', `"${row.customerVersion}"`).send(row);
    },
  });

  app.post('/customers/:id/handoffs', {
    schema: { tags: ['handoffs'], summary: 'Hand a lead to a unit or a user, with a deadline', params: idParams, body: handoffBody, response: { 201: handoffSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const h = await svc().handOff(req.principal, req.params.id, req.body);
      reply.code(201).header('location', `/v1/handoffs/${h.id}`);
      return withEtag(reply, h);
    },
  });

  app.get('/handoffs', {
    schema: { tags: ['handoffs'], summary: 'Handoffs received (the inbox) or sent', querystring: listHandoffsQuery, response: { 200: page(handoffSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listHandoffs(req.principal, req.query), req.query.count),
  });

  app.get('/handoffs/:id', {
    schema: { tags: ['handoffs'], summary: 'Read a handoff', params: idParams, response: { 200: handoffSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().getHandoff(req.principal, req.params.id)),
  });

  app.post('/handoffs/:id/accept', {
    schema: { tags: ['handoffs'], summary: 'Accept a pending handoff: the customer becomes an OPPORTUNITY owned by the caller', params: idParams, response: { 200: handoffSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().accept(req.principal, req.params.id)),
  });

  app.post('/handoffs/:id/reject', {
    schema: { tags: ['handoffs'], summary: "Reject a pending handoff with a reason: the customer goes back to PROSPECT in the sender's pool", params: idParams, body: rejectBody, response: { 200: handoffSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().reject(req.principal, req.params.id, req.body.reason)),
  });
}
