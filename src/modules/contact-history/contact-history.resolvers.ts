import { z } from 'zod';
import { AppError } from '../../lib/errors.js';
import { connection, type GqlContext, parseArgs } from '../../lib/graphql.js';
import { cursorParam, limitSchema, type Page } from '../../lib/pagination.js';
import type { CustomerDto } from '../customers/customers.schemas.js';
import {
  type InteractionDto,
  interactionFilter,
  patchInteractionBody,
  recordInteractionBody,
  TIMELINE_TYPES,
  type TimelineType,
} from './contact-history.schemas.js';

type Args = Record<string, unknown>;
type Ctx = GqlContext;

const idArg = z.object({ id: z.uuid() });
const versionArg = z.number().int().min(1).optional();
const pageArgs = z.object({ first: limitSchema, after: cursorParam.optional() });
const listArgs = pageArgs.extend({ customerId: z.uuid().optional(), opportunityId: z.uuid().optional() });
const timelineArgs = pageArgs.extend({ types: z.array(z.enum(TIMELINE_TYPES)).min(1).optional() });

// GraphQL passes absent optional arguments as undefined and explicit ones as null: both mean "not given".
const given = (args: Args, ...keys: string[]) => Object.fromEntries(keys.map((k) => [k, args[k] ?? undefined]));

export const contactHistoryResolvers = {
  Query: {
    interaction: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.contactHistory.get(ctx.principal, parseArgs(idArg, args).id),
    interactions: async (_: unknown, args: Args, ctx: Ctx) => {
      const a = parseArgs(listArgs, given(args, 'first', 'after', 'customerId', 'opportunityId'));
      const filter = parseArgs(interactionFilter, args.filter ?? {}, 'filter');
      if ((a.customerId === undefined) === (a.opportunityId === undefined)) {
        throw new AppError('VALIDATION_FAILED', 'customerId: give exactly one of customerId and opportunityId', {
          errors: [{ path: 'customerId', message: 'give exactly one of customerId and opportunityId' }],
        });
      }
      const q = { ...filter, limit: a.first, cursor: a.after };
      const svc = ctx.services.contactHistory;
      return connection(a.customerId ? await svc.listForCustomer(ctx.principal, a.customerId, q) : await svc.listForOpportunity(ctx.principal, a.opportunityId ?? '', q));
    },
  },
  Mutation: {
    recordInteraction: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.customerId });
      return ctx.services.contactHistory.record(ctx.principal, id, parseArgs(recordInteractionBody, args.input, 'input'));
    },
    updateInteraction: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.id });
      const input = parseArgs(patchInteractionBody, args.input, 'input');
      return ctx.services.contactHistory.update(ctx.principal, id, input, parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion'));
    },
  },
};

type LoaderQuery<T> = { obj: T; params: Args };

// Nested fields are batched per request.
type InteractionPages = ReadonlyMap<string, Page<InteractionDto>>;
type PagesFor = (ctx: Ctx, ids: string[], first: number, filter: z.infer<typeof interactionFilter>, after: string | undefined) => Promise<InteractionPages>;

// Parents asking with the same arguments share one statement.
function interactionsOf<T extends { id: string }>(load: PagesFor) {
  return async (queries: LoaderQuery<T>[], ctx: Ctx) => {
    const groups = new Map<string, { first: number; after: string | undefined; filter: z.infer<typeof interactionFilter>; ids: string[] }>();
    const keys = queries.map((q) => {
      const a = parseArgs(pageArgs, given(q.params, 'first', 'after'));
      const filter = parseArgs(interactionFilter, q.params.filter ?? {}, 'filter');
      const key = JSON.stringify([a.first, a.after ?? null, filter]);
      const g = groups.get(key) ?? { first: a.first, after: a.after, filter, ids: [] };
      g.ids.push(q.obj.id);
      groups.set(key, g);
      return key;
    });
    const pages = new Map<string, InteractionPages>();
    for (const [key, g] of groups) pages.set(key, await load(ctx, g.ids, g.first, g.filter, g.after));
    return queries.map((q, i) => connection(pages.get(keys[i] ?? '')?.get(q.obj.id) ?? { data: [], nextCursor: null }));
  };
}

export const contactHistoryLoaders = {
  Opportunity: {
    interactions: interactionsOf<{ id: string }>((ctx, ids, first, filter, after) => ctx.services.contactHistory.listForOpportunities(ctx.principal, ids, first, filter, after)),
  },
  Customer: {
    interactions: interactionsOf<CustomerDto>((ctx, ids, first, filter, after) => ctx.services.contactHistory.listForCustomers(ctx.principal, ids, filter, first, after)),
    timeline: async (queries: LoaderQuery<CustomerDto>[], ctx: Ctx) => {
      const groups = new Map<string, { q: { limit: number; cursor: string | undefined; types: TimelineType[] | undefined }; ids: string[] }>();
      const keys = queries.map((q) => {
        const a = parseArgs(timelineArgs, given(q.params, 'first', 'after', 'types'));
        const key = JSON.stringify([a.first, a.after ?? null, a.types ?? null]);
        const g = groups.get(key) ?? { q: { limit: a.first, cursor: a.after, types: a.types }, ids: [] };
        g.ids.push(q.obj.id);
        groups.set(key, g);
        return key;
      });
      const pages = new Map<string, Awaited<ReturnType<typeof ctx.services.contactHistory.timelines>>>();
      for (const [key, g] of groups) pages.set(key, await ctx.services.contactHistory.timelines(ctx.principal, g.ids, g.q));
      return queries.map((q, i) => connection(pages.get(keys[i] ?? '')?.get(q.obj.id) ?? { data: [], nextCursor: null }));
    },
  },
  Interaction: {
    revisions: async (queries: LoaderQuery<InteractionDto>[], ctx: Ctx) => {
      const byInteraction = await ctx.services.contactHistory.revisionsOf(queries.map((q) => q.obj.id));
      return queries.map((q) => byInteraction.get(q.obj.id) ?? []);
    },
  },
};
