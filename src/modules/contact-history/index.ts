// The contact-history module's public surface: interactions, their revisions and the timeline.
import type { Executor } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { contactHistoryRepository } from './contact-history.repository.js';

export { contactHistoryRoutes } from './contact-history.routes.js';
export { contactHistoryLoaders, contactHistoryResolvers } from './contact-history.resolvers.js';
export { type ContactHistoryService, createContactHistoryService } from './contact-history.service.js';

export const repointInteractions = async (tx: Executor, p: Principal, fromId: string, toId: string) => ({
  interactions: await contactHistoryRepository.repointToCustomer(tx, p, fromId, toId),
});
