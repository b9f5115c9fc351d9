import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, idParams } from '../../lib/schemas.js';
import { createPlanInput, decomposeInput, decompositionSchema, listPlansQuery, patchPlanInput, planPageSchema, planSchema, progressSchema } from './plans.schemas.js';

export async function plansRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.plans;

  app.post('/plans/decompose', {
    schema: {
      tags: ['plans'],
      summary: "A target broken down backwards through the unit's measured funnel: won deals, opportunities per stage, prospects and suspects needed (computes only)",
      body: decomposeInput,
      response: { 200: decompositionSchema, ...errorResponses },
    },
    handler: async (req) => svc().decompose(req.principal, req.body),
  });

  app.post('/plans', {
    schema: { tags: ['plans'], summary: 'Store a plan: the decomposition of a target with the rates measured now', body: createPlanInput, response: { 201: planSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const plan = await svc().create(req.principal, req.body);
      reply.code(201).header('location', `/v1/plans/${plan.id}`);
      return withEtag(reply, plan);
    },
  });

  app.get('/plans', {
    schema: { tags: ['plans'], summary: "Plans of the units within the caller's reach, newest first", querystring: listPlansQuery, response: { 200: planPageSchema, ...errorResponses } },
    handler: async (req) => answerPage(await svc().list(req.principal, req.query), req.query.count),
  });

  app.get('/plans/:id', {
    schema: { tags: ['plans'], summary: 'Read a plan', params: idParams, response: { 200: planSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().get(req.principal, req.params.id)),
  });

  app.patch('/plans/:id', {
    schema: {
      tags: ['plans'],
      summary: "Change a plan (merge patch; If-Match honoured): a new target, period, minSample or historyMonths decomposes it again with today's rates",
      params: idParams,
      body: patchPlanInput,
      response: { 200: planSchema, ...errorResponses },
    },
    handler: async (req, reply) => withEtag(reply, await svc().update(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']))),
  });

  app.delete('/plans/:id', {
    schema: { tags: ['plans'], summary: 'Delete a plan (If-Match honoured); the audit trail keeps it', params: idParams, response: { 204: z.null(), ...errorResponses } },
    handler: async (req, reply) => {
      await svc().remove(req.principal, req.params.id, parseIfMatch(req.headers['if-match']));
      return reply.code(204).send(null);
    },
  });

  app.get('/plans/:id/progress', {
    schema: {
      tags: ['plans'],
      summary: "Required (as planned and with today's rates) against actual per stage since the period began, and the gap",
      params: idParams,
      response: { 200: progressSchema, ...errorResponses },
    },
    handler: async (req) => svc().progress(req.principal, req.params.id),
  });
}
