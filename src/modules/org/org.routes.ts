import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseIfMatch, withEtag } from '../../lib/http.js';
import { answerPage, wholeList, wholeSyncQuery } from '../../lib/pagination.js';
import { errorResponses, idParams, page } from '../../lib/schemas.js';
import {
  createOrgUnitBody,
  createRoleBody,
  createShareBody,
  customerSharesQuery,
  createDelegationBody,
  createUserBody,
  delegationSchema,
  listDelegationsQuery,
  listOrgUnitsQuery,
  listSharesQuery,
  listUsersQuery,
  meSchema,
  orgUnitSchema,
  patchOrgUnitBody,
  patchRoleBody,
  patchUserBody,
  roleSchema,
  shareSchema,
  transferBody,
  transferSchema,
  userSchema,
} from './org.schemas.js';

export async function orgRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const svc = () => app.services.org;
  const ifMatch = (h: string | string[] | undefined) => parseIfMatch(h);

  app.get('/me', {
    schema: { tags: ['org'], summary: 'The caller: user, unit, roles, effective scopes, delegations', response: { 200: meSchema, ...errorResponses } },
    handler: async (req) => svc().me(req.principal),
  });

  app.get('/org-units', {
    // The visible tree in one page (it is small); the list shape is the same as every other list's.
    schema: {
      tags: ['org'],
      summary: 'The org tree as the caller may see it, in one page (tree order, or by sort=createdAt|updatedAt; a sync reads with updatedAfter)',
      querystring: listOrgUnitsQuery,
      response: { 200: page(orgUnitSchema), ...errorResponses },
    },
    handler: async (req) => answerPage(wholeList(await svc().listUnits(req.principal, req.query)), req.query.count),
  });
  app.post('/org-units', {
    schema: { tags: ['org'], summary: 'Create a unit (partners are units too)', body: createOrgUnitBody, response: { 201: orgUnitSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const u = await svc().createUnit(req.principal, req.body);
      reply.code(201).header('location', `/v1/org-units/${u.id}`);
      return withEtag(reply, u);
    },
  });
  app.get('/org-units/:id', {
    schema: { tags: ['org'], summary: 'Read a unit', params: idParams, response: { 200: orgUnitSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().getUnit(req.principal, req.params.id)),
  });
  app.patch('/org-units/:id', {
    schema: { tags: ['org'], summary: 'Rename or move a unit (its subtree moves with it)', params: idParams, body: patchOrgUnitBody, response: { 200: orgUnitSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().updateUnit(req.principal, req.params.id, req.body, ifMatch(req.headers['if-match']))),
  });

  app.get('/users', {
    schema: { tags: ['org'], summary: 'Users the caller may see', querystring: listUsersQuery, response: { 200: page(userSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listUsers(req.principal, req.query), req.query.count),
  });
  app.post('/users', {
    schema: { tags: ['org'], summary: 'Create a user', body: createUserBody, response: { 201: userSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const u = await svc().createUser(req.principal, req.body);
      reply.code(201).header('location', `/v1/users/${u.id}`);
      return withEtag(reply, u);
    },
  });
  app.get('/users/:id', {
    schema: { tags: ['org'], summary: 'Read a user', params: idParams, response: { 200: userSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().getUser(req.principal, req.params.id)),
  });
  app.patch('/users/:id', {
    schema: { tags: ['org'], summary: 'Update or deactivate a user', params: idParams, body: patchUserBody, response: { 200: userSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().updateUser(req.principal, req.params.id, req.body, ifMatch(req.headers['if-match']))),
  });

  app.get('/roles', {
    schema: {
      tags: ['org'],
      summary: 'Roles, in one page (by name, or by sort=createdAt|updatedAt; a sync reads with updatedAfter)',
      querystring: wholeSyncQuery,
      response: { 200: page(roleSchema), ...errorResponses },
    },
    handler: async (req) => answerPage(wholeList(await svc().listRoles(req.principal, req.query)), req.query.count),
  });
  app.post('/roles', {
    schema: { tags: ['org'], summary: 'Create a role', body: createRoleBody, response: { 201: roleSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const r = await svc().createRole(req.principal, req.body);
      reply.code(201).header('location', `/v1/roles/${r.id}`);
      return withEtag(reply, r);
    },
  });
  app.get('/roles/:id', {
    schema: { tags: ['org'], summary: 'Read a role', params: idParams, response: { 200: roleSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().getRole(req.principal, req.params.id)),
  });
  app.patch('/roles/:id', {
    schema: { tags: ['org'], summary: 'Edit a role (built-in roles keep their name and scope)', params: idParams, body: patchRoleBody, response: { 200: roleSchema, ...errorResponses } },
    handler: async (req, reply) => withEtag(reply, await svc().updateRole(req.principal, req.params.id, req.body, ifMatch(req.headers['if-match']))),
  });

  app.get('/delegations', {
    schema: {
      tags: ['org'],
      summary: 'Delegations: the caller’s own (given or received), and those between users its delegations:read scope covers',
      querystring: listDelegationsQuery,
      response: { 200: page(delegationSchema), ...errorResponses },
    },
    handler: async (req) => answerPage(await svc().listDelegations(req.principal, req.query), req.query.count),
  });
  app.get('/delegations/:id', {
    schema: { tags: ['org'], summary: 'Read a delegation', params: idParams, response: { 200: delegationSchema, ...errorResponses } },
    handler: async (req) => svc().getDelegation(req.principal, req.params.id),
  });
  app.post('/delegations', {
    schema: {
      tags: ['org'],
      summary: 'Delegate work for a time window (by the delegator, or by a manager over both users)',
      body: createDelegationBody,
      response: { 201: delegationSchema, ...errorResponses },
    },
    handler: async (req, reply) => {
      const d = await svc().createDelegation(req.principal, req.body);
      reply.code(201).header('location', `/v1/delegations/${d.id}`);
      return d;
    },
  });
  app.delete('/delegations/:id', {
    schema: { tags: ['org'], summary: 'Revoke a delegation (revoking it again changes nothing)', params: idParams, response: { 204: z.null(), ...errorResponses } },
    handler: async (req, reply) => {
      await svc().revokeDelegation(req.principal, req.params.id);
      return reply.code(204).send(null);
    },
  });

  app.post('/transfers', {
    schema: {
      tags: ['org'],
      summary: 'Hand a user’s customers, open opportunities and open actions to another user or to a unit’s pool, in one transaction',
      body: transferBody,
      response: { 201: transferSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc().transferWork(req.principal, req.body)),
  });

  app.get('/shares', {
    schema: {
      tags: ['org'],
      summary: 'Shares the caller sees: those it made, those granted to it or its unit, and those on customers it may edit (newest first)',
      querystring: listSharesQuery,
      response: { 200: page(shareSchema), ...errorResponses },
    },
    handler: async (req) => answerPage(await svc().listShares(req.principal, req.query), req.query.count),
  });
  app.get('/shares/:id', {
    schema: { tags: ['org'], summary: 'Read a share', params: idParams, response: { 200: shareSchema, ...errorResponses } },
    handler: async (req) => svc().getShare(req.principal, req.params.id),
  });
  app.get('/customers/:id/shares', {
    schema: { tags: ['org'], summary: 'The shares of a customer the caller sees', params: idParams, querystring: customerSharesQuery, response: { 200: page(shareSchema), ...errorResponses } },
    handler: async (req) => answerPage(await svc().listCustomerShares(req.principal, req.params.id, req.query), req.query.count),
  });
  app.post('/shares', {
    schema: { tags: ['org'], summary: 'Share a record with a unit or a user (read access)', body: createShareBody, response: { 201: shareSchema, ...errorResponses } },
    handler: async (req, reply) => {
      const share = await svc().createShare(req.principal, req.body);
      return reply.code(201).header('location', `/v1/shares/${share.id}`).send(share);
    },
  });
  app.delete('/shares/:id', {
    schema: { tags: ['org'], summary: 'Revoke a share', params: idParams, response: { 204: z.null(), ...errorResponses } },
    handler: async (req, reply) => {
      await svc().deleteShare(req.principal, req.params.id);
      return reply.code(204).send(null);
    },
  });
}
