import { z } from 'zod';
import { connection, type GqlContext, parseArgs } from '../../lib/graphql.js';
import { cursorParam, limitSchema } from '../../lib/pagination.js';
import type { CustomerDto } from '../customers/customers.schemas.js';
import {
  createOpportunityBody,
  createPipelineBody,
  listOpportunitiesQuery,
  type OpportunityDto,
  patchOpportunityBody,
  patchPipelineBody,
  transitionBody,
} from './opportunities.schemas.js';

const idArg = z.object({ id: z.uuid() });
const versionArg = z.number().int().min(1).optional();
const pageArgs = z.object({ first: limitSchema, after: cursorParam.optional(), sort: z.string().max(40).optional() });

type Args = Record<string, unknown>;
type Ctx = GqlContext;

const version = (args: Args) => parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion');

export const opportunitiesResolvers = {
  Query: {
    pipelines: async (_: unknown, _args: Args, ctx: Ctx) => ctx.services.opportunities.listPipelines(ctx.principal),
    pipeline: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.opportunities.getPipeline(ctx.principal, parseArgs(idArg, args).id),
    opportunity: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.opportunities.get(ctx.principal, parseArgs(idArg, args).id),
    opportunities: async (_: unknown, args: Args, ctx: Ctx) => {
      const { first, after, sort } = parseArgs(pageArgs, { first: args.first ?? undefined, after: args.after ?? undefined, sort: args.sort ?? undefined });
      const filter = parseArgs(listOpportunitiesQuery.omit({ limit: true, cursor: true, sort: true }), args.filter ?? {}, 'filter');
      return connection(await ctx.services.opportunities.list(ctx.principal, { ...filter, limit: first, cursor: after, sort }));
    },
  },
  Mutation: {
    createPipeline: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.opportunities.createPipeline(ctx.principal, parseArgs(createPipelineBody, args.input, 'input')),
    updatePipeline: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.id });
      return ctx.services.opportunities.updatePipeline(ctx.principal, id, parseArgs(patchPipelineBody, args.input, 'input'), version(args));
    },
    createOpportunity: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.opportunities.create(ctx.principal, parseArgs(createOpportunityBody, args.input, 'input')),
    updateOpportunity: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.id });
      return ctx.services.opportunities.update(ctx.principal, id, parseArgs(patchOpportunityBody, args.input, 'input'), version(args));
    },
    transitionOpportunity: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.id });
      return ctx.services.opportunities.transition(ctx.principal, id, parseArgs(transitionBody, args.input, 'input'), version(args));
    },
  },
};

type Q<T> = { obj: T; params: Args };

// Nested fields are batched per request: one statement per field for the whole page.
export const opportunitiesLoaders = {
  Opportunity: {
    stage: async (queries: Q<OpportunityDto>[], ctx: Ctx) => {
      const stages = await ctx.services.opportunities.stagesByIds(queries.map((q) => q.obj.stageId));
      return queries.map((q) => stages.get(q.obj.stageId) ?? null);
    },
    customer: async (queries: Q<OpportunityDto>[], ctx: Ctx) => {
      const customers = await ctx.services.opportunities.customersByIds(ctx.principal, queries.map((q) => q.obj.customerId));
      return queries.map((q) => customers.get(q.obj.customerId) ?? null);
    },
    transitions: async (queries: Q<OpportunityDto>[], ctx: Ctx) => {
      const byOpp = await ctx.services.opportunities.transitionsByOpportunity(queries.map((q) => q.obj.id));
      return queries.map((q) => byOpp.get(q.obj.id) ?? []);
    },
  },
  Customer: {
    opportunities: async (queries: Q<CustomerDto>[], ctx: Ctx) => {
      // Queries with the same page arguments share one statement (the usual case: one list of customers).
      const groups = new Map<string, { first: number; after: string | undefined; ids: string[] }>();
      const keyOf: string[] = [];
      for (const q of queries) {
        const { first, after } = parseArgs(pageArgs, { first: q.params.first ?? undefined, after: q.params.after ?? undefined });
        const key = JSON.stringify([first, after ?? null]);
        keyOf.push(key);
        const g = groups.get(key) ?? { first, after, ids: [] };
        g.ids.push(q.obj.id);
        groups.set(key, g);
      }
      const pages = new Map<string, Awaited<ReturnType<typeof ctx.services.opportunities.pagesByCustomer>>>();
      for (const [key, g] of groups) pages.set(key, await ctx.services.opportunities.pagesByCustomer(ctx.principal, g.ids, g.after, g.first));
      return queries.map((q, i) => connection(pages.get(keyOf[i] ?? '')?.get(q.obj.id) ?? { data: [], nextCursor: null, cursors: [] }));
    },
  },
};
