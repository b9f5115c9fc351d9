// The lifecycle module's public surface: lifecycle transitions through the API, lead handoffs
// with deadlines and their escalation.
import type { Executor } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { lifecycleRepository } from './lifecycle.repository.js';

export { lifecycleRoutes } from './lifecycle.routes.js';
export { lifecycleLoaders, lifecycleResolvers } from './lifecycle.resolvers.js';
export { createLifecycleService, type EscalationScheduler, type LifecycleService } from './lifecycle.service.js';

export const repointHandoffs = (tx: Executor, p: Principal, fromId: string, toId: string) => lifecycleRepository.repointToCustomer(tx, p, fromId, toId);
