import { z } from 'zod';
import { pageParams } from '../../lib/pagination.js';
import { safeString, timestamp, trimmed } from '../../lib/schemas.js';

export const ACTION_STATUSES = ['OPEN', 'DONE', 'CANCELLED'] as const;
export const ACTION_KINDS = ['PLANNED', 'ESCALATION', 'VALUE_ALERT', 'CHURN_ALERT'] as const;
export const ACTION_SORTS = ['createdAt', 'updatedAt'] as const;

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);

// A machine key a stage gate can require done, e.g. SOLUTION_ACCEPTED.
export const actionKey = z
  .string()
  .regex(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, 'an upper-snake identifier such as SOLUTION_ACCEPTED')
  .max(64);
const scale = z.number().int('must be a whole number from 1 to 5').min(1, 'must be from 1 to 5').max(5, 'must be from 1 to 5');

const writable = {
  title: trimmed(300),
  key: actionKey.nullish(),
  notes: safeString().max(10_000).nullish(),
  dueAt: timestamp.nullish(),
  value: scale,
  urgency: scale,
  assigneeId: z.uuid(),
};

export const createActionBody = z
  .object({ ...writable, value: scale.optional(), urgency: scale.optional(), assigneeId: writable.assigneeId.optional() })
  .strict()
  .meta({ id: 'ActionCreate' });
export type CreateActionInput = z.infer<typeof createActionBody>;

// GraphQL's createAction names its parent in the input: exactly one of opportunityId and customerId.
export const createActionGraphInput = createActionBody
  .extend({ opportunityId: z.uuid().optional(), customerId: z.uuid().optional() })
  .superRefine((v, ctx) => {
    if ((v.opportunityId === undefined) === (v.customerId === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.opportunityId === undefined ? 'customerId' : 'opportunityId'], message: 'give exactly one of opportunityId and customerId' });
    }
  });

// JSON merge patch: absent = unchanged, null = cleared.
export const patchActionBody = z
  .object({
    title: writable.title.optional(),
    key: writable.key,
    notes: writable.notes,
    dueAt: writable.dueAt,
    value: scale.optional(),
    urgency: scale.optional(),
    status: z.preprocess(upper, z.enum(ACTION_STATUSES)).optional(),
    assigneeId: writable.assigneeId.optional(),
  })
  .strict()
  .meta({ id: 'ActionPatch' });
export type PatchActionInput = z.infer<typeof patchActionBody>;

export const actionSchema = z
  .object({
    id: z.uuid(),
    opportunityId: z.uuid().nullable(),
    customerId: z.uuid(),
    title: z.string(),
    key: z.string().nullable(),
    notes: z.string().nullable(),
    dueAt: timestamp.nullable(),
    value: z.number().int(),
    urgency: z.number().int(),
    status: z.enum(ACTION_STATUSES),
    kind: z.enum(ACTION_KINDS),
    assigneeId: z.uuid(),
    ownerUnitId: z.uuid(),
    // Computed at read time (agenda pages: at the first page's time); see docs/actions-and-agenda.md.
    priority: z.number(),
    completedAt: timestamp.nullable(),
    handoffId: z.uuid().nullable(),
    onBehalfOfId: z.uuid().nullable(),
    // Context, null when the caller cannot see the customer or the opportunity.
    customerName: z.string().nullable(),
    opportunityName: z.string().nullable(),
    stageKey: z.string().nullable(),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Action' });
export type ActionDto = z.infer<typeof actionSchema>;

export const listActionsQuery = z
  .object({
    ...pageParams,
    sort: safeString().max(40).optional(),
    status: z.preprocess(upper, z.enum(ACTION_STATUSES)).optional(),
    assigneeId: z.uuid().optional(),
    // A sync's read: the actions changed after this instant (with sort=updatedAt).
    updatedAfter: timestamp.optional(),
  })
  .strict();
export type ListActionsQuery = z.infer<typeof listActionsQuery>;

export const agendaQuery = z.object(pageParams).strict();
