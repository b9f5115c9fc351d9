import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, idParams, page } from '../../lib/schemas.js';
import { allocationResultSchema, createRuleBody, listRulesQuery, patchRuleBody, ruleSchema } from './allocation.schemas.js';

export async function allocationRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.allocation;

  app.get('/allocation-rules', {
    schema: { tags: ['allocation'], summary: 'Allocation rules within the caller’s scope, in the order they are tried', querystring: listRulesQuery, response: { 200: page(ruleSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listRules(req.principal, req.query), req.query.count),
  });
  app.post('/allocation-rules', {
    schema: { tags: ['allocation'], summary: 'Create an allocation rule (admin; managers for targets within their scope)', body: createRuleBody, response: { 201: ruleSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const r = await svc().createRule(req.principal, req.body);
      reply.code(201).header('location', `/v1/allocation-rules/${r.id}`);
      return withEtag(reply, r);
    },
  });
  app.get('/allocation-rules/:id', {
    schema: { tags: ['allocation'], summary: 'Read an allocation rule', params: idParams, response: { 200: ruleSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().getRule(req.principal, req.params.id)),
  });
  app.patch('/allocation-rules/:id', {
    schema: { tags: ['allocation'], summary: 'Change an allocation rule (merge patch; If-Match honoured)', params: idParams, body: patchRuleBody, response: { 200: ruleSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().updateRule(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']))),
  });
  app.delete('/allocation-rules/:id', {
    schema: { tags: ['allocation'], summary: 'Delete an allocation rule', params: idParams, response: { 204: z.null(), ...errorResponses } },
    handler: async (req, reply) => {
      await svc().deleteRule(req.principal, req.params.id);
      return reply.code(204).send(null);
    },
  });
  app.post('/customers/:id/allocate', {
    schema: { tags: ['allocation'], summary: 'Apply the allocation rules to a customer: an ownership change with cause ALLOCATION and a key action on the receiver’s agenda', params: idParams, response: { 200: allocationResultSchema, ...errorResponses } },
    handler: async (req) => svc().allocateCustomer(req.principal, req.params.id),
  });
}
