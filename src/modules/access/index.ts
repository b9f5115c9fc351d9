// The access module's public surface: explaining the visibility rule (GET /v1/access/explain).
export { accessRoutes } from './access.routes.js';
export { accessLoaders, accessResolvers } from './access.resolvers.js';
export { createAccessService, type AccessService } from './access.service.js';
