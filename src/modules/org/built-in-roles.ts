import { SCOPES, type Scope, SCOPE_RANK, permits } from '../../lib/permissions.js';

export { SCOPES, type Scope, SCOPE_RANK, permits };

export const RESOURCES = [
  'org-units',
  'users',
  'roles',
  'customers',
  'contacts',
  'shares',
  'delegations',
  'transfers',
  'interactions',
  'opportunities',
  'pipelines',
  'actions',
  'orders',
  'reports',
  'plans',
  'integration',
  'webhooks',
  'events',
  'api-keys',
  'audit',
  'claims',
  'allocation-rules',
  'value-model',
] as const;
export const ACTIONS = ['read', 'create', 'update', 'delete', 'freeze', 'merge', 'approve'] as const;

// Field-level security: names a role may hide.
export const HIDEABLE_FIELDS = [
  'customer.creditStatus',
  'customer.creditLimit',
  'customer.creditCurrency',
  'customer.valueClass',
  'customer.externalIds',
  'customer.registrationId',
  'contact.externalIds',
  'opportunity.externalIds',
  'customer.valueScore',
  'customer.churnRisk',
] as const;

const crm = (...actions: string[]) =>
  ['customers', 'contacts', 'interactions', 'opportunities', 'actions'].flatMap((r) => actions.map((a) => `${r}:${a}`));

// The company's system fields (external ids, credit, value) are not a partner's business: the
// built-in partner roles hide them by default (admins may change that per role).
export const PARTNER_HIDDEN = [
  'customer.creditStatus',
  'customer.creditLimit',
  'customer.creditCurrency',
  'customer.externalIds',
  'customer.valueClass',
  'contact.externalIds',
  'opportunity.externalIds',
  'customer.valueScore',
  'customer.churnRisk',
];

// What a head of a unit does, the company's own (manager) or a partner's (partner_manager).
const HEAD_OF_UNIT = [
  ...crm('read', 'create', 'update', 'delete', 'freeze', 'merge'),
  'orders:read',
  'org-units:read',
  'users:read',
  'pipelines:read',
  'shares:create',
  'shares:delete',
  'delegations:read',
  'delegations:create',
  'delegations:delete',
  'transfers:create',
  'reports:read',
  'plans:read',
  'plans:create',
  // Deal registration: a head approves or rejects the claims of the people below it.
  'claims:read',
  'claims:create',
  'claims:approve',
  'allocation-rules:read',
  'allocation-rules:create',
  'allocation-rules:update',
  'allocation-rules:delete',
];
// Who works leads registers them (claims) and reads the allocation rules that route them.
const REGISTRANT = ['claims:read', 'claims:create', 'allocation-rules:read'];
const OWN_BOOK = ['orders:read', 'org-units:read', 'users:read', 'pipelines:read', 'delegations:read', 'delegations:create', 'delegations:delete'];

export type BuiltInRole = { name: string; scope: Scope; permissions: string[]; hiddenFields: string[] };

// Names and scopes are fixed; permissions and hidden fields are editable by admins.
export const BUILT_IN_ROLES: BuiltInRole[] = [
  { name: 'admin', scope: 'ALL', permissions: ['*:*'], hiddenFields: [] },
  { name: 'executive', scope: 'ALL', permissions: ['*:read'], hiddenFields: [] },
  {
    name: 'manager',
    scope: 'SUBTREE',
    permissions: [...HEAD_OF_UNIT, 'roles:read'],
    hiddenFields: [],
  },
  {
    name: 'marketing',
    scope: 'SUBTREE',
    permissions: [...crm('read', 'create', 'update'), 'orders:read', 'org-units:read', 'users:read', 'pipelines:read', 'reports:read', 'shares:create', 'shares:delete', ...REGISTRANT],
    hiddenFields: ['customer.creditStatus', 'customer.creditLimit', 'customer.creditCurrency'],
  },
  {
    name: 'sales',
    scope: 'OWN',
    permissions: [...crm('read', 'create', 'update'), ...OWN_BOOK, ...REGISTRANT],
    hiddenFields: [],
  },
  {
    name: 'service',
    scope: 'UNIT',
    permissions: [...crm('read', 'update'), 'orders:read', 'interactions:create', 'actions:create', 'contacts:create', 'org-units:read', 'users:read'],
    hiddenFields: ['customer.valueClass', 'customer.valueScore'],
  },
  {
    name: 'partner_manager',
    scope: 'SUBTREE',
    // A partner portal's back end reads its own partner's events and subscribes to them (api.md §4).
    permissions: [...HEAD_OF_UNIT, 'events:read', 'webhooks:*'],
    hiddenFields: PARTNER_HIDDEN,
  },
  {
    name: 'partner_sales',
    scope: 'OWN',
    permissions: [...crm('read', 'create', 'update'), ...OWN_BOOK, ...REGISTRANT],
    hiddenFields: PARTNER_HIDDEN,
  },
  {
    name: 'integration',
    scope: 'ALL',
    permissions: [...crm('read', 'create', 'update'), 'orders:read', 'orders:create', 'orders:update', 'integration:*', 'org-units:read', 'users:read', 'pipelines:read', 'events:read', 'webhooks:*'],
    hiddenFields: [],
  },
];

export const BUILT_IN_NAMES = new Set(BUILT_IN_ROLES.map((r) => r.name));

