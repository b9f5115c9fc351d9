import { z } from 'zod';
import { pageParams, syncParams } from '../../lib/pagination.js';
import { text, timestamp, trimmed } from '../../lib/schemas.js';
import { LIFECYCLE_STAGES } from '../customers/index.js';

export const LIFECYCLE_CAUSES = ['MANUAL', 'HANDOFF', 'OPPORTUNITY', 'ORDER'] as const;
// CANCELLED: closed without a decision because the customer was merged into another record.
export const HANDOFF_STATUSES = ['PENDING', 'ACCEPTED', 'REJECTED', 'ESCALATED', 'CANCELLED'] as const;
export const HANDOFF_BOXES = ['received', 'sent'] as const;
// The handoffs list's sorts: newest first by default; a sync reads by updatedAt.
export const HANDOFF_SORTS = ['createdAt', 'updatedAt'] as const;
export type HandoffSort = (typeof HANDOFF_SORTS)[number];

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);
const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

export const transitionBody = z
  .object({
    to: z.preprocess(upper, z.enum(LIFECYCLE_STAGES)),
    reason: text(2000).nullish(),
  })
  .strict()
  .meta({ id: 'LifecycleTransitionCreate' });
export type TransitionInput = z.infer<typeof transitionBody>;

export const transitionSchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    from: z.enum(LIFECYCLE_STAGES),
    to: z.enum(LIFECYCLE_STAGES),
    reason: z.string().nullable(),
    cause: z.enum(LIFECYCLE_CAUSES),
    actorId: z.uuid(),
    onBehalfOfId: z.uuid().nullable(),
    at: timestamp,
  })
  .meta({ id: 'LifecycleTransition' });
export type TransitionDto = z.infer<typeof transitionSchema>;

// The answer to a move: the transition, and the customer's new version (also its ETag), so a client
// can go on writing with If-Match without reading the customer again.
export const transitionResultSchema = transitionSchema
  .extend({ customerVersion: z.number().int().meta({ description: "the customer's version after the move; the answer's ETag" }) })
  .meta({ id: 'LifecycleTransitionResult' });
export type TransitionResultDto = z.infer<typeof transitionResultSchema>;

export const listTransitionsQuery = z.object(pageParams).strict();

// The deadline is checked when the request is parsed: the same rule for both doors.
const futureTimestamp = timestamp.refine((v) => Date.parse(v) > Date.now(), 'must be in the future');

export const handoffBody = z
  .object({
    toUnitId: z.uuid().optional(),
    toUserId: z.uuid().optional(),
    dueAt: futureTimestamp,
    note: text(2000).nullish(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.toUnitId === undefined) === (v.toUserId === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.toUnitId === undefined ? 'toUnitId' : 'toUserId'], message: 'give exactly one of toUnitId and toUserId' });
    }
  })
  .meta({ id: 'HandoffCreate' });
export type HandoffInput = z.infer<typeof handoffBody>;

export const rejectBody = z.object({ reason: trimmed(2000) }).strict().meta({ id: 'HandoffReject' });

export const listHandoffsQuery = z
  .object({
    status: z.preprocess(upper, z.enum(HANDOFF_STATUSES)).optional(),
    box: z.preprocess(lower, z.enum(HANDOFF_BOXES)).default('received'),
    ...pageParams,
    // A sync's read: the handoffs changed (made, decided, escalated, cancelled) after this instant.
    ...syncParams,
  })
  .strict();
export type ListHandoffsQuery = z.infer<typeof listHandoffsQuery>;

export const handoffSchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    fromUserId: z.uuid(),
    fromUnitId: z.uuid(),
    toUserId: z.uuid().nullable(),
    toUnitId: z.uuid(),
    dueAt: timestamp,
    status: z.enum(HANDOFF_STATUSES),
    note: z.string().nullable(),
    reason: z.string().nullable(),
    decidedBy: z.uuid().nullable(),
    decidedAt: timestamp.nullable(),
    escalatedAt: timestamp.nullable(),
    escalatedToId: z.uuid().nullable(),
    onBehalfOfId: z.uuid().nullable(),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Handoff' });
export type HandoffDto = z.infer<typeof handoffSchema>;
