import type { MercuriusContext } from 'mercurius';
import { fieldError } from '../../lib/errors.js';
import { byArgs, connection, type LoadersOf, parseArgs, parseId, parseInput, parseVersion, related, type Resolvers } from '../../lib/graphql.js';
import type { CustomerInteractionsArgs } from '../../lib/graphql.generated.js';
import { emptyPage, type Page } from '../../lib/pagination.js';
import type { CustomerDto } from '../customers/index.js';
import type { OpportunityDto } from '../opportunities/index.js';
import {
  type InteractionDto,
  type InteractionFilter,
  listInteractionsQuery,
  patchInteractionBody,
  recordInteractionBody,
  timelineQuery,
} from './contact-history.schemas.js';

const optionalId = (value: string | null | undefined, at: string) => (value === null || value === undefined ? undefined : parseId(value, at));

export const contactHistoryResolvers = {
  Query: {
    interaction: async (_, args, ctx) => ctx.services.contactHistory.get(ctx.principal, parseId(args.id)),
    interactions: async (_, args, ctx) => {
      const customerId = optionalId(args.customerId, 'customerId');
      const opportunityId = optionalId(args.opportunityId, 'opportunityId');
      const q = parseArgs(listInteractionsQuery, { filter: args.filter, first: args.first, after: args.after, sort: args.sort });
      if ((customerId === undefined) === (opportunityId === undefined)) throw fieldError('VALIDATION_FAILED', 'customerId', 'give exactly one of customerId and opportunityId');
      const svc = ctx.services.contactHistory;
      return connection(customerId ? await svc.listForCustomer(ctx.principal, customerId, q) : await svc.listForOpportunity(ctx.principal, opportunityId ?? '', q));
    },
  },
  Mutation: {
    recordInteraction: async (_, args, ctx) =>
      ctx.services.contactHistory.record(ctx.principal, parseId(args.customerId, 'customerId'), parseInput(recordInteractionBody, args.input)),
    updateInteraction: async (_, args, ctx) =>
      ctx.services.contactHistory.update(ctx.principal, parseId(args.id), parseInput(patchInteractionBody, args.input), parseVersion(args.expectedVersion)),
  },
} satisfies Resolvers;

type InteractionPages = ReadonlyMap<string, Page<InteractionDto>>;
type PagesFor = (ctx: MercuriusContext, ids: string[], first: number, filter: InteractionFilter, after: string | undefined) => Promise<InteractionPages>;

// Nested fields are batched per request; parents asking with the same arguments share one statement.
function interactionsOf(load: PagesFor) {
  return async (queries: { obj: { id: string }; params: Partial<CustomerInteractionsArgs> }[], ctx: MercuriusContext) => {
    const pages = await byArgs(
      queries,
      (params) => {
        // Nested lists are newest first only (no sort argument).
        const { limit, cursor, count: _, sort: _sort, ...filter } = parseArgs(listInteractionsQuery, params);
        return { first: limit, after: cursor ?? null, filter };
      },
      (a, ids) => load(ctx, ids, a.first, a.filter, a.after ?? undefined),
    );
    return pages.map((pg) => connection(pg ?? emptyPage()));
  };
}

export const contactHistoryLoaders = {
  Opportunity: {
    interactions: interactionsOf((ctx, ids, first, filter, after) => ctx.services.contactHistory.listForOpportunities(ctx.principal, ids, first, filter, after)),
  } satisfies LoadersOf<'Opportunity', OpportunityDto>,
  Customer: {
    interactions: interactionsOf((ctx, ids, first, filter, after) => ctx.services.contactHistory.listForCustomers(ctx.principal, ids, filter, first, after)),
    timeline: async (queries, ctx) => {
      const pages = await byArgs(queries, (params) => parseArgs(timelineQuery, params), (q, ids) => ctx.services.contactHistory.timelines(ctx.principal, ids, q));
      return pages.map((pg) => connection(pg ?? emptyPage()));
    },
  } satisfies LoadersOf<'Customer', CustomerDto>,
  Interaction: {
    revisions: async (queries, ctx) => {
      const byInteraction = await ctx.services.contactHistory.revisionsOf(ctx.principal, queries.map((q) => q.obj.id));
      return queries.map((q) => byInteraction.get(q.obj.id) ?? []);
    },
    actor: async (queries, ctx) => related(queries, (i) => i.actorId, (ids) => ctx.services.org.usersByIds(ctx.principal, ids)),
    contact: async (queries, ctx) => related(queries, (i) => i.contactId, (ids) => ctx.services.customers.contactsByIds(ctx.principal, ids)),
    customer: async (queries, ctx) => related(queries, (i) => i.customerId, (ids) => ctx.services.customers.byIds(ctx.principal, ids)),
    opportunity: async (queries, ctx) => related(queries, (i) => i.opportunityId, (ids) => ctx.services.opportunities.byIds(ctx.principal, ids)),
  } satisfies LoadersOf<'Interaction', InteractionDto>,
};
