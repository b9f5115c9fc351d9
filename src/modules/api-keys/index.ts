// API keys of machine clients (SERVICE users): created, listed and revoked by admins, presented as
// `Authorization: Bearer keel_…` or `X-API-Key`.
export { apiKeysRoutes } from './api-keys.routes.js';
export { createApiKeyService, type ApiKeyService } from './api-keys.service.js';
export { KEY_PREFIX } from './key-material.js';
export { apiKeysResolvers } from './api-keys.resolvers.js';
