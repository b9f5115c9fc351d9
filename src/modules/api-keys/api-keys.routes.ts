import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, idParams, page } from '../../lib/schemas.js';
import { apiKeySchema, createApiKeyBody, createdApiKeySchema, listApiKeysQuery } from './api-keys.schemas.js';

export async function apiKeysRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.apiKeys;

  app.get('/api-keys', {
    schema: { tags: ['api-keys'], summary: 'API keys of SERVICE users the caller sees (newest first; never the keys themselves)', querystring: listApiKeysQuery, response: { 200: page(apiKeySchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().list(req.principal, req.query), req.query.count),
  });
  app.get('/api-keys/:id', {
    schema: { tags: ['api-keys'], summary: 'Read an API key (its prefix, not the key)', params: idParams, response: { 200: apiKeySchema, ...errorResponses } },
    handler: async (req) => svc().get(req.principal, req.params.id),
  });
  app.post('/api-keys', {
    schema: {
      tags: ['api-keys'],
      summary: 'Create an API key for a SERVICE user; the answer is the only one that shows the key',
      body: createApiKeyBody,
      response: { 201: createdApiKeySchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const created = await svc().create(req.principal, req.body);
      return reply.code(201).header('location', `/v1/api-keys/${created.id}`).header('cache-control', 'no-store').send(created);
    },
  });
  app.delete('/api-keys/:id', {
    schema: { tags: ['api-keys'], summary: 'Revoke an API key, with immediate effect', params: idParams, response: { 204: z.null(), ...errorResponses } },
    handler: async (req, reply) => {
      await svc().revoke(req.principal, req.params.id);
      return reply.code(204).send(null);
    },
  });
}
