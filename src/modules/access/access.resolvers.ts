import { parseArgs, type Resolvers } from '../../lib/graphql.js';
import { explainQuery } from './access.schemas.js';

export const accessResolvers = {
  Query: {
    accessExplain: async (_, args, ctx) => ctx.services.access.explain(ctx.principal, parseArgs(explainQuery, args)),
  },
} satisfies Resolvers;

export const accessLoaders = {};
