// The opportunities module's public surface: pipelines, opportunities and their gated stage
// transitions. Other modules move open opportunities in a transfer or a merge, and count them, through here.
import type { Executor } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import type { Move } from '../customers/index.js';
import { opportunitiesRepository } from './opportunities.repository.js';

export { opportunitiesRoutes } from './opportunities.routes.js';
export { opportunitiesLoaders, opportunitiesResolvers } from './opportunities.resolvers.js';
export { createOpportunityService, type OpportunityCreateGuard, type OpportunityService } from './opportunities.service.js';
export { DEFAULT_STAGES } from './gates.js';
export type { OpportunityDto } from './opportunities.schemas.js';

export const transferOpenOpportunities = (tx: Executor, m: Move): Promise<number> => opportunitiesRepository.transferOpen(tx, m);
export const openOpportunityCount = (ex: Executor, userId: string): Promise<number> => opportunitiesRepository.openCountOf(ex, userId);
export const repointOpportunities = (tx: Executor, p: Principal, fromId: string, toId: string) => opportunitiesRepository.repointToCustomer(tx, p, fromId, toId);
