import { connection, type LoadersOf, parseArgs, parseId, parseInput, type Resolvers } from '../../lib/graphql.js';
import type { CustomerDto } from '../customers/index.js';
import { createClaimBody, decideClaimBody, listClaimsQuery } from './claims.schemas.js';

export const claimsResolvers = {
  Query: {
    claims: async (_, args, ctx) => connection(await ctx.services.claims.listClaims(ctx.principal, parseArgs(listClaimsQuery, args))),
    claim: async (_, args, ctx) => ctx.services.claims.getClaim(ctx.principal, parseId(args.id)),
  },
  Mutation: {
    createClaim: async (_, args, ctx) => ctx.services.claims.createClaim(ctx.principal, parseInput(createClaimBody, args.input)),
    approveClaim: async (_, args, ctx) => {
      const { reason } = parseArgs(decideClaimBody, { reason: args.reason });
      return ctx.services.claims.approve(ctx.principal, parseId(args.id), reason);
    },
    rejectClaim: async (_, args, ctx) => {
      const { reason } = parseArgs(decideClaimBody, { reason: args.reason });
      return ctx.services.claims.reject(ctx.principal, parseId(args.id), reason);
    },
  },
} satisfies Resolvers;

// Customer.claims: the claims on each customer the caller sees (its own and those below it), batched.
export const claimsLoaders = {
  Customer: {
    claims: async (queries, ctx) => {
      const by = await ctx.services.claims.claimsByCustomers(ctx.principal, [...new Set(queries.map((q) => q.obj.id))]);
      return queries.map((q) => by.get(q.obj.id) ?? []);
    },
  } satisfies LoadersOf<'Customer', CustomerDto>,
};
