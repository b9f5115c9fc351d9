import { parseArgs, type Resolvers } from '../../lib/graphql.js';
import { sourceReportQuery } from './reports.schemas.js';

export const reportsResolvers = {
  Query: {
    sourceReport: async (_, args, ctx) => ctx.services.reports.sources(ctx.principal, parseArgs(sourceReportQuery, args)),
  },
} satisfies Resolvers;
export const reportsLoaders = {};
