import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { answerPage, wholeList, wholeSyncQuery } from '../../lib/pagination.js';
import { errorResponses, idParams, page } from '../../lib/schemas.js';
import {
  createOpportunityBody,
  createPipelineBody,
  listOpportunitiesQuery,
  listTransitionsQuery,
  opportunitySchema,
  patchOpportunityBody,
  patchPipelineBody,
  pipelineSchema,
  readOpportunityQuery,
  stageGatesSchema,
  transitionBody,
  transitionResultSchema,
  transitionSchema,
} from './opportunities.schemas.js';

export async function opportunitiesRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.opportunities;

  app.get('/pipelines', {
    // Every pipeline in one page (they are few); the list shape is the same as every other list's.
    schema: {
      tags: ['pipelines'],
      summary: 'Pipelines with their stages (the default first, or by sort=createdAt|updatedAt; a sync reads with updatedAfter)',
      querystring: wholeSyncQuery,
      response: { 200: page(pipelineSchema), ...errorResponses },
    },
    handler: async (req) => answerPage(wholeList(await svc().listPipelines(req.principal, req.query)), req.query.count),
  });

  app.post('/pipelines', {
    schema: { tags: ['pipelines'], summary: 'Create a pipeline (admins)', body: createPipelineBody, response: { 201: pipelineSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const pl = await svc().createPipeline(req.principal, req.body);
      reply.code(201).header('location', `/v1/pipelines/${pl.id}`);
      return withEtag(reply, pl);
    },
  });

  app.get('/pipelines/:id', {
    schema: { tags: ['pipelines'], summary: 'Read a pipeline', params: idParams, response: { 200: pipelineSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().getPipeline(req.principal, req.params.id)),
  });

  app.patch('/pipelines/:id', {
    schema: {
      tags: ['pipelines'],
      summary: 'Merge-patch a pipeline; `stages` replaces the stage list (If-Match honoured)',
      params: idParams,
      body: patchPipelineBody,
      response: { 200: pipelineSchema, ...errorResponses },
    },
    handler: async (req, reply) => withEtag(reply, await svc().updatePipeline(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']))),
  });

const tags = ['opportunities'];

  app.get('/opportunities', {
    schema: { tags, summary: 'List visible opportunities', querystring: listOpportunitiesQuery, response: { 200: page(opportunitySchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().list(req.principal, req.query), req.query.count),
  });

  app.post('/opportunities', {
    schema: { tags, summary: 'Open an opportunity on a customer (first stage of the pipeline)', body: createOpportunityBody, response: { 201: opportunitySchema, ...errorResponses } },
    handler: async (req, reply) => {
      const o = await svc().create(req.principal, req.body);
      reply.code(201).header('location', `/v1/opportunities/${o.id}`);
      return withEtag(reply, o);
    },
  });

  app.get('/opportunities/:id/gates', {
    schema: {
      tags,
      summary: 'Each stage reachable from the current one, with the criteria a move there would lack (as a refused transition lists them)',
      params: idParams,
      response: { 200: stageGatesSchema, ...errorResponses },
    },
    handler: async (req) => svc().gates(req.principal, req.params.id),
  });
  app.get('/opportunities/:id', {
    schema: { tags, summary: 'Read an opportunity (`include=viewerCan` adds what the caller may do with it)', params: idParams, querystring: readOpportunityQuery, response: { 200: opportunitySchema, ...errorResponses } },
    handler: async (req, reply) => {
      const o = await svc().get(req.principal, req.params.id);
      if (req.query.include?.includes('viewerCan')) o.viewerCan = await svc().viewerCan(req.principal, o.id);
      return withEtag(reply, o);
    },
  });

  app.patch('/opportunities/:id', {
    schema: { tags, summary: 'Merge-patch an opportunity (never its stage; If-Match honoured)', params: idParams, body: patchOpportunityBody, response: { 200: opportunitySchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().update(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']))),
  });

  app.post('/opportunities/:id/transitions', {
    schema: {
      tags,
      summary: 'Move an opportunity to another stage (gated; 422 lists the unmet criteria)',
      params: idParams,
      body: transitionBody,
      response: { 201: transitionResultSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const tr = await svc().transition(req.principal, req.params.id, req.body, parseIfMatch(req.headers['if-match']));
      reply.code(201).header('etag', `"${tr.opportunityVersion}"`);
      return tr;
    },
  });

  app.get('/opportunities/:id/transitions', {
    schema: { tags, summary: "An opportunity's stage transitions, oldest first", params: idParams, querystring: listTransitionsQuery, response: { 200: page(transitionSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listTransitions(req.principal, req.params.id, req.query.cursor, req.query.limit), req.query.count),
  });
}
