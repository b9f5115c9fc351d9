import { z } from 'zod';
import { countParam, pageParams, syncParams } from '../../lib/pagination.js';
import { queryFlag, timestamp, trimmed } from '../../lib/schemas.js';
import { HIDEABLE_FIELDS, SCOPES } from './built-in-roles.js';

export const UNIT_KINDS = ['HEADQUARTERS', 'REGION', 'BRANCH', 'DEPARTMENT', 'PARTNER'] as const;
export const PARTNER_TYPES = ['AGENT', 'DISTRIBUTOR', 'RESELLER', 'SERVICE_PROVIDER'] as const;
export const USER_KINDS = ['HUMAN', 'SERVICE'] as const;

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);

export const orgUnitSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(UNIT_KINDS),
    partnerType: z.enum(PARTNER_TYPES).nullable(),
    parentId: z.uuid().nullable(),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'OrgUnit' });
export type OrgUnitDto = z.infer<typeof orgUnitSchema>;

export const createOrgUnitBody = z
  .object({
    name: trimmed(200),
    kind: z.preprocess(upper, z.enum(['REGION', 'BRANCH', 'DEPARTMENT', 'PARTNER'], { error: 'one of REGION, BRANCH, DEPARTMENT, PARTNER (there is one HEADQUARTERS)' })),
    partnerType: z.preprocess(upper, z.enum(PARTNER_TYPES)).nullish(),
    parentId: z.uuid(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.kind === 'PARTNER' && !v.partnerType) ctx.addIssue({ code: 'custom', path: ['partnerType'], message: 'required for a PARTNER unit' });
    if (v.kind !== 'PARTNER' && v.partnerType) ctx.addIssue({ code: 'custom', path: ['partnerType'], message: 'only a PARTNER unit has a partner type' });
  })
  .meta({ id: 'OrgUnitCreate' });
export type CreateOrgUnitInput = z.infer<typeof createOrgUnitBody>;

export const patchOrgUnitBody = z
  .object({
    name: trimmed(200).optional(),
    partnerType: z.preprocess(upper, z.enum(PARTNER_TYPES)).optional(),
    parentId: z.uuid().optional(),
    kind: z.never({ error: 'the kind of a unit is fixed' }).optional(),
  })
  .strict()
  .meta({ id: 'OrgUnitPatch' });
export type PatchOrgUnitInput = z.infer<typeof patchOrgUnitBody>;

const roleName = z.string().regex(/^[a-z][a-z0-9_]{1,49}$/, 'lower-case letters, digits and _, 2-50 characters');
const permission = z.string().regex(/^(\*|[a-z][a-z-]*):(\*|[a-z]+)$/, 'resource:action, e.g. customers:read');

export const roleSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    scope: z.enum(SCOPES),
    permissions: z.array(z.string()),
    hiddenFields: z.array(z.string()),
    builtIn: z.boolean(),
    version: z.number().int(),
    createdAt: timestamp,
    // Moves on every change of the role (name, scope, permissions, hidden fields).
    updatedAt: timestamp,
  })
  .meta({ id: 'Role' });
export type RoleDto = z.infer<typeof roleSchema>;

export const createRoleBody = z
  .object({
    name: roleName,
    scope: z.preprocess(upper, z.enum(SCOPES)),
    permissions: z.array(permission).max(200),
    hiddenFields: z.array(z.enum(HIDEABLE_FIELDS)).max(20).optional(),
  })
  .strict()
  .meta({ id: 'RoleCreate' });
export type CreateRoleInput = z.infer<typeof createRoleBody>;

export const patchRoleBody = z
  .object({
    name: roleName.optional(),
    scope: z.preprocess(upper, z.enum(SCOPES)).optional(),
    permissions: z.array(permission).max(200).optional(),
    hiddenFields: z.array(z.enum(HIDEABLE_FIELDS)).max(20).optional(),
  })
  .strict()
  .meta({ id: 'RolePatch' });
export type PatchRoleInput = z.infer<typeof patchRoleBody>;

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    unitId: z.uuid(),
    roles: z.array(z.string()),
    kind: z.enum(USER_KINDS),
    active: z.boolean(),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'User' });
export type UserDto = z.infer<typeof userSchema>;

