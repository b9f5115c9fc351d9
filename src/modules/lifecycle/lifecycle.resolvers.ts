import { connection, type LoadersOf, parseArgs, parseId, parseInput, parseVersion, related, type Resolvers } from '../../lib/graphql.js';
import type { CustomerDto } from '../customers/index.js';
import { handoffBody, type HandoffDto, listHandoffsQuery, rejectBody, transitionBody } from './lifecycle.schemas.js';

export const lifecycleResolvers = {
  Query: {
    handoffs: async (_, args, ctx) => connection(await ctx.services.lifecycle.listHandoffs(ctx.principal, parseArgs(listHandoffsQuery, args))),
    handoff: async (_, args, ctx) => ctx.services.lifecycle.getHandoff(ctx.principal, parseId(args.id)),
  },
  Mutation: {
    transitionLifecycle: async (_, args, ctx) =>
      ctx.services.lifecycle.transition(ctx.principal, parseId(args.customerId, 'customerId'), parseInput(transitionBody, args.input), parseVersion(args.expectedVersion)),
    handOffCustomer: async (_, args, ctx) => ctx.services.lifecycle.handOff(ctx.principal, parseId(args.customerId, 'customerId'), parseInput(handoffBody, args.input)),
    acceptHandoff: async (_, args, ctx) => ctx.services.lifecycle.accept(ctx.principal, parseId(args.id)),
    rejectHandoff: async (_, args, ctx) => {
      const { reason } = parseArgs(rejectBody, { reason: args.reason });
      return ctx.services.lifecycle.reject(ctx.principal, parseId(args.id), reason);
    },
  },
} satisfies Resolvers;

// Nested fields are batched per request: one statement per field for the whole page.
export const lifecycleLoaders = {
  Customer: {
    lifecycleTransitions: async (queries, ctx) => {
      const by = await ctx.services.lifecycle.transitionsByCustomer(ctx.principal, queries.map((q) => q.obj.id));
      return queries.map((q) => by.get(q.obj.id) ?? []);
    },
    handoffs: async (queries, ctx) => {
      const by = await ctx.services.lifecycle.handoffsByCustomer(ctx.principal, queries.map((q) => q.obj.id));
      return queries.map((q) => by.get(q.obj.id) ?? []);
    },
  } satisfies LoadersOf<'Customer', CustomerDto>,
  Handoff: {
    customer: async (queries, ctx) => related(queries, (h) => h.customerId, (ids) => ctx.services.customers.byIds(ctx.principal, ids)),
    fromUser: async (queries, ctx) => related(queries, (h) => h.fromUserId, (ids) => ctx.services.org.usersByIds(ctx.principal, ids)),
    toUser: async (queries, ctx) => related(queries, (h) => h.toUserId, (ids) => ctx.services.org.usersByIds(ctx.principal, ids)),
    toUnit: async (queries, ctx) => related(queries, (h) => h.toUnitId, (ids) => ctx.services.org.unitsByIds(ctx.principal, ids)),
  } satisfies LoadersOf<'Handoff', HandoffDto>,
};
