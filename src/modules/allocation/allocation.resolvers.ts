import { connection, parseArgs, parseId, parseInput, parseVersion, type Resolvers } from '../../lib/graphql.js';
import { createRuleBody, listRulesQuery, patchRuleBody } from './allocation.schemas.js';

export const allocationResolvers = {
  Query: {
    allocationRules: async (_, args, ctx) => connection(await ctx.services.allocation.listRules(ctx.principal, parseArgs(listRulesQuery, args))),
    allocationRule: async (_, args, ctx) => ctx.services.allocation.getRule(ctx.principal, parseId(args.id)),
  },
  Mutation: {
    createAllocationRule: async (_, args, ctx) => ctx.services.allocation.createRule(ctx.principal, parseInput(createRuleBody, args.input)),
    updateAllocationRule: async (_, args, ctx) => ctx.services.allocation.updateRule(ctx.principal, parseId(args.id), parseInput(patchRuleBody, args.input), parseVersion(args.expectedVersion)),
    deleteAllocationRule: async (_, args, ctx) => {
      await ctx.services.allocation.deleteRule(ctx.principal, parseId(args.id));
      return true;
    },
    allocateCustomer: async (_, args, ctx) => ctx.services.allocation.allocateCustomer(ctx.principal, parseId(args.customerId, 'customerId')),
  },
} satisfies Resolvers;

export const allocationLoaders = {};
