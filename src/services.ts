import type { AccessService } from './modules/access/index.js';
import type { ActionService } from './modules/actions/index.js';
import type { ApiKeyService } from './modules/api-keys/index.js';
import type { AuditService } from './modules/audit/index.js';
import type { AllocationService } from './modules/allocation/index.js';
import type { ClaimService } from './modules/claims/index.js';
import type { ContactHistoryService } from './modules/contact-history/index.js';
import type { CustomerService } from './modules/customers/index.js';
import type { DeliveryEngine, EventService, LiveEvents, NatsPublisher, WebhookService } from './modules/events/index.js';
import type { LifecycleService } from './modules/lifecycle/index.js';
import type { OpportunityService } from './modules/opportunities/index.js';
import type { OrderService } from './modules/orders/index.js';
import type { OrgService } from './modules/org/index.js';
import type { ReportService } from './modules/reports/index.js';
import type { IntegrationService } from './modules/integration/index.js';
import type { PlanService } from './modules/plans/index.js';
import type { ValueService } from './modules/value/index.js';

// The services both doors call, one per module; built by app.ts, typed here so plugins need not import the app.
export type Services = {
  customers: CustomerService;
  org: OrgService;
  contactHistory: ContactHistoryService;
  lifecycle: LifecycleService;
  opportunities: OpportunityService;
  actions: ActionService;
  reports: ReportService;
  apiKeys: ApiKeyService;
  audit: AuditService;
  integration: IntegrationService;
  plans: PlanService;
  access: AccessService;
  claims: ClaimService;
  allocation: AllocationService;
  orders: OrderService;
  events: EventService;
  webhooks: WebhookService;
  webhookDelivery: DeliveryEngine;
  // GraphQL subscriptions to the feed, woken by the outbox's notifications.
  liveEvents: LiveEvents;
  // Present when EVENTS_NATS_URL is set.
  natsPublisher: NatsPublisher | null;
  value: ValueService;
};
