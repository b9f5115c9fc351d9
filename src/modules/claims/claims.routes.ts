import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { withEtag } from '../../lib/http.js';
import { answerPage } from '../../lib/pagination.js';
import { errorResponses, idParams, page } from '../../lib/schemas.js';
import { claimSchema, createClaimBody, decideClaimBody, listClaimsQuery } from './claims.schemas.js';

export async function claimsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.claims;

  app.get('/claims', {
    schema: { tags: ['claims'], summary: "Claims the caller sees: its own and those of the people its scope covers (newest first)", querystring: listClaimsQuery, response: { 200: page(claimSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listClaims(req.principal, req.query), req.query.count),
  });
  app.post('/claims', {
    schema: { tags: ['claims'], summary: 'Register a customer (or a deal on it): a pending claim for a manager to decide', body: createClaimBody, response: { 201: claimSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const c = await svc().createClaim(req.principal, req.body);
      reply.code(201).header('location', `/v1/claims/${c.id}`);
      return withEtag(reply, c);
    },
  });
  app.get('/claims/:id', {
    schema: { tags: ['claims'], summary: 'Read a claim', params: idParams, response: { 200: claimSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().getClaim(req.principal, req.params.id)),
  });
  app.post('/claims/:id/approve', {
    schema: { tags: ['claims'], summary: 'Approve a pending claim (a manager over the claimant; reason required): the customer is protected for CLAIM_PROTECTION_DAYS', params: idParams, body: decideClaimBody, response: { 200: claimSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().approve(req.principal, req.params.id, req.body.reason)),
  });
  app.post('/claims/:id/reject', {
    schema: { tags: ['claims'], summary: 'Reject a pending claim (a manager over the claimant; reason required)', params: idParams, body: decideClaimBody, response: { 200: claimSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().reject(req.principal, req.params.id, req.body.reason)),
  });
}
