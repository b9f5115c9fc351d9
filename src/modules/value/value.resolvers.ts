import { connection, parseArgs, parseId, parseInput, type Resolvers } from '../../lib/graphql.js';
import { churnRiskQuery, crossSellQuery, pyramidQuery, winBackQuery } from './value-reports.schemas.js';
import { listCostsQuery, recordCostBody, referenceEffectBody, valueModelBody } from './value.schemas.js';

export const valueResolvers = {
  Query: {
    customerValue: async (_, args, ctx) => ctx.services.value.getValue(ctx.principal, parseId(args.customerId, 'customerId')),
    customerCosts: async (_, args, ctx) => {
      const { customerId, ...rest } = args;
      return connection(await ctx.services.value.listCosts(ctx.principal, parseId(customerId, 'customerId'), parseArgs(listCostsQuery, rest)));
    },
    valueModel: async (_, _args, ctx) => ctx.services.value.getModel(ctx.principal),
    valuePyramidReport: async (_, args, ctx) => ctx.services.value.reports.pyramid(ctx.principal, parseArgs(pyramidQuery, args)),
    churnRiskReport: async (_, args, ctx) => ctx.services.value.reports.churnRisk(ctx.principal, parseArgs(churnRiskQuery, args)),
    winBackReport: async (_, args, ctx) => ctx.services.value.reports.winBack(ctx.principal, parseArgs(winBackQuery, args)),
    crossSellReport: async (_, args, ctx) => ctx.services.value.reports.crossSell(ctx.principal, parseArgs(crossSellQuery, args)),
  },
  Mutation: {
    recordCost: async (_, args, ctx) => ctx.services.value.recordCost(ctx.principal, parseId(args.customerId, 'customerId'), parseInput(recordCostBody, args.input)),
    setReferenceEffect: async (_, args, ctx) => ctx.services.value.setReferenceEffect(ctx.principal, parseId(args.customerId, 'customerId'), parseInput(referenceEffectBody, args.input)),
    updateValueModel: async (_, args, ctx) => ctx.services.value.putModel(ctx.principal, parseInput(valueModelBody, args.input)),
    recomputeValues: async (_, _args, ctx) => ctx.services.value.recompute(ctx.principal),
  },
} satisfies Resolvers;

export const valueLoaders = {};
