import { parseArgs, type Resolvers } from '../../lib/graphql.js';
import { conversionQuery, forecastQuery, funnelQuery, performanceQuery } from './pipeline-reports.schemas.js';
import { sourceReportQuery } from './reports.schemas.js';

export const reportsResolvers = {
  Query: {
    sourceReport: async (_, args, ctx) => ctx.services.reports.sources(ctx.principal, parseArgs(sourceReportQuery, args)),
    funnelReport: async (_, args, ctx) => ctx.services.reports.funnel(ctx.principal, parseArgs(funnelQuery, args)),
    conversionReport: async (_, args, ctx) => ctx.services.reports.conversion(ctx.principal, parseArgs(conversionQuery, args)),
    forecastReport: async (_, args, ctx) => ctx.services.reports.forecast(ctx.principal, parseArgs(forecastQuery, args)),
    salesPerformanceReport: async (_, args, ctx) => ctx.services.reports.salesPerformance(ctx.principal, parseArgs(performanceQuery, args)),
  },
} satisfies Resolvers;
export const reportsLoaders = {};
