import { connection, type LoadersOf, parseArgs, parseId, parseInput, parseVersion, type Resolvers } from '../../lib/graphql.js';
import { wholeSyncQuery } from '../../lib/pagination.js';
import {
  createDelegationBody,
  createOrgUnitBody,
  createRoleBody,
  createShareBody,
  createUserBody,
  listDelegationsQuery,
  listOrgUnitsQuery,
  listSharesQuery,
  listUsersQuery,
  patchOrgUnitBody,
  patchRoleBody,
  patchUserBody,
  transferBody,
  type UserDto,
} from './org.schemas.js';

export const orgResolvers = {
  Query: {
    me: async (_, _args, ctx) => ctx.services.org.me(ctx.principal),
    orgUnits: async (_, args, ctx) => ctx.services.org.listUnits(ctx.principal, parseArgs(listOrgUnitsQuery, args)),
    orgUnit: async (_, args, ctx) => ctx.services.org.getUnit(ctx.principal, parseId(args.id)),
    users: async (_, args, ctx) => connection(await ctx.services.org.listUsers(ctx.principal, parseArgs(listUsersQuery, args))),
    user: async (_, args, ctx) => ctx.services.org.getUser(ctx.principal, parseId(args.id)),
    roles: async (_, args, ctx) => ctx.services.org.listRoles(ctx.principal, parseArgs(wholeSyncQuery, args)),
    role: async (_, args, ctx) => ctx.services.org.getRole(ctx.principal, parseId(args.id)),
    delegations: async (_, args, ctx) => connection(await ctx.services.org.listDelegations(ctx.principal, parseArgs(listDelegationsQuery, args))),
    shares: async (_, args, ctx) => connection(await ctx.services.org.listShares(ctx.principal, parseArgs(listSharesQuery, args))),
    share: async (_, args, ctx) => ctx.services.org.getShare(ctx.principal, parseId(args.id)),
  },
  Mutation: {
    createOrgUnit: async (_, args, ctx) => ctx.services.org.createUnit(ctx.principal, parseInput(createOrgUnitBody, args.input)),
    updateOrgUnit: async (_, args, ctx) => ctx.services.org.updateUnit(ctx.principal, parseId(args.id), parseInput(patchOrgUnitBody, args.input), parseVersion(args.expectedVersion)),
    createUser: async (_, args, ctx) => ctx.services.org.createUser(ctx.principal, parseInput(createUserBody, args.input)),
    updateUser: async (_, args, ctx) => ctx.services.org.updateUser(ctx.principal, parseId(args.id), parseInput(patchUserBody, args.input), parseVersion(args.expectedVersion)),
    createRole: async (_, args, ctx) => ctx.services.org.createRole(ctx.principal, parseInput(createRoleBody, args.input)),
    updateRole: async (_, args, ctx) => ctx.services.org.updateRole(ctx.principal, parseId(args.id), parseInput(patchRoleBody, args.input), parseVersion(args.expectedVersion)),
    createShare: async (_, args, ctx) => ctx.services.org.createShare(ctx.principal, parseInput(createShareBody, args.input)),
    createDelegation: async (_, args, ctx) => ctx.services.org.createDelegation(ctx.principal, parseInput(createDelegationBody, args.input)),
    revokeDelegation: async (_, args, ctx) => {
      await ctx.services.org.revokeDelegation(ctx.principal, parseId(args.id));
      return true;
    },
    transferWork: async (_, args, ctx) => ctx.services.org.transferWork(ctx.principal, parseInput(transferBody, args.input)),
    deleteShare: async (_, args, ctx) => {
      await ctx.services.org.deleteShare(ctx.principal, parseId(args.id));
      return true;
    },
    revokeShare: async (_, args, ctx) => {
      await ctx.services.org.deleteShare(ctx.principal, parseId(args.id));
      return true;
    },
  },
} satisfies Resolvers;

export const orgLoaders = {
  User: {
    unit: async (queries, ctx) => {
      const units = await ctx.services.org.unitsByIds(ctx.principal, [...new Set(queries.map((q) => q.obj.unitId))]);
      return queries.map((q) => units.get(q.obj.unitId) ?? null);
    },
  } satisfies LoadersOf<'User', UserDto>,
  Customer: {
    shares: async (queries, ctx) => {
      const byCustomer = await ctx.services.org.sharesByCustomers(ctx.principal, [...new Set(queries.map((q) => q.obj.id))]);
      return queries.map((q) => byCustomer.get(q.obj.id) ?? []);
    },
  } satisfies LoadersOf<'Customer', { id: string }>,
};
