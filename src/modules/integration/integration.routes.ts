import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { z } from 'zod';
import { BULK_MAX_ROWS, bulkAnswerSchema, parseNdjson, type RowSource } from '../../lib/bulk.js';
import { spoolNdjson } from '../../lib/bulk-spool.js';
import { answerPage } from '../../lib/pagination.js';
import { fieldError } from '../../lib/errors.js';
import { errorResponses, page, queryFlag } from '../../lib/schemas.js';
import {
  contactSchema,
  customerSchema,
  externalParams,
  listAllContactsQuery,
  ON_DUPLICATE,
  type Upserted,
  upsertContactBody,
  upsertCustomerBody,
  upsertQuery,
} from '../customers/index.js';
import { opportunitySchema, upsertOpportunityBody } from '../opportunities/index.js';
import { upsertOrderBody } from '../orders/index.js';

const tags = ['integration'];

// A bulk body: 10 000 rows of a few hundred bytes each, with room to spare.
const BULK_BODY_LIMIT = 64 * 1024 * 1024;
const systemName = externalParams.shape.system;

// A row is the upsert body of its record plus the record's own id in the load's system. Each row is checked on
// its own (a faulty row fails alone, its result naming the field), so the body's schema accepts any row and
// refers to the row's shape for the contract; these schemas are the contract's, the service checks each row.
const bulkRow = <S extends z.ZodObject>(id: string, upsert: S, what: string) =>
  upsert
    .safeExtend({ externalId: z.string().min(1).max(200).meta({ description: `the ${what}'s id in the load's system (1 to 200 characters, no control characters)` }) })
    .meta({ id, description: `A row of a bulk load of ${what}s: the upsert body (${upsert.meta()?.id ?? ''}) plus the ${what}'s externalId` });
// Registered (by id) for the contract's components; referred to by the bodies below.
export const BULK_ROWS = {
  customer: bulkRow('BulkCustomerRow', upsertCustomerBody, 'customer'),
  contact: bulkRow('BulkContactRow', upsertContactBody, 'contact person'),
  order: bulkRow('BulkOrderRow', upsertOrderBody, 'order'),
};
const bulkBody = (id: string, row: string) =>
  z
    .object({
      system: systemName.optional(),
      atomic: z.boolean().optional(),
      onDuplicate: z.enum(ON_DUPLICATE).optional(),
      rows: z
        .array(z.unknown().meta({ allOf: [{ $ref: `#/components/schemas/${row}Input` }], description: 'a row that does not match fails alone: its result names the field' }))
        .max(BULK_MAX_ROWS),
    })
    .strict()
    .meta({ id });
const bulkBodies = { customer: bulkBody('BulkCustomerLoad', 'BulkCustomerRow'), contact: bulkBody('BulkContactLoad', 'BulkContactRow'), order: bulkBody('BulkOrderLoad', 'BulkOrderRow') };
type BulkBody = z.infer<typeof bulkBodies.customer>;
// With an NDJSON body the options are query parameters (a JSON body may give them either way).
const bulkQuery = z.object({ system: systemName.optional(), atomic: queryFlag.optional(), onDuplicate: z.enum(ON_DUPLICATE).optional() }).strict();

// An NDJSON body is not parsed before the handler: its rows are read into the load batch by batch from the
// spooled body (memory stays flat whatever the body's size). The request's schema then sees an empty `rows`.
const streamedRows = new WeakMap<FastifyRequest, RowSource>();
const spools = new WeakMap<FastifyRequest, () => Promise<void>>();

function bulkOptions(req: FastifyRequest, body: BulkBody, query: z.infer<typeof bulkQuery>) {
  for (const k of ['system', 'atomic', 'onDuplicate'] as const) {
    if (body[k] !== undefined && query[k] !== undefined && body[k] !== query[k]) throw fieldError('VALIDATION_FAILED', k, 'given in the body and the query with different values');
  }
  const system = body.system ?? query.system;
  if (!system) throw fieldError('VALIDATION_FAILED', 'system', 'required: the system whose ids the rows carry');
  return { system, atomic: body.atomic ?? query.atomic ?? false, onDuplicate: body.onDuplicate ?? query.onDuplicate ?? 'fail', rows: streamedRows.get(req) ?? body.rows };
}

// An upsert answers 201 with Location when it created the record, else 200; both with the record's ETag.
function answer<T extends { id: string; version: number }>(reply: FastifyReply, collection: string, u: Upserted<T>): T {
  if (u.status === 'CREATED') reply.code(201).header('location', `/v1/${collection}/${u.record.id}`);
  return withEtag(reply, u.record);
}

/**
 * Read and upsert by external id (api.md §2 Integration) for customers, contacts and opportunities, and the
 * sync's list of contact persons. The rules live in the owning modules' services; these are their doors.
 */
