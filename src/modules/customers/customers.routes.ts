import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, idParams, page, problem } from '../../lib/schemas.js';
import {
  contactSchema,
  createContactBody,
  createCustomerBody,
  createCustomerQuery,
  customerSchema,
  duplicateCheckSchema,
  freezeBody,
  listContactsQuery,
  listCustomersQuery,
  mergeBody,
  patchContactBody,
  patchCustomerBody,
  readCustomerQuery,
} from './customers.schemas.js';

const tags = ['customers'];

export async function customersRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.customers;

  app.get('/customers', {
    schema: { tags, summary: 'List visible customers', querystring: listCustomersQuery, response: { 200: page(customerSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().list(req.principal, req.query), req.query.count),
  });

  app.post('/customers', {
    schema: {
      tags,
      summary: 'Create a customer (refused with candidates when it duplicates one)',
      querystring: createCustomerQuery,
      body: createCustomerBody,
      response: { 201: customerSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const c = await svc().create(req.principal, req.body, { allowDuplicate: req.query.allowDuplicate });
      reply.code(201).header('location', `/v1/customers/${c.id}`);
      return withEtag(reply, c);
    },
  });

  app.post('/customers/duplicate-check', {
    schema: {
      tags,
      summary: 'What a create with this body would find (its candidates and protected matches), creating nothing',
      body: createCustomerBody,
      response: { 200: duplicateCheckSchema, ...errorResponses, 429: problem },
    },
    handler: async (req) => svc().duplicateCheck(req.principal, req.body),
  });

  app.get('/customers/:id', {
    schema: { tags, summary: 'Read a customer (`include=viewerCan` adds what the caller may do with it)', params: idParams, querystring: readCustomerQuery, response: { 200: customerSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const c = await svc().get(req.principal, req.params.id);
      if (req.query.include?.includes('viewerCan')) c.viewerCan = await svc().viewerCan(req.principal, c.id);
      return withEtag(reply, c);
    },
  });

  app.patch('/customers/:id', {
    schema: { tags, summary: 'Merge-patch a customer (If-Match honoured)', params: idParams, body: patchCustomerBody, response: { 200: customerSchema, ...errorResponses } },
    handler: async (req, reply) =>
      withEtag(reply, await svc().update(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']))),
  });

  for (const [path, frozen] of [
    ['freeze', true],
    ['unfreeze', false],
  ] as const) {
    app.post(`/customers/:id/${path}`, {
      schema: { tags, summary: frozen ? 'Freeze a customer' : 'Unfreeze a customer', params: idParams, body: freezeBody, response: { 200: customerSchema, ...errorResponses } },
      handler: async (req, reply) =>
        withEtag(reply, await svc().setFrozen(req.principal, req.params.id, frozen, req.body?.reason, parseIfMatch(req.headers['if-match']))),
    });
  }

  app.post('/customers/:id/merge', {
    schema: { tags, summary: 'Fold duplicates into this customer', params: idParams, body: mergeBody, response: { 200: customerSchema, ...errorResponses } },
    handler: async (req, reply) =>
      withEtag(reply, await svc().merge(req.principal, req.params.id, req.body.duplicateIds, parseIfMatch(req.headers['if-match']))),
  });

  app.get('/customers/:id/contacts', {
    schema: { tags: ['contacts'], summary: "A customer's contact persons", params: idParams, querystring: listContactsQuery, response: { 200: page(contactSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listContacts(req.principal, req.params.id, req.query), req.query.count),
  });

  app.post('/customers/:id/contacts', {
    schema: { tags: ['contacts'], summary: 'Add a contact person', params: idParams, body: createContactBody, response: { 201: contactSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const c = await svc().createContact(req.principal, req.params.id, req.body);
      reply.code(201).header('location', `/v1/contacts/${c.id}`);
      return withEtag(reply, c);
    },
  });

  app.get('/contacts/:id', {
    schema: { tags: ['contacts'], summary: 'Read a contact person', params: idParams, response: { 200: contactSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().getContact(req.principal, req.params.id)),
  });

  app.patch('/contacts/:id', {
    schema: { tags: ['contacts'], summary: 'Merge-patch a contact person', params: idParams, body: patchContactBody, response: { 200: contactSchema, ...errorResponses } },
    handler: async (req, reply) =>
      withEtag(reply, await svc().updateContact(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']))),
  });

  app.delete('/contacts/:id', {
    schema: { tags: ['contacts'], summary: 'Delete a contact person', params: idParams, response: { 204: z.null(), ...errorResponses } },
    handler: async (req, reply) => {
      await svc().deleteContact(req.principal, req.params.id, parseIfMatch(req.headers['if-match']));
      return reply.code(204).send(null);
    },
  });
}
