import { byArgs, connection, type LoadersOf, parseArgs, parseId, parseInput, parseVersion, related, type Resolvers } from '../../lib/graphql.js';
import { emptyPage, wholeSyncQuery } from '../../lib/pagination.js';
import type { CustomerDto } from '../customers/index.js';
import {
  createOpportunityBody,
  createPipelineBody,
  listOpportunitiesQuery,
  type OpportunityDto,
  patchOpportunityBody,
  patchPipelineBody,
  transitionBody,
} from './opportunities.schemas.js';

export const opportunitiesResolvers = {
  Query: {
    pipelines: async (_, args, ctx) => ctx.services.opportunities.listPipelines(ctx.principal, parseArgs(wholeSyncQuery, args)),
    pipeline: async (_, args, ctx) => ctx.services.opportunities.getPipeline(ctx.principal, parseId(args.id)),
    opportunity: async (_, args, ctx) => ctx.services.opportunities.get(ctx.principal, parseId(args.id)),
    opportunities: async (_, args, ctx) => connection(await ctx.services.opportunities.list(ctx.principal, parseArgs(listOpportunitiesQuery, args))),
  },
  Mutation: {
    createPipeline: async (_, args, ctx) => ctx.services.opportunities.createPipeline(ctx.principal, parseInput(createPipelineBody, args.input)),
    updatePipeline: async (_, args, ctx) =>
      ctx.services.opportunities.updatePipeline(ctx.principal, parseId(args.id), parseInput(patchPipelineBody, args.input), parseVersion(args.expectedVersion)),
    createOpportunity: async (_, args, ctx) => ctx.services.opportunities.create(ctx.principal, parseInput(createOpportunityBody, args.input)),
    updateOpportunity: async (_, args, ctx) =>
      ctx.services.opportunities.update(ctx.principal, parseId(args.id), parseInput(patchOpportunityBody, args.input), parseVersion(args.expectedVersion)),
    transitionOpportunity: async (_, args, ctx) =>
      ctx.services.opportunities.transition(ctx.principal, parseId(args.id), parseInput(transitionBody, args.input), parseVersion(args.expectedVersion)),
  },
} satisfies Resolvers;

// A customer's opportunities page as the REST list pages opportunities.
const pageQuery = listOpportunitiesQuery.pick({ limit: true, cursor: true });

// Nested fields are batched per request: one statement per field for the whole page.
export const opportunitiesLoaders = {
  Opportunity: {
    viewerCan: async (queries, ctx) => {
      const can = await ctx.services.opportunities.viewerCanByIds(ctx.principal, [...new Set(queries.map((q) => q.obj.id))]);
      return queries.map((q) => can.get(q.obj.id) ?? null);
    },
    stage: async (queries, ctx) => {
      const stages = await ctx.services.opportunities.stagesByIds(ctx.principal, queries.map((q) => q.obj.stageId));
      return queries.map((q) => stages.get(q.obj.stageId) ?? null);
    },
    customer: async (queries, ctx) => {
      const customers = await ctx.services.opportunities.customersByIds(ctx.principal, queries.map((q) => q.obj.customerId));
      return queries.map((q) => customers.get(q.obj.customerId) ?? null);
    },
    owner: async (queries, ctx) => related(queries, (o) => o.ownerUserId, (ids) => ctx.services.org.usersByIds(ctx.principal, ids)),
    transitions: async (queries, ctx) => {
      const byOpp = await ctx.services.opportunities.transitionsByOpportunity(ctx.principal, queries.map((q) => q.obj.id));
      return queries.map((q) => byOpp.get(q.obj.id) ?? []);
    },
  } satisfies LoadersOf<'Opportunity', OpportunityDto>,
  Customer: {
    opportunities: async (queries, ctx) => {
      // Queries with the same page arguments share one statement (the usual case: one list of customers).
      const pages = await byArgs(
        queries,
        (params) => parseArgs(pageQuery, params),
        (a, ids) => ctx.services.opportunities.pagesByCustomer(ctx.principal, ids, a.cursor, a.limit),
      );
      return pages.map((pg) => connection(pg ?? emptyPage()));
    },
  } satisfies LoadersOf<'Customer', CustomerDto>,
};