export const createUserBody = z
  .object({
    email: z.email().max(320),
    name: trimmed(200),
    unitId: z.uuid(),
    roles: z.array(roleName).min(1).max(20),
    kind: z.preprocess(upper, z.enum(USER_KINDS)).optional(),
  })
  .strict()
  .meta({ id: 'UserCreate' });
export type CreateUserInput = z.infer<typeof createUserBody>;

export const patchUserBody = z
  .object({
    email: z.email().max(320).optional(),
    name: trimmed(200).optional(),
    unitId: z.uuid().optional(),
    roles: z.array(roleName).min(1).max(20).optional(),
    kind: z.preprocess(upper, z.enum(USER_KINDS)).optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'UserPatch' });
export type PatchUserInput = z.infer<typeof patchUserBody>;

export const listUsersQuery = z
  .object({
    ...pageParams,
    unitId: z.uuid().optional(),
    // `true`/`false` in a query string; GraphQL's UserFilter.active is a Boolean.
    active: queryFlag.optional(),
    q: trimmed(200).optional(),
    // A sync's read: the users created or changed (name, unit, roles, active) after this instant.
    ...syncParams,
  })
  .strict();
export type ListUsersQuery = z.infer<typeof listUsersQuery>;
// The users list's sorts: oldest first by default; a sync reads by updatedAt.
export const USER_SORTS = ['createdAt', 'updatedAt'] as const;
export type UserSort = (typeof USER_SORTS)[number];

// GET /v1/org-units: the visible tree in one answer (it is small), filtered and ordered for a sync.
// Without `sort`, tree order (a parent before its children).
export const ORG_UNIT_SORTS = ['createdAt', 'updatedAt'] as const;
export const listOrgUnitsQuery = z.object({ count: countParam, ...syncParams }).strict();
export type ListOrgUnitsQuery = z.infer<typeof listOrgUnitsQuery>;

// Answered upper-case like every enum, accepted in any case; stored lower-case ('customer'), the
// resource type the visibility predicate matches shares on.
export const SHARE_RESOURCE_TYPES = ['CUSTOMER'] as const;
export type ShareResourceType = (typeof SHARE_RESOURCE_TYPES)[number];
const shareResourceType = z.preprocess(upper, z.enum(SHARE_RESOURCE_TYPES, { error: 'one of CUSTOMER' }));

export const shareSchema = z
  .object({
    id: z.uuid(),
    resourceType: z.enum(SHARE_RESOURCE_TYPES),
    resourceId: z.uuid(),
    toUnitId: z.uuid().nullable(),
    toUserId: z.uuid().nullable(),
    expiresAt: timestamp.nullable(),
    createdBy: z.uuid(),
    createdAt: timestamp,
    // A share is never changed, only made or revoked (deleted): the same instant as createdAt.
    updatedAt: timestamp,
  })
  .meta({ id: 'Share' });
export type ShareDto = z.infer<typeof shareSchema>;

export const createShareBody = z
  .object({
    resourceType: shareResourceType,
    resourceId: z.uuid(),
    toUnitId: z.uuid().optional(),
    toUserId: z.uuid().optional(),
    // A share that ends by itself; omitted: until revoked.
    expiresAt: timestamp
      .refine((v) => Date.parse(v) > Date.now(), { message: 'must be in the future', when: (payload) => payload.issues.length === 0 })
      .optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.toUnitId === !v.toUserId) ctx.addIssue({ code: 'custom', path: ['toUnitId'], message: 'give exactly one of toUnitId and toUserId' });
  })
  .meta({ id: 'ShareCreate' });
export type CreateShareInput = z.infer<typeof createShareBody>;

export const listSharesQuery = z
  .object({
    ...pageParams,
    resourceType: shareResourceType.optional(),
    resourceId: z.uuid().optional(),
    toUserId: z.uuid().optional(),
    toUnitId: z.uuid().optional(),
    // A sync's read. A share never changes once made (revoking deletes it): its updatedAt is its createdAt.
    ...syncParams,
  })
  .strict();
