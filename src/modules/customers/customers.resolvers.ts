import { z } from 'zod';
import { connection, type GqlContext, parseArgs } from '../../lib/graphql.js';
import { cursorParam, limitSchema } from '../../lib/pagination.js';
import {
  createContactBody,
  createCustomerBody,
  type CustomerDto,
  freezeBody,
  listCustomersQuery,
  mergeBody,
  patchContactBody,
  patchCustomerBody,
} from './customers.schemas.js';

const idArg = z.object({ id: z.uuid() });
const versionArg = z.number().int().min(1).optional();
const customersArgs = z.object({ first: limitSchema, after: cursorParam.optional(), sort: z.string().max(40).optional() });

type Args = Record<string, unknown>;
type Ctx = GqlContext;

export const customerResolvers = {
  Query: {
    customer: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, args);
      return ctx.services.customers.get(ctx.principal, id);
    },
    customers: async (_: unknown, args: Args, ctx: Ctx) => {
      const { first, after, sort } = parseArgs(customersArgs, { first: args.first ?? undefined, after: args.after ?? undefined, sort: args.sort ?? undefined });
      const filter = parseArgs(listCustomersQuery.omit({ limit: true, cursor: true, sort: true }), args.filter ?? {}, 'filter');
      return connection(await ctx.services.customers.list(ctx.principal, { ...filter, limit: first, cursor: after, sort }));
    },
    contact: async (_: unknown, args: Args, ctx: Ctx) => ctx.services.customers.getContact(ctx.principal, parseArgs(idArg, args).id),
  },
  Mutation: {
    createCustomer: async (_: unknown, args: Args, ctx: Ctx) =>
      ctx.services.customers.create(ctx.principal, parseArgs(createCustomerBody, args.input, 'input'), { allowDuplicate: args.allowDuplicate === true }),
    updateCustomer: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.id });
      return ctx.services.customers.update(ctx.principal, id, parseArgs(patchCustomerBody, args.input, 'input'), parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion'));
    },
    freezeCustomer: async (_: unknown, args: Args, ctx: Ctx) =>
      ctx.services.customers.setFrozen(ctx.principal, parseArgs(idArg, { id: args.id }).id, true, parseArgs(freezeBody, { reason: args.reason ?? undefined })?.reason, parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion')),
    unfreezeCustomer: async (_: unknown, args: Args, ctx: Ctx) =>
      ctx.services.customers.setFrozen(ctx.principal, parseArgs(idArg, { id: args.id }).id, false, undefined, parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion')),
    mergeCustomers: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.id });
      const { duplicateIds } = parseArgs(mergeBody, { duplicateIds: args.duplicateIds });
      return ctx.services.customers.merge(ctx.principal, id, duplicateIds, parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion'));
    },
    createContact: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.customerId });
      return ctx.services.customers.createContact(ctx.principal, id, parseArgs(createContactBody, args.input, 'input'));
    },
    updateContact: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.id });
      return ctx.services.customers.updateContact(ctx.principal, id, parseArgs(patchContactBody, args.input, 'input'), parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion'));
    },
    deleteContact: async (_: unknown, args: Args, ctx: Ctx) => {
      const { id } = parseArgs(idArg, { id: args.id });
      await ctx.services.customers.deleteContact(ctx.principal, id, parseArgs(versionArg, args.expectedVersion ?? undefined, 'expectedVersion'));
      return true;
    },
  },
};

type LoaderQuery = { obj: CustomerDto; params: Args };

// Nested fields are batched per request: one statement per field for the whole page.
export const customerLoaders = {
  Customer: {
    contacts: async (queries: LoaderQuery[], ctx: Ctx) => {
      const byCustomer = await ctx.services.customers.contactsByCustomer(queries.map((q) => q.obj.id));
      return queries.map((q) => byCustomer.get(q.obj.id) ?? []);
    },
    owner: async (queries: LoaderQuery[], ctx: Ctx) => {
      const ids = [...new Set(queries.map((q) => q.obj.ownerUserId).filter((x): x is string => !!x))];
      const users = await ctx.services.org.usersByIds(ctx.principal, ids);
      return queries.map((q) => (q.obj.ownerUserId ? (users.get(q.obj.ownerUserId) ?? null) : null));
    },
    ownerUnit: async (queries: LoaderQuery[], ctx: Ctx) => {
      const units = await ctx.services.org.unitsByIds(ctx.principal, [...new Set(queries.map((q) => q.obj.ownerUnitId))]);
      return queries.map((q) => units.get(q.obj.ownerUnitId) ?? null);
    },
  },
};