export async function integrationRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services;

  // An NDJSON body is spooled to a temporary file as it arrives (limits checked on the way), then its rows are
  // read back batch by batch by the load (lib/bulk-spool.ts). A request under an Idempotency-Key is read whole
  // first: its stored answer is keyed by a hash of the body.
  app.addContentTypeParser('application/x-ndjson', (req, payload, done) => {
    if (req.headers['idempotency-key'] !== undefined) {
      parseNdjson(payload, BULK_BODY_LIMIT).then(
        (body) => done(null, body),
        (err: Error) => done(err, undefined),
      );
      return;
    }
    spoolNdjson(payload, BULK_BODY_LIMIT).then(
      (spooled) => {
        streamedRows.set(req, spooled.rows);
        spools.set(req, spooled.discard);
        done(null, { rows: [] });
      },
      (err: Error) => done(err, undefined),
    );
  });
  // A spooled body the load did not read (a refused request) is removed when the answer has gone.
  app.addHook('onResponse', async (req) => {
    await spools.get(req)?.();
  });

  app.post('/bulk/customers', {
    bodyLimit: BULK_BODY_LIMIT,
    schema: {
      tags,
      summary: `Upsert up to ${BULK_MAX_ROWS} customers by external id: JSON { system, atomic?, onDuplicate?, rows } or NDJSON (application/x-ndjson, options as query parameters)`,
      querystring: bulkQuery,
      body: bulkBodies.customer,
      response: { 200: bulkAnswerSchema, ...errorResponses, 413: errorResponses[400] },
    },
    handler: async (req) => svc().integration.bulkCustomers(req.principal, bulkOptions(req, req.body, req.query)),
  });

  app.post('/bulk/contacts', {
    bodyLimit: BULK_BODY_LIMIT,
    schema: {
      tags,
      summary: `Upsert up to ${BULK_MAX_ROWS} contact persons by external id (each row names its customer by customerId or customer: { system, externalId })`,
      querystring: bulkQuery,
      body: bulkBodies.contact,
      response: { 200: bulkAnswerSchema, ...errorResponses, 413: errorResponses[400] },
    },
    handler: async (req) => svc().integration.bulkContacts(req.principal, bulkOptions(req, req.body, req.query)),
  });

  app.post('/bulk/orders', {
    bodyLimit: BULK_BODY_LIMIT,
    schema: {
      tags,
      summary: `Upsert up to ${BULK_MAX_ROWS} orders by external id (each row names its customer by customerId or customer: { system, externalId }; lines, status and lifecycle as PUT /v1/orders/external/…)`,
      querystring: bulkQuery,
      body: bulkBodies.order,
      response: { 200: bulkAnswerSchema, ...errorResponses, 413: errorResponses[400] },
    },
    handler: async (req) => svc().integration.bulkOrders(req.principal, bulkOptions(req, req.body, req.query)),
  });

  app.get('/customers/external/:system/:externalId', {
    schema: { tags, summary: 'Read a customer by its id in an external system', params: externalParams, response: { 200: customerSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().customers.getByExternalId(req.principal, req.params.system, req.params.externalId)),
  });

  app.put('/customers/external/:system/:externalId', {
    schema: {
      tags,
      summary: 'Upsert a customer by external id: created when absent (201), merge-patched when present (200); a body that changes nothing writes nothing',
      params: externalParams,
      querystring: upsertQuery,
      body: upsertCustomerBody,
      response: { 200: customerSchema, 201: customerSchema, ...errorResponses },
    },
    handler: async (req, reply) =>
      answer(
        reply,
        'customers',
        await svc().customers.upsertByExternalId(req.principal, req.params.system, req.params.externalId, req.body, {
          expectedVersion: parseIfMatch(req.headers['if-match']),
          onDuplicate: req.query.onDuplicate,
        }),
      ),
  });

  app.get('/contacts', {
    schema: { tags: ['contacts'], summary: 'Every visible contact person (a sync reads it with updatedAfter and sort=updatedAt)', querystring: listAllContactsQuery, response: { 200: page(contactSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().customers.listAllContacts(req.principal, req.query), req.query.count),
  });

  app.get('/contacts/external/:system/:externalId', {
    schema: { tags, summary: 'Read a contact person by its id in an external system', params: externalParams, response: { 200: contactSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().customers.getContactByExternalId(req.principal, req.params.system, req.params.externalId)),
  });

  app.put('/contacts/external/:system/:externalId', {
    schema: {
      tags,
      summary: 'Upsert a contact person by external id (its customer by customerId or customer: { system, externalId } when created)',
      params: externalParams,
      body: upsertContactBody,
      response: { 200: contactSchema, 201: contactSchema, ...errorResponses },
    },
    handler: async (req, reply) =>
      answer(reply, 'contacts', await svc().customers.upsertContactByExternalId(req.principal, req.params.system, req.params.externalId, req.body, { expectedVersion: parseIfMatch(req.headers['if-match']) })),
  });

  app.get('/opportunities/external/:system/:externalId', {
    schema: { tags, summary: 'Read an opportunity by its id in an external system', params: externalParams, response: { 200: opportunitySchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().opportunities.externalOpportunities.getByExternalId(req.principal, req.params.system, req.params.externalId)),
  });

  app.put('/opportunities/external/:system/:externalId', {
    schema: {
      tags,
      summary: 'Upsert an opportunity by external id (its customer by customerId or customer: { system, externalId } when created)',
      params: externalParams,
      body: upsertOpportunityBody,
      response: { 200: opportunitySchema, 201: opportunitySchema, ...errorResponses },
    },
    handler: async (req, reply) =>
      answer(
        reply,
        'opportunities',
        await svc().opportunities.externalOpportunities.upsertByExternalId(req.principal, req.params.system, req.params.externalId, req.body, { expectedVersion: parseIfMatch(req.headers['if-match']) }),
      ),
  });
}
