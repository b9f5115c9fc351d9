// The audit trail as the API answers it: GET /v1/audit.
export { auditRoutes } from './audit.routes.js';
export { createAuditService, type AuditService } from './audit.service.js';
export { auditResolvers } from './audit.resolvers.js';
