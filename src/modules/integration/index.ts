// The integration module's public surface: the doors of read and upsert by external id (and, later, bulk
// loads). The rules stay in the modules that own the records.
export { integrationRoutes } from './integration.routes.js';
export { integrationResolvers } from './integration.resolvers.js';
export { createIntegrationService, type IntegrationService } from './integration.service.js';
