import { type GqlContext, parseArgs } from '../../lib/graphql.js';
import { sourceReportQuery } from './reports.schemas.js';

type Args = Record<string, unknown>;

export const reportsResolvers = {
  Query: {
    sourceReport: async (_: unknown, args: Args, ctx: GqlContext) =>
      ctx.services.reports.sources(ctx.principal, parseArgs(sourceReportQuery, { from: args.from ?? undefined, to: args.to ?? undefined })),
  },
};
export const reportsLoaders = {};
