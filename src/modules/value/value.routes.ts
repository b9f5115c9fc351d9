import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, idParams, noQuery, page } from '../../lib/schemas.js';
import {
  costSchema,
  customerValueSchema,
  listCostsQuery,
  recomputeResultSchema,
  recordCostBody,
  referenceEffectBody,
  referenceEffectSchema,
  valueModelBody,
  valueModelSchema,
} from './value.schemas.js';
import { valueReportRoutes } from './value-reports.routes.js';

const tags = ['value'];

export async function valueRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.value;

  app.get('/customers/:id/value', {
    schema: { tags, summary: "A customer's value: score, class, each part explained, churn risk with its signals, and the history of changes", params: idParams, querystring: noQuery, response: { 200: customerValueSchema, ...errorResponses } },
    handler: async (req) => svc().getValue(req.principal, req.params.id),
  });

  app.get('/customers/:id/costs', {
    schema: { tags, summary: "What serving the customer cost: newest spending first, or by `sort` (incurredAt, createdAt, updatedAt; optional '-'); `updatedAfter` for a sync's read", params: idParams, querystring: listCostsQuery, response: { 200: page(costSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listCosts(req.principal, req.params.id, req.query), req.query.count),
  });

  app.post('/customers/:id/costs', {
    schema: { tags, summary: 'Record a cost of serving the customer (marketing, sales, service); rescores the customer', params: idParams, querystring: noQuery, body: recordCostBody, response: { 201: costSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const c = await svc().recordCost(req.principal, req.params.id, req.body);
      reply.code(201).header('location', `/v1/customers/${c.customerId}/costs`);
      return c;
    },
  });

  app.put('/customers/:id/reference-effect', {
    schema: { tags, summary: "A manager's judgement of the customer's demonstration effect (0–5); rescores the customer", params: idParams, querystring: noQuery, body: referenceEffectBody, response: { 200: referenceEffectSchema, ...errorResponses } },
    handler: async (req) => svc().setReferenceEffect(req.principal, req.params.id, req.body),
  });

  app.get('/value-model', {
    schema: { tags, summary: 'The value model in force: weights, normalisation, class shares and churn thresholds', querystring: noQuery, response: { 200: valueModelSchema, ...errorResponses } },
    handler: async (req) => svc().getModel(req.principal),
  });

  app.put('/value-model', {
    schema: { tags, summary: 'A new version of the value model (admin); every customer is rescored with it', querystring: noQuery, body: valueModelBody, response: { 200: valueModelSchema, ...errorResponses } },
    handler: async (req) => svc().putModel(req.principal, req.body),
  });

  app.post('/value-model/recompute', {
    schema: { tags, summary: 'Run the full recomputation of scores, classes and churn risk now (admin)', querystring: noQuery, response: { 200: recomputeResultSchema, ...errorResponses } },
    handler: async (req) => svc().recompute(req.principal),
  });

  await app.register(valueReportRoutes);
}
