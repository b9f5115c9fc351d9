import { z } from 'zod';
import { connection, type GqlContext, parseArgs } from '../../lib/graphql.js';
import { cursorParam, limitSchema } from '../../lib/pagination.js';
import {
  createDelegationBody,
  createOrgUnitBody,
  createRoleBody,
  createShareBody,
  createUserBody,
  delegationFilter,
  patchOrgUnitBody,
  patchRoleBody,
  patchUserBody,
  transferBody,
  type UserDto,
} from './org.schemas.js';

const idArg = z.object({ id: z.uuid() });
const versionArg = z.number().int().min(1).optional();
const pageArgs = z.object({ first: limitSchema, after: cursorParam.optional() });

type Args = Record<string, unknown>;
type Ctx = GqlContext;
const id = (args: Args) => parseArgs(idArg, { id: args.id }).id;
const version = (args: Args) => parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion');

export const orgResolvers = {
  Query: {
    me: async (_: unknown, _args: Args, ctx: Ctx) => ctx.services.org.me(ctx.principal),
    orgUnits: async (_: unknown, _args: Args, ctx: Ctx) => ctx.services.org.listUnits(ctx.principal),
    orgUnit: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.org.getUnit(ctx.principal, id(args)),
    users: async (_: unknown, args: Args, ctx: Ctx) => {
      const { first, after } = parseArgs(pageArgs, { first: args.first ?? undefined, after: args.after ?? undefined });
      return connection(await ctx.services.org.listUsers(ctx.principal, { limit: first, cursor: after }));
    },
    user: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.org.getUser(ctx.principal, id(args)),
    roles: async (_: unknown, _args: Args, ctx: Ctx) => ctx.services.org.listRoles(ctx.principal),
    role: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.org.getRole(ctx.principal, id(args)),
    delegations: async (_: unknown, args: Args, ctx: Ctx) => {
      const { first, after } = parseArgs(pageArgs, { first: args.first ?? undefined, after: args.after ?? undefined });
      const filter = parseArgs(delegationFilter, args.filter ?? {}, 'filter');
      return connection(await ctx.services.org.listDelegations(ctx.principal, { ...filter, limit: first, cursor: after }));
    },
  },
  Mutation: {
    createOrgUnit: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.org.createUnit(ctx.principal, parseArgs(createOrgUnitBody, args.input, 'input')),
    updateOrgUnit: async (_: unknown, args: Args, ctx: Ctx) =>
      ctx.services.org.updateUnit(ctx.principal, id(args), parseArgs(patchOrgUnitBody, args.input, 'input'), version(args)),
    createUser: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.org.createUser(ctx.principal, parseArgs(createUserBody, args.input, 'input')),
    updateUser: async (_: unknown, args: Args, ctx: Ctx) =>
      ctx.services.org.updateUser(ctx.principal, id(args), parseArgs(patchUserBody, args.input, 'input'), version(args)),
    createRole: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.org.createRole(ctx.principal, parseArgs(createRoleBody, args.input, 'input')),
    updateRole: async (_: unknown, args: Args, ctx: Ctx) =>
      ctx.services.org.updateRole(ctx.principal, id(args), parseArgs(patchRoleBody, args.input, 'input'), version(args)),
    createShare: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.org.createShare(ctx.principal, parseArgs(createShareBody, args.input, 'input')),
    createDelegation: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.org.createDelegation(ctx.principal, parseArgs(createDelegationBody, args.input, 'input')),
    revokeDelegation: async (_: unknown, args: Args, ctx: Ctx) => {
      await ctx.services.org.revokeDelegation(ctx.principal, id(args));
      return true;
    },
    transferWork: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.org.transferWork(ctx.principal, parseArgs(transferBody, args.input, 'input')),
    deleteShare: async (_: unknown, args: Args, ctx: Ctx) => {
      await ctx.services.org.deleteShare(ctx.principal, id(args));
      return true;
    },
  },
};

type UserQuery = { obj: UserDto; params: Args };

export const orgLoaders = {
  User: {
    unit: async (queries: UserQuery[], ctx: Ctx) => {
      const units = await ctx.services.org.unitsByIds(ctx.principal, [...new Set(queries.map((q) => q.obj.unitId))]);
      return queries.map((q) => units.get(q.obj.unitId) ?? null);
    },
  },
};
