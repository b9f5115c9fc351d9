// The allocation module's public surface: allocation rules and their application to new leads.
export { allocationRoutes } from './allocation.routes.js';
export { allocationLoaders, allocationResolvers } from './allocation.resolvers.js';
export { type AllocationService, createAllocationService } from './allocation.service.js';
