import { z } from 'zod';

// The event catalogue (api.md §4): every public event type, the schema of its `data`, and how a
// stored outbox row (`<entity>.<action>`, payload `{ before, after }`) becomes one. Only what is
// listed here is published: an outbox row of another type (roles, pipelines, …) stays internal, and a
// field a snapshot below does not name never leaves the server.

const str = z.string().nullable();
const strs = z.array(z.string());
const int = z.number().int().nullable();
const time = z.string().nullable();
const json = z.unknown();

const snapshots = {
  customer: {
    id: z.string(),
    kind: str,
    name: str,
    registrationId: str,
    phones: strs,
    emails: strs,
    website: str,
    industry: str,
    region: str,
    address: json,
    roles: strs,
    lifecycleStage: str,
    status: str,
    source: z.object({ channel: str, campaign: str.optional(), referrerCustomerId: str.optional(), detail: str.optional() }).nullable(),
    ownerUserId: str,
    ownerUnitId: str,
    externalIds: z.record(z.string(), z.string()),
    creditStatus: str,
    creditLimit: str,
    creditCurrency: str,
    valueClass: str,
    valueScore: z.number().nullable(),
    churnRisk: str,
    mergedIntoId: str,
    version: int,
    createdAt: time,
    updatedAt: time,
    // What a move records besides the fields it changed.
    reason: str,
    cause: str,
    transitionId: str,
    handoffId: str,
    overriddenDuplicateIds: strs,
  },
  contact: {
    id: z.string(),
    customerId: str,
    name: str,
    title: str,
    decisionRole: str,
    phones: strs,
    emails: strs,
    externalIds: z.record(z.string(), z.string()),
    version: int,
    createdAt: time,
    updatedAt: time,
  },
  interaction: {
    id: z.string(),
    customerId: str,
    contactId: str,
    opportunityId: str,
    channel: str,
    direction: str,
    occurredAt: time,
    subject: str,
    notes: str,
    outcome: str,
    actorId: str,
    onBehalfOfId: str,
    version: int,
    createdAt: time,
    updatedAt: time,
  },
  opportunity: {
    id: z.string(),
    customerId: str,
    pipelineId: str,
    stageId: str,
    stageKey: str,
    name: str,
    amount: str,
    currency: str,
    expectedCloseDate: str,
    status: str,
    qualification: json,
    ownerUserId: str,
    ownerUnitId: str,
    externalIds: z.record(z.string(), z.string()),
    lostReason: str,
    competitor: str,
    version: int,
    createdAt: time,
    updatedAt: time,
  },
  order: {
    id: z.string(),
    customerId: str,
    opportunityId: str,
    number: str,
    status: str,
    orderedAt: time,
    paidAt: time,
    shippedAt: time,
    confirmedAt: time,
    cancelledAt: time,
    amount: str,
    currency: str,
    lines: z.array(z.record(z.string(), z.unknown())),
    externalIds: z.record(z.string(), z.string()),
    ownerUserId: str,
    ownerUnitId: str,
    version: int,
    createdAt: time,
    updatedAt: time,
  },
  handoff: {
    id: z.string(),
    customerId: str,
    fromUserId: str,
    toUserId: str,
    toUnitId: str,
    dueAt: time,
    status: str,
    reason: str,
    note: str,
    createdAt: time,
    decidedAt: time,
  },
  claim: {
    id: z.string(),
    customerId: str,
    opportunityId: str,
    claimantUserId: str,
    claimantUnitId: str,
    status: str,
    protectedUntil: time,
    reason: str,
    decidedBy: str,
    decidedAt: time,
  },
  share: {
    id: z.string(),
    resourceType: str,
    resourceId: str,
    toUnitId: str,
    toUserId: str,
    expiresAt: time,
    createdBy: str,
    createdAt: time,
  },
} as const;

export type EventEntity = keyof typeof snapshots;
export const EVENT_ENTITIES = Object.keys(snapshots) as EventEntity[];

// A snapshot names only catalogued fields, each optional: an event carries the fields its change
// recorded (a lifecycle move records the stage, a create the whole record).
const snapshotSchema = (e: EventEntity) => z.object(snapshots[e]).partial().strict();
const SNAPSHOT_SCHEMAS = Object.fromEntries(EVENT_ENTITIES.map((e) => [e, snapshotSchema(e)])) as unknown as Record<EventEntity, z.ZodType>;

