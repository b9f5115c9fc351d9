// The events module's public surface: the change feed, its catalogue, webhooks and the outward publishers.
export { eventsRoutes } from './events.routes.js';
export { eventsResolvers } from './events.resolvers.js';
export { createEventService, type EventService } from './events.service.js';
export { DATA_SCHEMAS, EVENT_TYPE_NAMES, EVENT_TYPES, type EventType } from './catalogue.js';
export { eventWebhooksDocument } from './catalogue.openapi.js';
export { webhooksRoutes } from './webhooks.routes.js';
export { createWebhookService, type WebhookService } from './webhooks.service.js';
export { createDeliveryEngine, type DeliveryEngine } from './webhooks.delivery.js';
export { createNatsPublisher, type NatsPublisher } from './nats.publisher.js';
export { createLiveEvents, type LiveEvents, LIVE_CHANNEL } from './live.js';
