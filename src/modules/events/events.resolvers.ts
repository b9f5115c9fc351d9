import { z } from 'zod';
import { parseArgs, type Resolvers } from '../../lib/graphql.js';
import { cursorParam } from '../../lib/pagination.js';
import type { EventDto } from './events.schemas.js';
import { eventsQuery, eventTypesParam } from './events.schemas.js';

// GraphQL's `after` and `first` are the REST query's `after` and `limit`.
const graphQuery = eventsQuery.omit({ after: true }).extend({ cursor: eventsQuery.shape.after });
const liveArgs = z.object({ types: eventTypesParam.optional(), cursor: cursorParam.optional() }).strict();

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
  Subscription: {
    events: {
      subscribe: async (_, args, ctx) => {
        const { types, cursor } = parseArgs(liveArgs, args);
        return ctx.services.liveEvents.subscribe(ctx.principal, { types, after: cursor });
      },
      resolve: (event: EventDto) => event,
    },
  },
} satisfies Resolvers;
