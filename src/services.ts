import type { AccessService } from './modules/access/index.js';
import type { ActionService } from './modules/actions/index.js';
import type { AllocationService } from './modules/allocation/index.js';
import type { ClaimService } from './modules/claims/index.js';
import type { ContactHistoryService } from './modules/contact-history/index.js';
import type { CustomerService } from './modules/customers/index.js';
import type { LifecycleService } from './modules/lifecycle/index.js';
import type { OpportunityService } from './modules/opportunities/index.js';
import type { OrderService } from './modules/orders/index.js';
import type { OrgService } from './modules/org/index.js';
import type { ReportService } from './modules/reports/index.js';
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
  access: AccessService;
  claims: ClaimService;
  allocation: AllocationService;
  orders: OrderService;
  value: ValueService;
};
