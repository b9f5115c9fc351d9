import { connection, parseArgs, parseInput, parseVersion, type Resolvers, underInput } from '../../lib/graphql.js';
import { externalParams, listAllContactsQuery, upsertContactBody, upsertCustomerBody, upsertQuery } from '../customers/index.js';
import { upsertOpportunityBody } from '../opportunities/index.js';

// The GraphQL door of read and upsert by external id: the same services, the same validation as REST.
const byExternalId = (args: { system: string; externalId: string }) => parseArgs(externalParams, { system: args.system, externalId: args.externalId });
const contactsQuery = listAllContactsQuery;

export const integrationResolvers = {
  Query: {
    customerByExternalId: async (_, args, ctx) => {
      const x = byExternalId(args);
      return ctx.services.customers.getByExternalId(ctx.principal, x.system, x.externalId);
    },
    contactByExternalId: async (_, args, ctx) => {
      const x = byExternalId(args);
      return ctx.services.customers.getContactByExternalId(ctx.principal, x.system, x.externalId);
    },
    opportunityByExternalId: async (_, args, ctx) => {
      const x = byExternalId(args);
      return ctx.services.opportunities.externalOpportunities.getByExternalId(ctx.principal, x.system, x.externalId);
    },
    contacts: async (_, args, ctx) => connection(await ctx.services.customers.listAllContacts(ctx.principal, parseArgs(contactsQuery, args))),
  },
  Mutation: {
    upsertCustomerByExternalId: async (_, args, ctx) => {
      const x = byExternalId(args);
      const { onDuplicate } = parseArgs(upsertQuery, { onDuplicate: args.onDuplicate });
      const u = await underInput(() => ctx.services.customers.upsertByExternalId(ctx.principal, x.system, x.externalId, parseInput(upsertCustomerBody, args.input), {
        expectedVersion: parseVersion(args.expectedVersion),
        onDuplicate,
      }));
      return { status: u.status, customer: u.record };
    },
    upsertContactByExternalId: async (_, args, ctx) => {
      const x = byExternalId(args);
      const u = await underInput(() => ctx.services.customers.upsertContactByExternalId(ctx.principal, x.system, x.externalId, parseInput(upsertContactBody, args.input), { expectedVersion: parseVersion(args.expectedVersion) }));
      return { status: u.status, contact: u.record };
    },
    upsertOpportunityByExternalId: async (_, args, ctx) => {
      const x = byExternalId(args);
      const u = await underInput(() => ctx.services.opportunities.externalOpportunities.upsertByExternalId(ctx.principal, x.system, x.externalId, parseInput(upsertOpportunityBody, args.input), {
        expectedVersion: parseVersion(args.expectedVersion),
      }));
      return { status: u.status, opportunity: u.record };
    },
  },
} satisfies Resolvers;
