import { z } from 'zod';
import { ACCESS_RULES } from '../../lib/access.js';
import { timestamp } from '../../lib/schemas.js';

export const EXPLAIN_RESOURCE_TYPES = ['CUSTOMER', 'OPPORTUNITY'] as const;
export type ExplainResourceType = (typeof EXPLAIN_RESOURCE_TYPES)[number];
export const GRANTS = ['READ', 'WRITE'] as const;
export const WRITE_BLOCKS = ['CUSTOMER_MERGED'] as const;
export type WriteBlock = (typeof WRITE_BLOCKS)[number];

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);

export const explainQuery = z
  .object({
    // The user asked about; the caller itself when omitted.
    userId: z.uuid().optional(),
    resourceType: z.preprocess(upper, z.enum(EXPLAIN_RESOURCE_TYPES)),
    resourceId: z.uuid(),
  })
  .strict();
export type ExplainQuery = z.infer<typeof explainQuery>;

const unitStep = z.object({ id: z.uuid(), name: z.string(), kind: z.string() }).meta({ id: 'AccessUnitStep' });

export const accessReasonSchema = z
  .object({
    rule: z.enum(ACCESS_RULES),
    // What this reason grants: READ (visible) and WRITE (writable) are judged separately.
    grants: z.array(z.enum(GRANTS)),
    detail: z.string(),
    // ROLE_SCOPE: the roles giving the scope, the scope, and the units from the scope's base down to the record's owner unit.
    roles: z.array(z.string()).optional(),
    scope: z.enum(['OWN', 'UNIT', 'SUBTREE', 'ALL']).optional(),
    unitPath: z.array(unitStep).optional(),
    // DELEGATION
    delegationId: z.uuid().optional(),
    fromUserId: z.uuid().optional(),
    startsAt: timestamp.optional(),
    endsAt: timestamp.optional(),
    // SHARE
    shareId: z.uuid().optional(),
    expiresAt: timestamp.nullable().optional(),
    // SHARE, HANDOFF: to whom
    toUserId: z.uuid().nullable().optional(),
    toUnitId: z.uuid().nullable().optional(),
    // HANDOFF
    handoffId: z.uuid().optional(),
    dueAt: timestamp.optional(),
    // CLAIM
    claimId: z.uuid().optional(),
    protectedUntil: timestamp.optional(),
  })
  .meta({ id: 'AccessReason' });
export type AccessReasonDto = z.infer<typeof accessReasonSchema>;

export const explanationSchema = z
  .object({
    userId: z.uuid(),
    resourceType: z.enum(EXPLAIN_RESOURCE_TYPES),
    resourceId: z.uuid(),
    visible: z.boolean(),
    writable: z.boolean(),
    // The record's state refusing updates whatever the access (writable is then false): the code PATCH answers.
    writeBlockedBy: z.enum(WRITE_BLOCKS).nullable(),
    because: z.array(accessReasonSchema),
    hiddenFields: z.array(z.string()),
  })
  .meta({ id: 'AccessExplanation' });
export type ExplanationDto = z.infer<typeof explanationSchema>;
