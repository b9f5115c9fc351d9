import { z } from 'zod';
import { pageParams, syncParams } from '../../lib/pagination.js';
import { text, timestamp, trimmed } from '../../lib/schemas.js';

export const CLAIM_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED'] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);

export const createClaimBody = z
  .object({
    customerId: z.uuid(),
    // A deal registration: the opportunity on that customer the claim is about.
    opportunityId: z.uuid().nullish(),
    // The claimant's case: what it has done with the customer, why it should be protected.
    note: text(2000).nullish(),
  })
  .strict()
  .meta({ id: 'ClaimCreate' });
export type CreateClaimInput = z.infer<typeof createClaimBody>;

export const decideClaimBody = z
  .object({ reason: trimmed(2000) })
  .strict()
  .meta({ id: 'ClaimDecision' });

export const listClaimsQuery = z
  .object({
    ...pageParams,
    status: z.preprocess(upper, z.enum(CLAIM_STATUSES)).optional(),
    customerId: z.uuid().optional(),
    claimantUserId: z.uuid().optional(),
    claimantUnitId: z.uuid().optional(),
    // A sync's read: the claims made or changed after this instant; sort createdAt (default -createdAt) or updatedAt.
    ...syncParams,
  })
  .strict();
export type ListClaimsQuery = z.infer<typeof listClaimsQuery>;

export const claimSchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    opportunityId: z.uuid().nullable(),
    claimantUserId: z.uuid(),
    claimantUnitId: z.uuid(),
    status: z.enum(CLAIM_STATUSES),
    protectedUntil: timestamp.nullable(),
    note: z.string().nullable(),
    reason: z.string().nullable(),
    decidedBy: z.uuid().nullable(),
    decidedAt: timestamp.nullable(),
    expiredAt: timestamp.nullable(),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Claim' });
export type ClaimDto = z.infer<typeof claimSchema>;
