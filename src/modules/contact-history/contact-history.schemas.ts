import { z } from 'zod';
import { pageParams, syncParams } from '../../lib/pagination.js';
import { safeString, timestamp } from '../../lib/schemas.js';

export const INTERACTION_CHANNELS = ['PHONE', 'FAX', 'EMAIL', 'SMS', 'VISIT', 'MEETING', 'WEB', 'EVENT', 'MEDIA', 'LETTER', 'OTHER'] as const;
export const INTERACTION_DIRECTIONS = ['INBOUND', 'OUTBOUND'] as const;
export const TIMELINE_TYPES = [
  'INTERACTION',
  'LIFECYCLE_TRANSITION',
  'OWNERSHIP_CHANGE',
  'HANDOFF_CREATED',
  'HANDOFF_ACCEPTED',
  'HANDOFF_REJECTED',
  'HANDOFF_ESCALATED',
  'STAGE_TRANSITION',
  'CLAIM_REGISTERED',
  'CLAIM_APPROVED',
  'CLAIM_REJECTED',
  'CLAIM_EXPIRED',
  'ORDER',
  'COST_RECORDED',
  'REFERENCE_EFFECT_SET',
  'VALUE_CLASS_CHANGED',
] as const;
export type InteractionChannel = (typeof INTERACTION_CHANNELS)[number];
export type InteractionDirection = (typeof INTERACTION_DIRECTIONS)[number];
export type TimelineType = (typeof TIMELINE_TYPES)[number];

// Limits (docs/contact-history.md): generous for free text, bounded so one row cannot bloat a page.
export const LIMITS = { subject: 300, notes: 20_000, outcome: 2_000 } as const;
// A touch point may be logged a little ahead (time zones, a meeting about to start), not planned far out.
export const MAX_FUTURE_MS = 24 * 3600_000;

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);
const channel = z.preprocess(upper, z.enum(INTERACTION_CHANNELS));
const direction = z.preprocess(upper, z.enum(INTERACTION_DIRECTIONS));

// Not before 1900: the shared timestamp's range.
export const occurredAt = timestamp.refine((v) => Date.parse(v) <= Date.now() + MAX_FUTURE_MS, 'must not be more than 24 hours in the future');

// Empty or blank text means "none": stored as null.
const text = (max: number) =>
  safeString()
    .max(max)
    .transform((s) => (s.trim() === '' ? null : s.trim()))
    .nullish();

export const recordInteractionBody = z
  .object({
    channel,
    direction,
    occurredAt: occurredAt.optional(),
    subject: text(LIMITS.subject),
    notes: text(LIMITS.notes),
    outcome: text(LIMITS.outcome),
    contactId: z.uuid().nullish(),
    opportunityId: z.uuid().nullish(),
  })
  .strict()
  .meta({ id: 'InteractionCreate' });
export type RecordInteractionInput = z.infer<typeof recordInteractionBody>;

// JSON merge patch: absent = unchanged, null = cleared (channel, direction and occurredAt cannot be cleared).
export const patchInteractionBody = z
  .object({
    channel: channel.optional(),
    direction: direction.optional(),
    occurredAt: occurredAt.optional(),
    subject: text(LIMITS.subject),
    notes: text(LIMITS.notes),
    outcome: text(LIMITS.outcome),
    contactId: z.uuid().nullish(),
    opportunityId: z.uuid().nullish(),
  })
  .strict()
  .meta({ id: 'InteractionPatch' });
export type PatchInteractionInput = z.infer<typeof patchInteractionBody>;

// What an interaction records: the same in the interaction and in each of its revisions.
const recordedFields = {
  contactId: z.uuid().nullable(),
  opportunityId: z.uuid().nullable(),
  channel: z.enum(INTERACTION_CHANNELS),
  direction: z.enum(INTERACTION_DIRECTIONS),
  occurredAt: timestamp,
  subject: z.string().nullable(),
  notes: z.string().nullable(),
  outcome: z.string().nullable(),
};

export const interactionSchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    ...recordedFields,
    actorId: z.uuid(),
    onBehalfOfId: z.uuid().nullable(),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Interaction' });
export type InteractionDto = z.infer<typeof interactionSchema>;

// One replaced version: the fields as they were at `version`, and the edit that replaced them.
export const interactionRevisionSchema = z
  .object({
    id: z.uuid(),
    interactionId: z.uuid(),
    version: z.number().int(),
    ...recordedFields,
    editedBy: z.uuid(),
    onBehalfOfId: z.uuid().nullable(),
    editedAt: timestamp,
  })
  .meta({ id: 'InteractionRevision' });
export type InteractionRevisionDto = z.infer<typeof interactionRevisionSchema>;

export const interactionFilter = z
  .object({
    channel: channel.optional(),
    direction: direction.optional(),
    occurredAfter: timestamp.optional(),
    occurredBefore: timestamp.optional(),
    opportunityId: z.uuid().optional(),
    contactId: z.uuid().optional(),
    // A sync's read: the interactions recorded or edited after this instant.
    updatedAfter: timestamp.optional(),
  })
  .strict();
export type InteractionFilter = z.infer<typeof interactionFilter>;

// The lists' sorts: newest contact first by default; a sync reads by updatedAt.
export const INTERACTION_SORTS = ['occurredAt', 'updatedAt'] as const;
export type InteractionSort = (typeof INTERACTION_SORTS)[number];

export const listInteractionsQuery = interactionFilter.extend({ ...pageParams, sort: syncParams.sort }).strict();
export type ListInteractionsQuery = z.infer<typeof listInteractionsQuery>;

export const pageQuery = z.object(pageParams).strict();

// `types` as a comma-separated list (?types=INTERACTION,STAGE_TRANSITION) or repeated parameters.
const typesParam = z.preprocess(
  (v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((x) => (typeof x === 'string' ? x.split(',') : [x])).map(upper)),
  z.array(z.enum(TIMELINE_TYPES)).min(1).max(TIMELINE_TYPES.length),
);
export const timelineQuery = z.object({ ...pageParams, types: typesParam.optional() }).strict();
export type TimelineQuery = z.infer<typeof timelineQuery>;

export const timelineEntrySchema = z
  .object({
    id: z.uuid(),
    type: z.enum(TIMELINE_TYPES),
    at: timestamp,
    actorId: z.uuid().nullable(),
    onBehalfOfId: z.uuid().nullable(),
    summary: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'TimelineEntry' });
export type TimelineEntryDto = z.infer<typeof timelineEntrySchema>;
