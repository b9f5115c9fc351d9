// The claims module's public surface: deal registration (claims), their approval and expiry, and the
// protection hooks the customers and opportunities services call on create (wired in app.ts).
export { claimsRoutes } from './claims.routes.js';
export { claimsLoaders, claimsResolvers } from './claims.resolvers.js';
export { createClaimService, type ClaimExpiryScheduler, type ClaimService, toClaimDto } from './claims.service.js';
export { lowestCommonUnit, refusedBy } from './protection.js';
