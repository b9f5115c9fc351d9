import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { errorResponses, idParams, page } from '../../lib/schemas.js';
import { createOrderBody, customerOrdersQuery, externalParams, listOrdersQuery, orderSchema, patchOrderBody, upsertOrderBody } from './orders.schemas.js';

// A list page; with ?count=true also how many rows all its pages hold.
const countedPage = page(orderSchema).extend({ totalCount: z.number().int().min(0).optional() });
const tags = ['orders'];

export async function ordersRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.orders;

  app.get('/orders', {
    schema: { tags, summary: 'List visible orders (visible exactly as their customers are)', querystring: listOrdersQuery, response: { 200: countedPage, ...errorResponses } },
    handler: async (req) => {
      const pg = await svc().list(req.principal, req.query);
      return req.query.count ? { ...pg, totalCount: await svc().count(req.principal, req.query) } : pg;
    },
  });

  app.post('/orders', {
    schema: {
      tags,
      summary: 'Record an order on a customer (ORDERED unless a later status is given); lines priced and totalled by the server',
      body: createOrderBody,
      response: { 201: orderSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const o = await app.services.orders.create(req.principal, req.body);
      reply.code(201).header('location', `/v1/orders/${o.id}`);
      return withEtag(reply, o);
    },
  });

  app.get('/orders/:id', {
    schema: { tags, summary: 'Read an order', params: idParams, response: { 200: orderSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().get(req.principal, req.params.id)),
  });

  app.patch('/orders/:id', {
    schema: {
      tags,
      summary: 'Merge-patch an order; `status` moves forward only, `lines` replaces the lines (If-Match honoured)',
      params: idParams,
      body: patchOrderBody,
      response: { 200: orderSchema, ...errorResponses },
    },
    handler: async (req, reply) => withEtag(reply, await svc().update(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']))),
  });

  app.get('/orders/external/:system/:externalId', {
    schema: { tags, summary: 'Read an order by the id an integrated system gave it', params: externalParams, response: { 200: orderSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().getByExternalId(req.principal, req.params.system, req.params.externalId)),
  });

  app.put('/orders/external/:system/:externalId', {
    schema: {
      tags,
      summary: "Upsert an order by an integrated system's id: created when absent (201), merge-patched when present (200); a body that changes nothing writes nothing",
      params: externalParams,
      body: upsertOrderBody,
      response: { 200: orderSchema, 201: orderSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const { created, order } = await svc().upsertByExternalId(req.principal, req.params.system, req.params.externalId, req.body);
      if (created) reply.code(201).header('location', `/v1/orders/${order.id}`);
      return withEtag(reply, order);
    },
  });

  app.get('/customers/:id/orders', {
    schema: { tags, summary: "A customer's orders, newest first by default", params: idParams, querystring: customerOrdersQuery, response: { 200: countedPage, ...errorResponses } },
    handler: async (req) => svc().listOfCustomer(req.principal, req.params.id, req.query),
  });
}
