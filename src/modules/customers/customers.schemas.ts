import { z } from 'zod';
import { pageParams, syncParams } from '../../lib/pagination.js';
import { mergePatchOf } from '../../lib/merge-patch.js';
import { includeParam, queryFlag, safeString, text, timestamp, trimmed } from '../../lib/schemas.js';
import { EXTERNAL_SYSTEM_PATTERN } from '../../lib/external-ids.js';
import { LIFECYCLE_STAGES } from './lifecycle-stages.js';
import { ON_DUPLICATE } from './upsert-rules.js';

export const CUSTOMER_KINDS = ['ORGANIZATION', 'PERSON'] as const;
export { LIFECYCLE_STAGES };
export const CUSTOMER_STATUSES = ['ACTIVE', 'FROZEN', 'MERGED'] as const;
export const SOURCE_CHANNELS = ['MEDIA', 'WEBSITE', 'EVENT', 'REFERRAL', 'SALES_PROSPECTING', 'PARTNER', 'IMPORT', 'OTHER'] as const;
export const CUSTOMER_ROLES = ['BUYER', 'SUPPLIER', 'DISTRIBUTOR', 'AGENT', 'COMPETITOR', 'PARTNER', 'OTHER'] as const;
export const VALUE_CLASSES = ['A', 'B', 'C'] as const;
export const CREDIT_STATUSES = ['GOOD', 'WATCH', 'BLOCKED'] as const;
export const CHURN_RISKS = ['NONE', 'WATCH', 'HIGH'] as const;
export const DECISION_ROLES = ['DECISION_MAKER', 'INFLUENCER', 'USER', 'GATEKEEPER', 'TECHNICAL', 'OTHER'] as const;

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);

// One rule, so one error for one bad phone: the characters of a phone number, at least three of them digits.
export const phone = safeString()
  .trim()
  .regex(/^(?=(?:\D*\d){3})\+?[\d\s().\-/]{3,40}$/, 'not a phone number');
export const email = z.email().max(320);

export const addressSchema = z
  .object({
    line1: safeString().max(300).optional(),
    line2: safeString().max(300).optional(),
    city: safeString().max(200).optional(),
    postalCode: safeString().max(40).optional(),
    region: safeString().max(200).optional(),
    country: safeString().max(100).optional(),
  })
  .strict()
  .meta({ id: 'Address' });

// A plain string is accepted as the first address line.
const addressInput = z.union([safeString().max(300).transform((line1) => ({ line1 })), addressSchema]);

export const sourceSchema = z
  .object({
    channel: z.preprocess(upper, z.enum(SOURCE_CHANNELS)),
    campaign: safeString().max(200).nullish(),
    referrerCustomerId: z.uuid().nullish(),
    detail: safeString().max(2000).nullish(),
  })
  .strict();

// api.md §2 Integration: a system is named by a lower-case letter, then up to 31 of a-z 0-9 _ -.
export const systemName = z.string().regex(EXTERNAL_SYSTEM_PATTERN, 'system names match ^[a-z][a-z0-9_-]{0,31}$');
export const externalIdValue = safeString().min(1).max(200);
// Money as a decimal string (never a float): up to 16 integer digits and 2 decimals.
export const creditLimitValue = z.string().regex(/^\d{1,16}(\.\d{1,2})?$/, 'a non-negative decimal string with at most 16 integer digits and 2 decimals, e.g. "50000.00"');
export const creditCurrencyValue = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code: three capital letters');
export const externalIdsSchema = z.record(systemName, externalIdValue);
const externalIds = externalIdsSchema;

const writable = {
  name: trimmed(300),
  registrationId: text(100).nullish(),
  phones: z.array(phone).max(20),
  emails: z.array(email).max(20),
  website: text(500).nullish(),
  industry: text(200).nullish(),
  region: text(200).nullish(),
  address: addressInput.nullish(),
  roles: z.array(z.preprocess(upper, z.enum(CUSTOMER_ROLES))).max(10),
  source: sourceSchema.nullish(),
  creditStatus: z.preprocess(upper, z.enum(CREDIT_STATUSES)).nullish(),
  creditLimit: creditLimitValue.nullish(),
  creditCurrency: creditCurrencyValue.nullish(),
  externalIds,
  ownerUserId: z.uuid(),
  ownerUnitId: z.uuid(),
};

