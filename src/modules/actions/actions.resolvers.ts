import { z } from 'zod';
import { connection, type GqlContext, parseArgs } from '../../lib/graphql.js';
import { cursorParam, limitSchema } from '../../lib/pagination.js';
import { createActionGraphInput, patchActionBody } from './actions.schemas.js';

const idArg = z.object({ id: z.uuid() });
const versionArg = z.number().int().min(1).optional();
const pageArgs = z.object({ first: limitSchema, after: cursorParam.optional() });

type Args = Record<string, unknown>;
type Ctx = GqlContext;

const pageOfArgs = (args: Args) => parseArgs(pageArgs, { first: args.first ?? undefined, after: args.after ?? undefined });

export const actionsResolvers = {
  Query: {
    agenda: async (_: unknown, args: Args, ctx: Ctx) => {
      const { first, after } = pageOfArgs(args);
      return connection(await ctx.services.actions.agenda(ctx.principal, { limit: first, cursor: after }));
    },
    action: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.actions.get(ctx.principal, parseArgs(idArg, args).id),
  },
  Mutation: {
    createAction: async (_: unknown, args: Args, ctx: Ctx) => {
      const { opportunityId, customerId, ...input } = parseArgs(createActionGraphInput, args.input, 'input');
      return opportunityId
        ? ctx.services.actions.createForOpportunity(ctx.principal, opportunityId, input)
        : ctx.services.actions.createForCustomer(ctx.principal, customerId ?? '', input);
    },
    updateAction: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.id });
      return ctx.services.actions.update(ctx.principal, id, parseArgs(patchActionBody, args.input, 'input'), parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion'));
    },
  },
};

type LoaderQuery = { obj: { id: string }; params: Args };

// Batched per request: one statement per distinct (first, after) for all customers of a page.
type PagesByParent = (p: Ctx['principal'], ids: readonly string[], args: { first: number; after?: string | undefined }) => ReturnType<Ctx['services']['actions']['actionsByCustomers']>;

// One statement per distinct (first, after) for all parents of a page.
function batchedByParent(load: (ctx: Ctx) => PagesByParent) {
  return async (queries: LoaderQuery[], ctx: Ctx) => {
    const groups = new Map<string, { args: { first: number; after?: string | undefined }; ids: string[] }>();
    for (const q of queries) {
      const args = pageOfArgs(q.params);
      const key = JSON.stringify(args);
      const g = groups.get(key) ?? { args, ids: [] };
      g.ids.push(q.obj.id);
      groups.set(key, g);
    }
    const results = new Map<string, Awaited<ReturnType<PagesByParent>>>();
    for (const [key, g] of groups) results.set(key, await load(ctx)(ctx.principal, g.ids, g.args));
    return queries.map((q) => {
      const page = results.get(JSON.stringify(pageOfArgs(q.params)))?.get(q.obj.id) ?? { data: [], nextCursor: null, cursors: [] };
      return connection(page);
    });
  };
}

export const actionsLoaders = {
  Customer: { actions: batchedByParent((ctx) => ctx.services.actions.actionsByCustomers) },
  Opportunity: { actions: batchedByParent((ctx) => ctx.services.actions.actionsByOpportunities) },
};