export type ListSharesQuery = z.infer<typeof listSharesQuery>;
export type ShareFilter = Omit<ListSharesQuery, 'limit' | 'cursor' | 'count' | 'sort'>;
// The shares lists' sorts: newest first by default.
export const SHARE_SORTS = ['createdAt', 'updatedAt'] as const;
export type ShareSort = (typeof SHARE_SORTS)[number];

export const customerSharesQuery = z.object({ ...pageParams, ...syncParams }).strict();
export type CustomerSharesQuery = z.infer<typeof customerSharesQuery>;

export const delegationSchema = z
  .object({
    id: z.uuid(),
    fromUserId: z.uuid(),
    toUserId: z.uuid(),
    startsAt: timestamp,
    endsAt: timestamp,
    revokedAt: timestamp.nullable(),
    createdBy: z.uuid(),
    createdAt: timestamp,
    // Moves when the delegation is revoked or ended; its start and end passing by are not changes.
    updatedAt: timestamp,
    // Not revoked and startsAt <= now < endsAt.
    active: z.boolean(),
  })
  .meta({ id: 'Delegation' });
export type DelegationDto = z.infer<typeof delegationSchema>;

// The longest a delegation may run: a stand-in for holidays or sick leave, not a handover (that is a transfer).
export const MAX_DELEGATION_DAYS = 180;
const DAY_MS = 24 * 60 * 60 * 1000;

export const createDelegationBody = z
  .object({
    fromUserId: z.uuid().optional(),
    toUserId: z.uuid(),
    startsAt: timestamp.optional(),
    endsAt: timestamp,
  })
  .strict()
  .superRefine((v, ctx) => {
    const start = v.startsAt ? Date.parse(v.startsAt) : Date.now();
    const end = Date.parse(v.endsAt);
    if (end <= start) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
    else if (end - start > MAX_DELEGATION_DAYS * DAY_MS) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: `at most ${MAX_DELEGATION_DAYS} days after startsAt` });
    else if (end <= Date.now()) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be in the future' });
  })
  .meta({ id: 'DelegationCreate' });
export type CreateDelegationInput = z.infer<typeof createDelegationBody>;

export const listDelegationsQuery = z
  .object({
    ...pageParams,
    fromUserId: z.uuid().optional(),
    toUserId: z.uuid().optional(),
    active: queryFlag.optional(),
    // A sync's read: sort createdAt (default -createdAt) or updatedAt.
    ...syncParams,
  })
  .strict();
export type ListDelegationsQuery = z.infer<typeof listDelegationsQuery>;
export type DelegationFilter = Omit<ListDelegationsQuery, 'limit' | 'cursor' | 'count'>;

export const transferBody = z
  .object({
    fromUserId: z.uuid(),
    toUserId: z.uuid().optional(),
    toUnitId: z.uuid().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.toUserId === !v.toUnitId) ctx.addIssue({ code: 'custom', path: ['toUserId'], message: 'give exactly one of toUserId and toUnitId' });
    else if (v.toUserId === v.fromUserId) ctx.addIssue({ code: 'custom', path: ['toUserId'], message: 'must differ from fromUserId' });
  })
  .meta({ id: 'TransferCreate' });
export type TransferInput = z.infer<typeof transferBody>;

export const transferCountsSchema = z.object({ customers: z.number().int(), opportunities: z.number().int(), actions: z.number().int() });
export type TransferCounts = z.infer<typeof transferCountsSchema>;

export const transferSchema = z
  .object({
    id: z.uuid(),
    fromUserId: z.uuid(),
    toUserId: z.uuid().nullable(),
    // The target unit: the target user's unit, or the pool the records went to.
    toUnitId: z.uuid(),
    counts: transferCountsSchema,
    actorId: z.uuid(),
    at: timestamp,
  })
  .meta({ id: 'Transfer' });
export type TransferDto = z.infer<typeof transferSchema>;

export const meSchema = z
  .object({
    user: userSchema,
    unit: orgUnitSchema,
    roles: z.array(roleSchema),
    effectiveScopes: z.array(z.object({ permission: z.string(), scope: z.enum(SCOPES) })),
    hiddenFields: z.array(z.string()),
    activeDelegations: z.array(delegationSchema),
  })
  .meta({ id: 'Me' });
export type MeDto = z.infer<typeof meSchema>;
