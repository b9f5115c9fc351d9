import { z } from 'zod';
import { byArgs, connection, type LoadersOf, parseArgs, parseId, parseInput, parseVersion, related, type Resolvers } from '../../lib/graphql.js';
import type { CustomerDto } from '../customers/index.js';
import { createOrderBody, externalParams, listOrdersQuery, type OrderDto, patchOrderBody, upsertOrderBody } from './orders.schemas.js';

const externalArgs = z.object({ system: externalParams.shape.system, externalId: externalParams.shape.externalId }).strict();

export const ordersResolvers = {
  Query: {
    order: async (_, args, ctx) => ctx.services.orders.get(ctx.principal, parseId(args.id)),
    orders: async (_, args, ctx) => {
      const q = parseArgs(listOrdersQuery, args);
      // A function field: the default resolver calls it only when the query selects totalCount.
      return { ...connection(await ctx.services.orders.list(ctx.principal, q)), totalCount: () => ctx.services.orders.count(ctx.principal, q) };
    },
    orderByExternalId: async (_, args, ctx) => {
      const a = parseArgs(externalArgs, args);
      return ctx.services.orders.getByExternalId(ctx.principal, a.system, a.externalId);
    },
  },
  Mutation: {
    createOrder: async (_, args, ctx) => ctx.services.orders.create(ctx.principal, parseInput(createOrderBody, args.input)),
    updateOrder: async (_, args, ctx) =>
      ctx.services.orders.update(ctx.principal, parseId(args.id), parseInput(patchOrderBody, args.input), parseVersion(args.expectedVersion)),
    upsertOrder: async (_, args, ctx) => {
      const a = parseArgs(externalArgs, { system: args.system, externalId: args.externalId });
      return ctx.services.orders.upsertByExternalId(ctx.principal, a.system, a.externalId, parseInput(upsertOrderBody, args.input));
    },
  },
} satisfies Resolvers;

// A customer's orders page as the REST list pages orders.
const pageQuery = listOrdersQuery.pick({ limit: true, cursor: true });

// Nested fields are batched per request: one statement per field for the whole page.
export const ordersLoaders = {
  Order: {
    customer: async (queries, ctx) => related(queries, (o) => o.customerId, (ids) => ctx.services.orders.customersByIds(ctx.principal, ids)),
    opportunity: async (queries, ctx) => related(queries, (o) => o.opportunityId, (ids) => ctx.services.opportunities.byIds(ctx.principal, ids)),
  } satisfies LoadersOf<'Order', OrderDto>,
  Customer: {
    orders: async (queries, ctx) => {
      // Queries with the same page arguments share one statement (the usual case: one list of customers).
      const pages = await byArgs(
        queries,
        (params) => parseArgs(pageQuery, params),
        (a, ids) => ctx.services.orders.pagesByCustomer(ctx.principal, ids, a.cursor, a.limit),
      );
      // totalCount, when selected, is counted for all the customers at once (one statement).
      let counts: Promise<Map<string, number>> | null = null;
      const ids = queries.map((q) => q.obj.id);
      const countOf = (id: string) => async () => ((await (counts ??= ctx.services.orders.countsByCustomer(ctx.principal, ids))).get(id) ?? 0);
      return queries.map((q, i) => ({
        ...connection(pages[i] ?? { data: [], nextCursor: null, cursors: [] }),
        totalCount: countOf(q.obj.id),
      }));
    },
  } satisfies LoadersOf<'Customer', CustomerDto>,
};