// The customer a won or lost opportunity belongs to, as it is when the event is read (what an ERP
// needs to turn the deal into a sales order without a second call).
const dealCustomer = z
  .object({ id: z.string(), name: z.string(), externalIds: z.record(z.string(), z.string()).optional() })
  .strict()
  .nullable();

export const dataSchema = (e: EventEntity, withCustomer = false) =>
  z
    .object({
      before: SNAPSHOT_SCHEMAS[e].nullable(),
      after: SNAPSHOT_SCHEMAS[e].nullable(),
      ...(withCustomer ? { customer: dealCustomer } : {}),
    })
    .strict();

type TypeDef = { entity: EventEntity; summary: string; from: string[] };

// Public type → the stored `<entity>.<action>` rows it is made of.
export const EVENT_TYPES = {
  'customer.created': { entity: 'customer', summary: 'A customer was created (also one created despite duplicates).', from: ['created', 'created_despite_duplicates'] },
  'customer.updated': { entity: 'customer', summary: 'Fields of a customer changed: a patch, a new owner (reassignment, handoff, transfer) or the survivor of a merge.', from: ['updated', 'owner_changed', 'transferred', 'merge_survived'] },
  'customer.frozen': { entity: 'customer', summary: 'A customer was frozen (`after.reason`).', from: ['frozen'] },
  'customer.unfrozen': { entity: 'customer', summary: 'A frozen customer was unfrozen.', from: ['unfrozen'] },
  'customer.merged': { entity: 'customer', summary: 'A duplicate was merged into a survivor (`after.mergedIntoId`).', from: ['merged'] },
  'customer.lifecycle_changed': { entity: 'customer', summary: 'The lifecycle stage moved (`before.lifecycleStage` → `after.lifecycleStage`, with `reason` and `cause`).', from: ['lifecycle_transitioned', 'lifecycle_changed'] },
  'customer.value_changed': { entity: 'customer', summary: 'The computed value score or class changed.', from: ['value_changed'] },
  'customer.churn_risk_changed': { entity: 'customer', summary: 'The computed churn risk changed.', from: ['churn_risk_changed'] },
  'contact.created': { entity: 'contact', summary: 'A contact person was added to a customer.', from: ['created'] },
  'contact.updated': { entity: 'contact', summary: 'A contact person changed (also moved to a merge survivor).', from: ['updated', 'moved_by_merge'] },
  'contact.deleted': { entity: 'contact', summary: 'A contact person was deleted (`before` holds it).', from: ['deleted'] },
  'interaction.recorded': { entity: 'interaction', summary: 'A contact (call, visit, email, …) was recorded.', from: ['recorded'] },
  'interaction.updated': { entity: 'interaction', summary: 'A recorded contact was edited.', from: ['updated'] },
  'opportunity.created': { entity: 'opportunity', summary: 'An opportunity was opened.', from: ['created'] },
  'opportunity.updated': { entity: 'opportunity', summary: 'Fields or the owner of an opportunity changed.', from: ['updated', 'owner_changed', 'transferred'] },
  'opportunity.stage_changed': { entity: 'opportunity', summary: 'An opportunity moved to another stage (also to WON or LOST, and when reopened).', from: ['transitioned'] },
  'opportunity.won': { entity: 'opportunity', summary: 'An opportunity was won: amount, currency, owner, its external ids, and its customer with the customer\'s external ids.', from: ['won'] },
  'opportunity.lost': { entity: 'opportunity', summary: 'An opportunity was lost (`lostReason`, `competitor`).', from: ['lost'] },
  'opportunity.reopened': { entity: 'opportunity', summary: 'A won or lost opportunity was reopened.', from: ['reopened'] },
  'order.created': { entity: 'order', summary: 'An order arrived (from the ERP).', from: ['created'] },
  'order.updated': { entity: 'order', summary: 'Fields of an order changed.', from: ['updated'] },
  'order.status_changed': { entity: 'order', summary: 'An order moved forward (ORDERED → PAID → SHIPPED → CONFIRMED) or was cancelled.', from: ['status_changed'] },
  'handoff.created': { entity: 'handoff', summary: 'A lead was handed to a unit or user.', from: ['created'] },
  'handoff.accepted': { entity: 'handoff', summary: 'The receiver accepted a handoff.', from: ['accepted'] },
  'handoff.rejected': { entity: 'handoff', summary: 'The receiver rejected a handoff.', from: ['rejected'] },
  'handoff.escalated': { entity: 'handoff', summary: 'A handoff missed its deadline and was escalated.', from: ['escalated'] },
  'handoff.cancelled': { entity: 'handoff', summary: 'A pending handoff was cancelled (its customer was merged).', from: ['cancelled_by_merge', 'cancelled'] },
  'claim.created': { entity: 'claim', summary: 'A claim on a customer was filed.', from: ['created'] },
  'claim.approved': { entity: 'claim', summary: 'A claim was approved.', from: ['approved'] },
  'claim.rejected': { entity: 'claim', summary: 'A claim was rejected.', from: ['rejected'] },
  'claim.expired': { entity: 'claim', summary: 'A claim\'s protection ran out.', from: ['expired'] },
  'share.created': { entity: 'share', summary: 'A customer was shared with a unit or user.', from: ['created'] },
  'share.deleted': { entity: 'share', summary: 'A share was revoked.', from: ['deleted', 'revoked'] },
} as const satisfies Record<string, TypeDef>;