export const createCustomerBody = z
  .object({
    kind: z.preprocess(upper, z.enum(CUSTOMER_KINDS)),
    ...writable,
    phones: writable.phones.optional(),
    emails: writable.emails.optional(),
    roles: writable.roles.optional(),
    externalIds: externalIds.optional(),
    ownerUserId: writable.ownerUserId.optional(),
    ownerUnitId: writable.ownerUnitId.optional(),
    lifecycleStage: z.preprocess(upper, z.enum(LIFECYCLE_STAGES)).optional(),
  })
  .strict()
  .meta({ id: 'CustomerCreate' });
export type CreateCustomerInput = z.infer<typeof createCustomerBody>;

const lifecycleNotHere = z
  .never({ error: 'changes only through POST /v1/customers/{id}/lifecycle-transitions' })
  .optional();
const statusNotHere = z.never({ error: 'changes only through /freeze, /unfreeze and /merge' }).optional();

// The patch forms of the nested objects (merged by the service, the result validated as on create).
const ADDRESS_KEYS = Object.keys(addressSchema.shape) as (keyof typeof addressSchema.shape)[];
const addressPatch = z.union([
  // A plain string is the whole address, as on create: the other lines go.
  safeString()
    .max(300)
    .transform((line1) => ({ ...Object.fromEntries(ADDRESS_KEYS.map((k) => [k, null])), line1 })),
  mergePatchOf(addressSchema),
]);
const sourcePatch = mergePatchOf(sourceSchema);
export const externalIdsPatchSchema = z.record(systemName, externalIdValue.nullable());
const externalIdsPatch = externalIdsPatchSchema;

// JSON merge patch: absent = unchanged, null = cleared; nested objects merge key by key.
export const patchCustomerBody = z
  .object({
    kind: z.preprocess(upper, z.enum(CUSTOMER_KINDS)).optional(),
    name: writable.name.optional(),
    registrationId: writable.registrationId,
    phones: writable.phones.optional(),
    emails: writable.emails.optional(),
    website: writable.website,
    industry: writable.industry,
    region: writable.region,
    address: addressPatch.nullish(),
    roles: writable.roles.optional(),
    source: sourcePatch.nullish(),
    creditStatus: writable.creditStatus,
    creditLimit: writable.creditLimit,
    creditCurrency: writable.creditCurrency,
    externalIds: externalIdsPatch.nullish(),
    ownerUserId: z.uuid().nullish(),
    ownerUnitId: z.uuid().optional(),
    lifecycleStage: lifecycleNotHere,
    status: statusNotHere,
  })
  .strict()
  .meta({ id: 'CustomerPatch' });
export type PatchCustomerInput = z.infer<typeof patchCustomerBody>;

// PUT …/external/{system}/{externalId}: a merge patch of the record, or its create body when it is absent
// (then `name` and `kind` are required). The lifecycle stage applies to a create; on a stored record it may
// only repeat the stored stage.
export const upsertCustomerBody = patchCustomerBody
  .extend({ lifecycleStage: z.preprocess(upper, z.enum(LIFECYCLE_STAGES)).optional() })
  .strict()
  .meta({ id: 'CustomerUpsert' });
export type UpsertCustomerInput = z.infer<typeof upsertCustomerBody>;

export const externalParams = z.object({ system: systemName, externalId: externalIdValue }).strict();
export const upsertQuery = z.object({ onDuplicate: z.enum(ON_DUPLICATE).optional() }).strict();
// `?externalId=system:id` on a list: the record holding that id, if the caller sees it.
export const externalIdFilter = z
  .string()
  .max(240)
  .regex(/^[a-z][a-z0-9_-]{0,31}:[^\u0000-\u001F\u007F]{1,200}$/, 'system:id, e.g. erp:C-1001')
  .transform((v) => {
    const at = v.indexOf(':');
    return { system: v.slice(0, at), externalId: v.slice(at + 1) };
  });

