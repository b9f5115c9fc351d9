import { parseArgs, parseId, parseInput, type Resolvers } from '../../lib/graphql.js';
import { listCostsQuery, recordCostBody, referenceEffectBody, valueModelBody } from './value.schemas.js';

export const valueResolvers = {
  Query: {
    customerValue: async (_, args, ctx) => ctx.services.value.getValue(ctx.principal, parseId(args.customerId, 'customerId')),
    customerCosts: async (_, args, ctx) => {
      const { customerId, ...rest } = args;
      const pg = await ctx.services.value.listCosts(ctx.principal, parseId(customerId, 'customerId'), parseArgs(listCostsQuery, { limit: rest.first ?? undefined, cursor: rest.after ?? undefined }));
      return { edges: pg.data.map((node, i) => ({ node, cursor: pg.cursors?.[i] ?? '' })), pageInfo: { hasNextPage: pg.nextCursor !== null, endCursor: pg.nextCursor } };
    },
    valueModel: async (_, _args, ctx) => ctx.services.value.getModel(ctx.principal),
  },
  Mutation: {
    recordCost: async (_, args, ctx) => ctx.services.value.recordCost(ctx.principal, parseId(args.customerId, 'customerId'), parseInput(recordCostBody, args.input)),
    setReferenceEffect: async (_, args, ctx) => ctx.services.value.setReferenceEffect(ctx.principal, parseId(args.customerId, 'customerId'), parseInput(referenceEffectBody, args.input)),
    updateValueModel: async (_, args, ctx) => ctx.services.value.putModel(ctx.principal, parseInput(valueModelBody, args.input)),
    recomputeValues: async (_, _args, ctx) => ctx.services.value.recompute(ctx.principal),
  },
} satisfies Resolvers;

export const valueLoaders = {};