export type EventType = keyof typeof EVENT_TYPES;
export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[];

/** Stored `<entity>.<action>` → public type. */
export const STORED_TO_PUBLIC: ReadonlyMap<string, EventType> = new Map(
  EVENT_TYPE_NAMES.flatMap((t) => EVENT_TYPES[t].from.map((a) => [`${EVENT_TYPES[t].entity}.${a}`, t] as const)),
);

export const hasDealCustomer = (t: EventType): boolean => t === 'opportunity.won' || t === 'opportunity.lost';

/** The `data` schema of every public type. */
export const DATA_SCHEMAS = Object.fromEntries(EVENT_TYPE_NAMES.map((t) => [t, dataSchema(EVENT_TYPES[t].entity, hasDealCustomer(t))])) as unknown as Record<EventType, z.ZodType>;

/**
 * A `types` filter: exact types and `<entity>.*` patterns (`order.*`), expanded against the
 * catalogue. Null when a name is neither (the caller is told which).
 */
export function expandTypes(names: readonly string[]): { types: EventType[] } | { unknown: string } {
  const out = new Set<EventType>();
  for (const n of names) {
    if (n === '*') EVENT_TYPE_NAMES.forEach((t) => out.add(t));
    else if (n.endsWith('.*')) {
      const matched = EVENT_TYPE_NAMES.filter((t) => t.startsWith(n.slice(0, -1)));
      if (matched.length === 0) return { unknown: n };
      matched.forEach((t) => out.add(t));
    } else if (n in EVENT_TYPES) out.add(n as EventType);
    else return { unknown: n };
  }
  return { types: [...out] };
}

// ---- projection: a stored payload as a reader may see it ------------------------------------------

// Raw rows stored by some writers carry the source as four columns; the API's shape is one object.
function customerShape(o: Record<string, unknown>): Record<string, unknown> {
  if (!('sourceChannel' in o) || 'source' in o) return o;
  const { sourceChannel, sourceCampaign, sourceReferrerCustomerId, sourceDetail, ...rest } = o;
  return { ...rest, source: sourceChannel ? { channel: sourceChannel, campaign: sourceCampaign ?? null, referrerCustomerId: sourceReferrerCustomerId ?? null, detail: sourceDetail ?? null } : null };
}

function asIso(v: unknown): unknown {
  return v instanceof Date ? v.toISOString() : v;
}

/** Only catalogued fields, customer fields the reader's roles hide removed (`customer.creditStatus`, …). */
export function snapshotFor(entity: EventEntity, value: unknown, hidden: ReadonlySet<string>): Record<string, unknown> | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const src = entity === 'customer' ? customerShape(value as Record<string, unknown>) : (value as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(snapshots[entity])) {
    if (!(k in src) || src[k] === undefined) continue;
    if (hidden.has(`${entity}.${k}`)) continue;
    out[k] = asIso(src[k]);
  }
  return out;
}

/** The public `data` of a stored event, for a reader whose roles hide `hidden`. */
export function eventData(type: EventType, payload: unknown, hidden: ReadonlySet<string>, customer?: { id: string; name: string; externalIds: Record<string, string> } | null): Record<string, unknown> {
  const entity = EVENT_TYPES[type].entity;
  const p = (payload ?? {}) as { before?: unknown; after?: unknown };
  const data: Record<string, unknown> = { before: snapshotFor(entity, p.before, hidden), after: snapshotFor(entity, p.after, hidden) };
  if (hasDealCustomer(type)) {
    data.customer = customer
      ? { id: customer.id, name: customer.name, ...(hidden.has('customer.externalIds') ? {} : { externalIds: customer.externalIds }) }
      : null;
  }
  return data;
}