/** What the caller may do with the record: each answer is what the write's own checks would decide now. */
export const customerViewerCanSchema = z
  .object({
    update: z.boolean(),
    freeze: z.boolean(),
    merge: z.boolean(),
    transition: z.boolean(),
    share: z.boolean(),
    createOpportunity: z.boolean(),
    recordInteraction: z.boolean(),
    createContact: z.boolean(),
  })
  .meta({ id: 'CustomerViewerCan' });

export const customerSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(CUSTOMER_KINDS),
    name: z.string(),
    registrationId: z.string().nullable().optional(),
    phones: z.array(z.string()),
    emails: z.array(z.string()),
    website: z.string().nullable(),
    industry: z.string().nullable(),
    region: z.string().nullable(),
    address: addressSchema.nullable(),
    roles: z.array(z.string()),
    lifecycleStage: z.enum(LIFECYCLE_STAGES),
    status: z.enum(CUSTOMER_STATUSES),
    source: z
      .object({ channel: z.string(), campaign: z.string().nullable(), referrerCustomerId: z.uuid().nullable(), detail: z.string().nullable() })
      .nullable(),
    creditStatus: z.enum(CREDIT_STATUSES).nullable().optional(),
    creditLimit: z.string().nullable().optional(),
    creditCurrency: z.string().nullable().optional(),
    valueClass: z.enum(VALUE_CLASSES).nullable().optional(),
    // Computed by the value module: 0–100 (a decimal number with two places) and NONE/WATCH/HIGH.
    valueScore: z.number().nullable().optional(),
    churnRisk: z.enum(CHURN_RISKS).nullable().optional(),
    externalIds: z.record(z.string(), z.string()).optional(),
    ownerUserId: z.uuid().nullable(),
    ownerUnitId: z.uuid(),
    mergedIntoId: z.uuid().nullable(),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
    // Only with ?include=viewerCan.
    viewerCan: customerViewerCanSchema.optional(),
  })
  .meta({ id: 'Customer' });
export type CustomerDto = z.infer<typeof customerSchema>;

export const CUSTOMER_SORTS = ['createdAt', 'updatedAt', 'name', 'valueScore', 'churnRisk'] as const;

export const listCustomersQuery = z
  .object({
    ...pageParams,
    sort: safeString().max(40).optional(),
    q: trimmed(200).optional(),
    lifecycleStage: z.preprocess(upper, z.enum(LIFECYCLE_STAGES)).optional(),
    // ALL: every status, frozen and merged too (what a sync reads).
    status: z.preprocess(upper, z.enum([...CUSTOMER_STATUSES, 'ALL'])).optional(),
    ownerUnitId: z.uuid().optional(),
    ownerUserId: z.uuid().optional(),
    externalId: externalIdFilter.optional(),
    source: z.preprocess(upper, z.enum(SOURCE_CHANNELS)).optional(),
    valueClass: z.preprocess(upper, z.enum(VALUE_CLASSES)).optional(),
    churnRisk: z.preprocess(upper, z.enum(CHURN_RISKS)).optional(),
    kind: z.preprocess(upper, z.enum(CUSTOMER_KINDS)).optional(),
    updatedAfter: timestamp.optional(),
  })
  .strict();
export type ListCustomersQuery = z.infer<typeof listCustomersQuery>;

export const readCustomerQuery = z.object({ include: includeParam(['viewerCan']).optional() }).strict();

const duplicateCandidateSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    lifecycleStage: z.string(),
    ownerUserId: z.uuid().nullable(),
    ownerUnitId: z.uuid(),
    matchedOn: z.array(z.string()),
  })
  .meta({ id: 'DuplicateCandidate' });
