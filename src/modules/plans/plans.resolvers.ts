import { connection, parseArgs, parseId, parseInput, type Resolvers } from '../../lib/graphql.js';
import { createPlanInput, decomposeInput, listPlansQuery } from './plans.schemas.js';

export const plansResolvers = {
  Query: {
    planDecomposition: async (_, args, ctx) => ctx.services.plans.decompose(ctx.principal, parseInput(decomposeInput, args.input)),
    plans: async (_, args, ctx) => connection(await ctx.services.plans.list(ctx.principal, parseArgs(listPlansQuery, args))),
    plan: async (_, args, ctx) => ctx.services.plans.get(ctx.principal, parseId(args.id)),
    planProgress: async (_, args, ctx) => ctx.services.plans.progress(ctx.principal, parseId(args.id)),
  },
  Mutation: {
    createPlan: async (_, args, ctx) => ctx.services.plans.create(ctx.principal, parseInput(createPlanInput, args.input)),
  },
} satisfies Resolvers;
export const plansLoaders = {};
