import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, idParams, page } from '../../lib/schemas.js';
import { actionSchema, agendaQuery, createActionBody, listActionsQuery, patchActionBody } from './actions.schemas.js';

const tags = ['actions'];

export async function actionsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.actions;

  app.get('/customers/:id/actions', {
    schema: { tags, summary: "A customer's key actions, its opportunities' included", params: idParams, querystring: listActionsQuery, response: { 200: page(actionSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listForCustomer(req.principal, req.params.id, req.query), req.query.count),
  });

  app.post('/customers/:id/actions', {
    schema: { tags, summary: 'Plan a key action on a customer', params: idParams, body: createActionBody, response: { 201: actionSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const a = await svc().createForCustomer(req.principal, req.params.id, req.body);
      reply.code(201).header('location', `/v1/actions/${a.id}`);
      return withEtag(reply, a);
    },
  });

  app.get('/opportunities/:id/actions', {
    schema: { tags, summary: "An opportunity's key actions", params: idParams, querystring: listActionsQuery, response: { 200: page(actionSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listForOpportunity(req.principal, req.params.id, req.query), req.query.count),
  });

  app.post('/opportunities/:id/actions', {
    schema: { tags, summary: 'Plan a key action on an opportunity', params: idParams, body: createActionBody, response: { 201: actionSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const a = await svc().createForOpportunity(req.principal, req.params.id, req.body);
      reply.code(201).header('location', `/v1/actions/${a.id}`);
      return withEtag(reply, a);
    },
  });

  app.get('/actions/:id', {
    schema: { tags, summary: 'Read a key action', params: idParams, response: { 200: actionSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().get(req.principal, req.params.id)),
  });

  app.patch('/actions/:id', {
    schema: { tags, summary: 'Merge-patch a key action (If-Match honoured)', params: idParams, body: patchActionBody, response: { 200: actionSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().update(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']))),
  });

  app.get('/agenda', {
    schema: { tags, summary: "The caller's (and its delegators') open actions by priority", querystring: agendaQuery, response: { 200: page(actionSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().agenda(req.principal, req.query), req.query.count),
  });
}
