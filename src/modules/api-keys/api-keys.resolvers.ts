import { connection, parseArgs, parseId, parseInput, type Resolvers, underInput } from '../../lib/graphql.js';
import { createApiKeyBody, listApiKeysQuery } from './api-keys.schemas.js';

// The GraphQL door of /v1/api-keys: the same service, the same validation. `active` is a Boolean
// here and the query parameter's `true`/`false` in REST.
export const apiKeysResolvers = {
  Query: {
    apiKeys: async (_, args, ctx) => {
      const { filter, ...rest } = args;
      const active = filter?.active === null || filter?.active === undefined ? undefined : String(filter.active);
      const q = parseArgs(listApiKeysQuery, { ...rest, filter: { userId: filter?.userId, active, updatedAfter: filter?.updatedAfter } });
      return connection(await ctx.services.apiKeys.list(ctx.principal, q));
    },
    apiKey: async (_, args, ctx) => ctx.services.apiKeys.get(ctx.principal, parseId(args.id)),
  },
  Mutation: {
    createApiKey: async (_, args, ctx) => {
      const input = parseInput(createApiKeyBody, args.input);
      return underInput(() => ctx.services.apiKeys.create(ctx.principal, input));
    },
    revokeApiKey: async (_, args, ctx) => {
      await ctx.services.apiKeys.revoke(ctx.principal, parseId(args.id));
      return true;
    },
  },
} satisfies Resolvers;
