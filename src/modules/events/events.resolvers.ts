import { parseArgs, type Resolvers } from '../../lib/graphql.js';
import { eventsQuery } from './events.schemas.js';

// GraphQL's `after` and `first` are the REST query's `after` and `limit`.
const graphQuery = eventsQuery.omit({ after: true }).extend({ cursor: eventsQuery.shape.after });

export const eventsResolvers = {
  Query: {
    events: async (_, args, ctx) => {
      const { cursor, ...q } = parseArgs(graphQuery, args);
      const page = await ctx.services.events.list(ctx.principal, { ...q, ...(cursor !== undefined ? { after: cursor } : {}) });
      return {
        edges: page.data.map((node) => ({ node, cursor: node.id })),
        pageInfo: { hasNextPage: page.hasMore, endCursor: page.nextCursor },
      };
    },
  },
} satisfies Resolvers;
