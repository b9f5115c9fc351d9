import type { MercuriusContext } from 'mercurius';
import { byArgs, connection, type LoadersOf, parseArgs, parseId, parseInput, parseVersion, related, type Resolvers } from '../../lib/graphql.js';
import { emptyPage } from '../../lib/pagination.js';
import { type ActionDto, agendaQuery, createActionGraphInput, listActionsQuery, patchActionBody } from './actions.schemas.js';

export const actionsResolvers = {
  Query: {
    agenda: async (_, args, ctx) => connection(await ctx.services.actions.agenda(ctx.principal, parseArgs(agendaQuery, args))),
    action: async (_, args, ctx) => ctx.services.actions.get(ctx.principal, parseId(args.id)),
  },
  Mutation: {
    createAction: async (_, args, ctx) => {
      const { opportunityId, customerId, ...input } = parseInput(createActionGraphInput, args.input);
      return opportunityId
        ? ctx.services.actions.createForOpportunity(ctx.principal, opportunityId, input)
        : ctx.services.actions.createForCustomer(ctx.principal, customerId ?? '', input);
    },
    updateAction: async (_, args, ctx) =>
      ctx.services.actions.update(ctx.principal, parseId(args.id), parseInput(patchActionBody, args.input), parseVersion(args.expectedVersion)),
  },
} satisfies Resolvers;

// The page arguments of a parent's actions: those of the REST list of a customer's actions.
const pageQuery = listActionsQuery.pick({ limit: true, cursor: true });
type PagesByParent = MercuriusContext['services']['actions']['actionsByCustomers'];
type PageArgs = Parameters<PagesByParent>[2];

// One statement per distinct (first, after) for all parents of a page.
function batchedByParent(load: (ctx: MercuriusContext) => PagesByParent) {
  return async (queries: { obj: { id: string }; params: { first?: number | null; after?: string | null } }[], ctx: MercuriusContext) => {
    const pages = await byArgs(
      queries,
      (params): PageArgs => {
        const { limit, cursor } = parseArgs(pageQuery, params);
        return { first: limit, after: cursor };
      },
      (args, ids) => load(ctx)(ctx.principal, ids, args),
    );
    return pages.map((pg) => connection(pg ?? emptyPage()));
  };
}

export const actionsLoaders = {
  Customer: { actions: batchedByParent((ctx) => ctx.services.actions.actionsByCustomers) } satisfies LoadersOf<'Customer', { id: string }>,
  Opportunity: { actions: batchedByParent((ctx) => ctx.services.actions.actionsByOpportunities) } satisfies LoadersOf<'Opportunity', { id: string }>,
  Action: {
    assignee: async (queries, ctx) => related(queries, (a) => a.assigneeId, (ids) => ctx.services.org.usersByIds(ctx.principal, ids)),
    customer: async (queries, ctx) => related(queries, (a) => a.customerId, (ids) => ctx.services.customers.byIds(ctx.principal, ids)),
    opportunity: async (queries, ctx) => related(queries, (a) => a.opportunityId, (ids) => ctx.services.opportunities.byIds(ctx.principal, ids)),
  } satisfies LoadersOf<'Action', ActionDto>,
};
