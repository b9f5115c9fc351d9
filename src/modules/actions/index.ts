// The actions module's public surface: key actions and the agenda. Other modules create an
// escalation's action, move actions in a transfer or a merge, and count open ones, through here.
import type { Executor } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import type { Move } from '../customers/index.js';
import { actionsRepository } from './actions.repository.js';

export { actionsRoutes } from './actions.routes.js';
export { actionsLoaders, actionsResolvers } from './actions.resolvers.js';
export { type ActionService, createActionService, createAllocationAction, createEscalationAction } from './actions.service.js';

export const transferOpenActions = (tx: Executor, m: Move, assignee: { id: string; unitId: string }): Promise<number> => actionsRepository.transferOpen(tx, m, assignee);
export const openActionCount = (ex: Executor, userId: string): Promise<number> => actionsRepository.openCountOf(ex, userId);
export const repointActions = async (tx: Executor, p: Principal, fromId: string, toId: string) => ({ actions: await actionsRepository.repointToCustomer(tx, p, fromId, toId) });
export { type AlertKind, closeAlertActions, createAlertActions } from './alerts.js';
