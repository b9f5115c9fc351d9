import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, idParams, page, problem } from '../../lib/schemas.js';
import { createWebhookBody, deliveriesQuery, deliverySchema, listWebhooksQuery, patchWebhookBody, replayBody, replaySchema, webhookSchema } from './webhooks.schemas.js';

const tags = ['webhooks'];

export async function webhooksRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.webhooks;

  app.get('/webhooks', {
    schema: { tags, summary: 'Webhook subscriptions the caller may see (its own, and those its scope covers)', querystring: listWebhooksQuery, response: { 200: page(webhookSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().list(req.principal, req.query), req.query.count),
  });

  app.post('/webhooks', {
    schema: { tags, summary: 'Subscribe a URL to event types; the answer shows the signing secret, once', body: createWebhookBody, response: { 201: webhookSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const w = await svc().create(req.principal, req.body);
      reply.code(201).header('location', `/v1/webhooks/${w.id}`);
      return withEtag(reply, w);
    },
  });

  app.get('/webhooks/:id', {
    schema: { tags, summary: 'Read a subscription (never its secret)', params: idParams, response: { 200: webhookSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().get(req.principal, req.params.id)),
  });

  app.patch('/webhooks/:id', {
    schema: { tags, summary: 'Merge-patch a subscription: url, types, description, active (If-Match honoured)', params: idParams, body: patchWebhookBody, response: { 200: webhookSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().update(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']))),
  });

  app.delete('/webhooks/:id', {
    schema: { tags, summary: 'Delete a subscription and its deliveries', params: idParams, response: { 204: z.null(), ...errorResponses } },
    handler: async (req, reply) => {
      await svc().remove(req.principal, req.params.id);
      return reply.code(204).send(null);
    },
  });

  app.post('/webhooks/:id/rotate-secret', {
    schema: { tags, summary: 'A new signing secret, shown once; the old one keeps signing during the overlap', params: idParams, response: { 200: webhookSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().rotateSecret(req.principal, req.params.id)),
  });

  app.get('/webhooks/:id/deliveries', {
    schema: { tags, summary: 'Deliveries, newest first: attempts, status codes, latency, next try; DEAD ones are dead-lettered', params: idParams, querystring: deliveriesQuery, response: { 200: page(deliverySchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().deliveries(req.principal, req.params.id, req.query), req.query.count),
  });

  app.post('/webhooks/:id/replay', {
    schema: { tags, summary: 'Deliver again every matching event after a cursor (from the oldest kept without one)', params: idParams, body: replayBody, response: { 202: replaySchema, ...errorResponses, 410: problem } },
    handler: async (req, reply) => {
      const r = await svc().replay(req.principal, req.params.id, req.body);
      return reply.code(202).send(r);
    },
  });
}
