// The orders module's public surface: orders from the integrated systems (domain.md §8), their
// lines, status chain and external ids. A merge moves a duplicate's orders through here.
import type { Executor } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { ordersRepository } from './orders.repository.js';

export { ordersRoutes } from './orders.routes.js';
export { ordersLoaders, ordersResolvers } from './orders.resolvers.js';
export { createOrderService, type OrderService } from './orders.service.js';
export { type OrderDto, upsertOrderBody } from './orders.schemas.js';

export const repointOrders = async (tx: Executor, p: Principal, fromId: string, toId: string) => ({
  orders: await ordersRepository.repointToCustomer(tx, p, fromId, toId),
});
export { type BulkOrderItem } from './orders.bulk.js';
