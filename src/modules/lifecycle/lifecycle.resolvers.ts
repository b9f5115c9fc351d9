import { z } from 'zod';
import { connection, type GqlContext, parseArgs } from '../../lib/graphql.js';
import { cursorParam, limitSchema } from '../../lib/pagination.js';
import type { CustomerDto } from '../customers/customers.schemas.js';
import { handoffBody, listHandoffsQuery, rejectBody, transitionBody } from './lifecycle.schemas.js';

const idArg = z.object({ id: z.uuid() });
const versionArg = z.number().int().min(1).optional();
const pageArgs = z.object({ first: limitSchema, after: cursorParam.optional() });

type Args = Record<string, unknown>;
type Ctx = GqlContext;

export const lifecycleResolvers = {
  Query: {
    handoffs: async (_: unknown, args: Args, ctx: Ctx) => {
      const { first, after } = parseArgs(pageArgs, { first: args.first ?? undefined, after: args.after ?? undefined });
      const filter = parseArgs(listHandoffsQuery.pick({ status: true, box: true }), args.filter ?? {}, 'filter');
      return connection(await ctx.services.lifecycle.listHandoffs(ctx.principal, { ...filter, limit: first, cursor: after }));
    },
    handoff: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.lifecycle.getHandoff(ctx.principal, parseArgs(idArg, args).id),
  },
  Mutation: {
    transitionLifecycle: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.customerId }, 'customerId');
      const input = parseArgs(transitionBody, args.input, 'input');
      return ctx.services.lifecycle.transition(ctx.principal, id, input, parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion'));
    },
    handOffCustomer: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.customerId }, 'customerId');
      return ctx.services.lifecycle.handOff(ctx.principal, id, parseArgs(handoffBody, args.input, 'input'));
    },
    acceptHandoff: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.lifecycle.accept(ctx.principal, parseArgs(idArg, { id: args.id }).id),
    rejectHandoff: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.id });
      const { reason } = parseArgs(rejectBody, { reason: args.reason });
      return ctx.services.lifecycle.reject(ctx.principal, id, reason);
    },
  },
};

type LoaderQuery = { obj: CustomerDto; params: Args };

// Nested fields are batched per request: one statement per field for the whole page.
export const lifecycleLoaders = {
  Customer: {
    lifecycleTransitions: async (queries: LoaderQuery[], ctx: Ctx) => {
      const by = await ctx.services.lifecycle.transitionsByCustomer(queries.map((q) => q.obj.id));
      return queries.map((q) => by.get(q.obj.id) ?? []);
    },
    handoffs: async (queries: LoaderQuery[], ctx: Ctx) => {
      const by = await ctx.services.lifecycle.handoffsByCustomer(queries.map((q) => q.obj.id));
      return queries.map((q) => by.get(q.obj.id) ?? []);
    },
  },
};
