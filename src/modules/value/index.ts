// The value module's public surface: customer value (scores, classes, churn risk), costs, the
// reference effect, the value model and the value reports. Other modules that change an input of a
// customer's value (orders, opportunities, credit) call recomputeCustomers in their own transaction.
export { valueRoutes } from './value.routes.js';
export { valueLoaders, valueResolvers } from './value.resolvers.js';
export { createValueService, recomputeCustomers, type ValueService } from './value.service.js';
export { VALUE_CAUSES, type ValueCause } from './value.recompute.js';
