// The plans module's public surface: sales targets decomposed backwards through the measured funnel.
export { plansRoutes } from './plans.routes.js';
export { plansLoaders, plansResolvers } from './plans.resolvers.js';
export { createPlanService, type PlanService } from './plans.service.js';
