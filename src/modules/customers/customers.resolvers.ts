import { connection, type LoadersOf, parseArgs, parseId, parseInput, parseVersion, related, type Resolvers } from '../../lib/graphql.js';
import {
  createContactBody,
  createCustomerBody,
  createCustomerQuery,
  type ContactDto,
  type CustomerDto,
  freezeBody,
  listCustomersQuery,
  mergeBody,
  patchContactBody,
  patchCustomerBody,
} from './customers.schemas.js';

export const customerResolvers = {
  Query: {
    customer: async (_, args, ctx) => ctx.services.customers.get(ctx.principal, parseId(args.id)),
    customers: async (_, args, ctx) => connection(await ctx.services.customers.list(ctx.principal, parseArgs(listCustomersQuery, args))),
    contact: async (_, args, ctx) => ctx.services.customers.getContact(ctx.principal, parseId(args.id)),
    duplicateCheck: async (_, args, ctx) => ctx.services.customers.duplicateCheck(ctx.principal, parseInput(createCustomerBody, args.input)),
  },
  Mutation: {
    createCustomer: async (_, args, ctx) => {
      const { allowDuplicate } = parseArgs(createCustomerQuery, { allowDuplicate: args.allowDuplicate });
      return ctx.services.customers.create(ctx.principal, parseInput(createCustomerBody, args.input), { allowDuplicate });
    },
    updateCustomer: async (_, args, ctx) =>
      ctx.services.customers.update(ctx.principal, parseId(args.id), parseInput(patchCustomerBody, args.input), parseVersion(args.expectedVersion)),
    freezeCustomer: async (_, args, ctx) => {
      const body = parseArgs(freezeBody, { reason: args.reason });
      return ctx.services.customers.setFrozen(ctx.principal, parseId(args.id), true, body?.reason, parseVersion(args.expectedVersion));
    },
    unfreezeCustomer: async (_, args, ctx) => ctx.services.customers.setFrozen(ctx.principal, parseId(args.id), false, undefined, parseVersion(args.expectedVersion)),
    mergeCustomers: async (_, args, ctx) => {
      const { duplicateIds } = parseArgs(mergeBody, { duplicateIds: args.duplicateIds });
      return ctx.services.customers.merge(ctx.principal, parseId(args.id), duplicateIds, parseVersion(args.expectedVersion));
    },
    createContact: async (_, args, ctx) => ctx.services.customers.createContact(ctx.principal, parseId(args.customerId, 'customerId'), parseInput(createContactBody, args.input)),
    updateContact: async (_, args, ctx) =>
      ctx.services.customers.updateContact(ctx.principal, parseId(args.id), parseInput(patchContactBody, args.input), parseVersion(args.expectedVersion)),
    deleteContact: async (_, args, ctx) => {
      await ctx.services.customers.deleteContact(ctx.principal, parseId(args.id), parseVersion(args.expectedVersion));
      return true;
    },
  },
} satisfies Resolvers;

// Nested fields are batched per request: one statement per field for the whole page.
export const customerLoaders = {
  Customer: {
    contacts: async (queries, ctx) => {
      const byCustomer = await ctx.services.customers.contactsByCustomer(ctx.principal, queries.map((q) => q.obj.id));
      return queries.map((q) => byCustomer.get(q.obj.id) ?? []);
    },
    owner: async (queries, ctx) => {
      const ids = [...new Set(queries.map((q) => q.obj.ownerUserId).filter((x): x is string => !!x))];
      const users = await ctx.services.org.usersByIds(ctx.principal, ids);
      return queries.map((q) => (q.obj.ownerUserId ? (users.get(q.obj.ownerUserId) ?? null) : null));
    },
    viewerCan: async (queries, ctx) => {
      const can = await ctx.services.customers.viewerCanByIds(ctx.principal, [...new Set(queries.map((q) => q.obj.id))]);
      return queries.map((q) => can.get(q.obj.id) ?? null);
    },
    ownerUnit: async (queries, ctx) => {
      const units = await ctx.services.org.unitsByIds(ctx.principal, [...new Set(queries.map((q) => q.obj.ownerUnitId))]);
      return queries.map((q) => units.get(q.obj.ownerUnitId) ?? null);
    },
  } satisfies LoadersOf<'Customer', CustomerDto>,
  Contact: {
    customer: async (queries, ctx) => related(queries, (c) => c.customerId, (ids) => ctx.services.customers.byIds(ctx.principal, ids)),
  } satisfies LoadersOf<'Contact', ContactDto>,
};