const protectedMatchSchema = z
  .object({ matchedOn: z.array(z.string()), contactUnitId: z.string(), contactUnitName: z.string() })
  .meta({ id: 'ProtectedMatch' });
const claimedMatchSchema = z
  .object({ contactUnitId: z.string(), contactUnitName: z.string() })
  .meta({ id: 'ClaimedMatch', description: 'A match protected by an approved claim: a create would answer 409 CLAIMED; only whom to ask' });
/** What a create with the same body would find: the refused create's `candidates` and `protectedMatches`, and whether a claim protects a match. */
export const duplicateCheckSchema = z
  .object({ candidates: z.array(duplicateCandidateSchema), protectedMatches: z.array(protectedMatchSchema), claimed: claimedMatchSchema.nullable() })
  .meta({ id: 'DuplicateCheck' });
export type DuplicateCheckDto = z.infer<typeof duplicateCheckSchema>;

export const createCustomerQuery = z.object({ allowDuplicate: queryFlag.optional() }).strict();

export const freezeBody = z.object({ reason: text(2000).optional() }).strict().nullish();
export const mergeBody = z.object({ duplicateIds: z.array(z.uuid()).min(1).max(20) }).strict();

export const contactSchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    name: z.string(),
    title: z.string().nullable(),
    decisionRole: z.enum(DECISION_ROLES),
    phones: z.array(z.string()),
    emails: z.array(z.string()),
    externalIds: z.record(z.string(), z.string()).optional(),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Contact' });
export type ContactDto = z.infer<typeof contactSchema>;

export const createContactBody = z
  .object({
    name: trimmed(300),
    title: text(200).nullish(),
    decisionRole: z.preprocess(upper, z.enum(DECISION_ROLES)).optional(),
    phones: z.array(phone).max(20).optional(),
    emails: z.array(email).max(20).optional(),
    externalIds: externalIdsSchema.optional(),
  })
  .strict()
  .meta({ id: 'ContactCreate' });
export type CreateContactInput = z.infer<typeof createContactBody>;

export const patchContactBody = z
  .object({
    name: trimmed(300).optional(),
    title: text(200).nullish(),
    decisionRole: z.preprocess(upper, z.enum(DECISION_ROLES)).optional(),
    phones: z.array(phone).max(20).optional(),
    emails: z.array(email).max(20).optional(),
    externalIds: externalIdsPatch.nullish(),
  })
  .strict()
  .meta({ id: 'ContactPatch' });
export type PatchContactInput = z.infer<typeof patchContactBody>;

// A record's customer named by the customer's own external id (bulk rows, upserts of contacts and orders).
export const customerRefSchema = z.object({ system: systemName, externalId: externalIdValue }).strict().meta({ id: 'ExternalCustomerRef' });

// PUT /v1/contacts/external/{system}/{externalId}: a merge patch of the contact, or its create body when it is
// absent — then with its customer, by `customerId` or by `customer: { system, externalId }`.
export const upsertContactBody = patchContactBody
  .extend({ customerId: z.uuid().optional(), customer: customerRefSchema.optional() })
  .strict()
  .meta({ id: 'ContactUpsert' });
export type UpsertContactInput = z.infer<typeof upsertContactBody>;

// A customer's contact persons, oldest first; a sync reads them by updatedAt after an instant.
export const listContactsQuery = z.object({ ...pageParams, ...syncParams }).strict();
export type ListContactsQuery = z.infer<typeof listContactsQuery>;

export const CONTACT_SORTS = ['createdAt', 'updatedAt'] as const;
// GET /v1/contacts: every visible contact person, for a sync (`updatedAfter`, `sort=updatedAt`) or by external id.
export const listAllContactsQuery = z
  .object({
    ...pageParams,
    sort: safeString().max(40).optional(),
    customerId: z.uuid().optional(),
    updatedAfter: timestamp.optional(),
    externalId: externalIdFilter.optional(),
  })
  .strict();
export type ListAllContactsQuery = z.infer<typeof listAllContactsQuery>;
