import { connection, parseArgs, parseId, parseInput, parseVersion, type Resolvers } from '../../lib/graphql.js';
import { createPlanInput, decomposeInput, listPlansQuery, patchPlanInput } from './plans.schemas.js';

export const plansResolvers = {
  Query: {
    planDecomposition: async (_, args, ctx) => ctx.services.plans.decompose(ctx.principal, parseInput(decomposeInput, args.input)),
    plans: async (_, args, ctx) => connection(await ctx.services.plans.list(ctx.principal, parseArgs(listPlansQuery, args))),
    plan: async (_, args, ctx) => ctx.services.plans.get(ctx.principal, parseId(args.id)),
    planProgress: async (_, args, ctx) => ctx.services.plans.progress(ctx.principal, parseId(args.id)),
  },
  Mutation: {
    createPlan: async (_, args, ctx) => ctx.services.plans.create(ctx.principal, parseInput(createPlanInput, args.input)),
    updatePlan: async (_, args, ctx) => ctx.services.plans.update(ctx.principal, parseId(args.id), parseInput(patchPlanInput, args.input), parseVersion(args.expectedVersion)),
    deletePlan: async (_, args, ctx) => {
      await ctx.services.plans.remove(ctx.principal, parseId(args.id), parseVersion(args.expectedVersion));
      return true;
    },
  },
} satisfies Resolvers;
export const plansLoaders = {};
