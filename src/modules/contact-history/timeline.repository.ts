import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { access, hiddenFields, type Principal } from '../../lib/access.js';
import { interactionsVisible, opportunityVisible } from './contact-history.repository.js';
import type { TimelineType } from './contact-history.schemas.js';

export type TimelineRow = {
  type: TimelineType;
  id: string;
  at: string;
  actor_id: string | null;
  on_behalf_of_id: string | null;
  data: Record<string, unknown>;
};

export type TimelineCursor = { at: string; id: string; type: TimelineType };

// A timestamp as the API writes it (RFC 3339 UTC, milliseconds), from inside the database.
const iso = (col: SQL) => sql`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

type Branch = { type: TimelineType; at: SQL; from: SQL; where: SQL; actor: SQL; behalf: SQL; data: SQL };

/**
 * One branch per kind of entry. Each reads its own table through its (customer_id, at, id) index
 * (handoffs: few per customer, read through handoffs_customer_idx), newest first, and stops at the
 * page size; the union of these short lists is then ordered and cut once more.
 */
function branches(p: Principal, customerId: SQL): Branch[] {
  const handoff = (type: TimelineType, at: SQL, where: SQL, actor: SQL, behalf: SQL): Branch => ({
    type,
    at,
    from: sql`handoffs h`,
    where: sql`h.customer_id = ${customerId} AND ${where}`,
    actor,
    behalf,
    data: sql`jsonb_build_object('handoffId', h.id, 'fromUserId', h.from_user_id, 'fromUnitId', h.from_unit_id, 'toUserId', h.to_user_id,
      'toUnitId', h.to_unit_id, 'dueAt', ${iso(sql`h.due_at`)}, 'status', h.status, 'note', h.note, 'reason', h.reason,
      'decidedBy', h.decided_by, 'escalatedToId', h.escalated_to_id)`,
  });
  // Claims only for the claimant's side (lib/access: a claim never reveals its claimant to others).
  const claim = (type: TimelineType, at: SQL, where: SQL, actor: SQL): Branch => ({
    type,
    at,
    from: sql`claims`,
    where: sql`claims.customer_id = ${customerId} AND ${where} AND ${access.claim.visible(p)}`,
    actor,
    behalf: sql`claims.on_behalf_of_id`,
    data: sql`jsonb_build_object('claimId', claims.id, 'opportunityId', claims.opportunity_id, 'claimantUserId', claims.claimant_user_id,
      'claimantUnitId', claims.claimant_unit_id, 'status', claims.status, 'protectedUntil', ${iso(sql`claims.protected_until`)}, 'reason', claims.reason)`,
  });
  return [
    claim('CLAIM_REGISTERED', sql`claims.created_at`, sql`TRUE`, sql`claims.claimant_user_id`),
    claim('CLAIM_APPROVED', sql`claims.decided_at`, sql`claims.decided_at IS NOT NULL AND claims.protected_until IS NOT NULL`, sql`claims.decided_by`),
    claim('CLAIM_REJECTED', sql`claims.decided_at`, sql`claims.status = 'REJECTED' AND claims.decided_at IS NOT NULL`, sql`claims.decided_by`),
    // An expiry is the system's act: no actor.
    claim('CLAIM_EXPIRED', sql`claims.expired_at`, sql`claims.expired_at IS NOT NULL`, sql`NULL::uuid`),
    {
      type: 'INTERACTION',
      at: sql`i.occurred_at`,
      from: sql`interactions i`,
      // Interactions only for callers who may read this customer's history: evaluated once per customer.
      where: sql`i.customer_id = ${customerId} AND (SELECT ${interactionsVisible(p)} FROM customers WHERE customers.id = ${customerId})`,
      actor: sql`i.actor_id`,
      behalf: sql`i.on_behalf_of_id`,
      data: sql`jsonb_build_object('interactionId', i.id, 'channel', i.channel, 'direction', i.direction, 'subject', i.subject, 'outcome', i.outcome,
        'contactId', i.contact_id, 'opportunityId', i.opportunity_id)`,
    },
    {
      type: 'LIFECYCLE_TRANSITION',
      at: sql`lt.at`,
      from: sql`lifecycle_transitions lt`,
      where: sql`lt.customer_id = ${customerId}`,
      actor: sql`lt.actor_id`,
      behalf: sql`lt.on_behalf_of_id`,
      data: sql`jsonb_build_object('from', lt.from_stage, 'to', lt.to_stage, 'reason', lt.reason, 'cause', lt.cause)`,
    },
    {
      type: 'OWNERSHIP_CHANGE',
      at: sql`oc.at`,
      from: sql`ownership_changes oc`,
      where: sql`oc.customer_id = ${customerId}`,
      actor: sql`oc.actor_id`,
      behalf: sql`oc.on_behalf_of_id`,
      data: sql`jsonb_build_object('entityType', oc.entity_type, 'entityId', oc.entity_id, 'fromUserId', oc.from_user_id, 'fromUnitId', oc.from_unit_id,
        'toUserId', oc.to_user_id, 'toUnitId', oc.to_unit_id, 'cause', oc.cause, 'transferId', oc.transfer_id)`,
    },
    handoff('HANDOFF_CREATED', sql`h.created_at`, sql`TRUE`, sql`h.from_user_id`, sql`h.on_behalf_of_id`),
    handoff('HANDOFF_ACCEPTED', sql`h.decided_at`, sql`h.status = 'ACCEPTED' AND h.decided_at IS NOT NULL`, sql`h.decided_by`, sql`NULL::uuid`),
    handoff('HANDOFF_REJECTED', sql`h.decided_at`, sql`h.status = 'REJECTED' AND h.decided_at IS NOT NULL`, sql`h.decided_by`, sql`NULL::uuid`),
    // An escalation is the system's act (a missed deadline): no actor.
    handoff('HANDOFF_ESCALATED', sql`h.escalated_at`, sql`h.escalated_at IS NOT NULL`, sql`NULL::uuid`, sql`NULL::uuid`),
    {
      // Stage moves of opportunities the caller may see only: an opportunity has its own owner.
      type: 'STAGE_TRANSITION',
      at: sql`st.at`,
      from: sql`stage_transitions st JOIN opportunities ON opportunities.id = st.opportunity_id
        LEFT JOIN pipeline_stages fs ON fs.id = st.from_stage_id JOIN pipeline_stages ts ON ts.id = st.to_stage_id`,
      where: sql`st.customer_id = ${customerId} AND ${opportunityVisible(p)}`,
      actor: sql`st.actor_id`,
      behalf: sql`st.on_behalf_of_id`,
      data: sql`jsonb_build_object('opportunityId', st.opportunity_id, 'opportunityName', opportunities.name, 'fromStageId', st.from_stage_id, 'fromStageKey', fs.key,
        'toStageId', st.to_stage_id, 'toStageKey', ts.key, 'reason', st.reason, 'lostReason', st.lost_reason, 'competitor', st.competitor,
        'secondsInFromStage', st.seconds_in_from_stage)`,
    },
    {
      // Orders at the time they were placed, with where they stand now; for callers who may read the customer's orders.
      type: 'ORDER',
      at: sql`o.ordered_at`,
      from: sql`orders o`,
      where: sql`o.customer_id = ${customerId} AND (SELECT ${access.order.visible(p)} FROM customers WHERE customers.id = ${customerId})`,
      actor: sql`o.created_by`,
      behalf: sql`NULL::uuid`,
      data: sql`jsonb_build_object('orderId', o.id, 'number', o.number, 'status', o.status, 'amount', o.amount::text, 'currency', o.currency,
        'opportunityId', o.opportunity_id, 'confirmedAt', ${iso(sql`o.confirmed_at`)}, 'cancelledAt', ${iso(sql`o.cancelled_at`)})`,
    },
    {
      type: 'COST_RECORDED',
      at: sql`cc.incurred_at`,
      from: sql`customer_costs cc`,
      where: sql`cc.customer_id = ${customerId}`,
      actor: sql`cc.actor_id`,
      behalf: sql`cc.on_behalf_of_id`,
      data: sql`jsonb_build_object('costId', cc.id, 'kind', cc.kind, 'amount', cc.amount::text, 'currency', cc.currency, 'note', cc.note)`,
    },
    {
      type: 'REFERENCE_EFFECT_SET',
      at: sql`re.at`,
      from: sql`reference_effects re`,
      where: sql`re.customer_id = ${customerId}`,
      actor: sql`re.actor_id`,
      behalf: sql`re.on_behalf_of_id`,
      data: sql`jsonb_build_object('level', re.level, 'reason', re.reason)`,
    },
    {
      // Class changes only (score changes would drown the feed), and only for callers who may see the class.
      type: 'VALUE_CLASS_CHANGED',
      at: sql`vh.at`,
      from: sql`customer_value_history vh`,
      where: valueHidden(p)
        ? sql`FALSE`
        : sql`vh.customer_id = ${customerId} AND vh.previous_class IS DISTINCT FROM vh.value_class`,
      actor: sql`NULL::uuid`,
      behalf: sql`NULL::uuid`,
      data: sql`jsonb_build_object('from', vh.previous_class, 'to', vh.value_class, 'score', vh.score::text, 'cause', vh.cause, 'modelVersion', vh.model_version)`,
    },
  ];
}

const valueHidden = (p: Principal): boolean => {
  const h = hiddenFields(p);
  return h.has('customer.valueClass') || h.has('customer.valueScore');
};

// The id column of each branch's source row.
const idOf: Record<TimelineType, SQL> = {
  INTERACTION: sql`i.id`,
  LIFECYCLE_TRANSITION: sql`lt.id`,
  OWNERSHIP_CHANGE: sql`oc.id`,
  HANDOFF_CREATED: sql`h.id`,
  HANDOFF_ACCEPTED: sql`h.id`,
  HANDOFF_REJECTED: sql`h.id`,
  HANDOFF_ESCALATED: sql`h.id`,
  STAGE_TRANSITION: sql`st.id`,
  CLAIM_REGISTERED: sql`claims.id`,
  CLAIM_APPROVED: sql`claims.id`,
  CLAIM_REJECTED: sql`claims.id`,
  CLAIM_EXPIRED: sql`claims.id`,
  ORDER: sql`o.id`,
  COST_RECORDED: sql`cc.id`,
  REFERENCE_EFFECT_SET: sql`re.id`,
  VALUE_CLASS_CHANGED: sql`vh.id`,
};

function feed(p: Principal, customerId: SQL, types: readonly TimelineType[], after: TimelineCursor | undefined, n: number): SQL {
  const chosen = branches(p, customerId).filter((b) => types.includes(b.type));
  const parts = chosen.map((b) => {
    const id = idOf[b.type];
    // Strictly after the cursor in (at DESC, id DESC, type DESC): a branch whose type sorts below the
    // cursor's may still hold the cursor's own (at, id).
    const keyset = after
      ? b.type < after.type
        ? sql` AND (${b.at}, ${id}) <= (${after.at}::timestamptz, ${after.id}::uuid)`
        : sql` AND (${b.at}, ${id}) < (${after.at}::timestamptz, ${after.id}::uuid)`
      : sql``;
    return sql`(SELECT ${b.type}::text AS type, ${id} AS id, ${b.at} AS at, ${b.actor} AS actor_id, ${b.behalf} AS on_behalf_of_id, ${b.data} AS data
      FROM ${b.from} WHERE ${b.where}${keyset} ORDER BY ${b.at} DESC, ${id} DESC LIMIT ${n})`;
  });
  return sql`SELECT type, id, ${iso(sql`at`)} AS at, at AS sort_at, actor_id, on_behalf_of_id, data FROM (${sql.join(parts, sql` UNION ALL `)}) AS feed
      ORDER BY feed.at DESC, feed.id DESC, feed.type COLLATE "C" DESC LIMIT ${n}`;
}

// The rows of all pages of the feed: each chosen branch's rows (its where, no cursor, no limit), summed.
function feedCount(p: Principal, customerId: SQL, types: readonly TimelineType[]): SQL {
  const chosen = branches(p, customerId).filter((b) => types.includes(b.type));
  return sql`(${sql.join(
    chosen.map((b) => sql`(SELECT count(*) FROM ${b.from} WHERE ${b.where})`),
    sql` + `,
  )})::int`;
}

/** How many entries all pages of the customer's feed hold, with the same types and visibility. */
export async function timelineCount(ex: Executor, p: Principal, customerId: string, types: readonly TimelineType[]): Promise<number> {
  if (types.length === 0) return 0;
  const [row] = await queryRows<{ n: number | string }>(ex, sql`SELECT ${feedCount(p, sql`${customerId}::uuid`, types)} AS n`);
  return Number(row?.n ?? 0);
}

/** The same for many customers, in one statement (GraphQL Customer.timeline's totalCount). */
export async function timelineCounts(ex: Executor, p: Principal, customerIds: readonly string[], types: readonly TimelineType[]): Promise<Map<string, number>> {
  if (types.length === 0 || customerIds.length === 0) return new Map();
  const ids = sql`ARRAY[${sql.join(
    customerIds.map((id) => sql`${id}`),
    sql`, `,
  )}]::uuid[]`;
  const rows = await queryRows<{ customer_id: string; n: number | string }>(ex, sql`SELECT parents.cid::text AS customer_id, ${feedCount(p, sql`parents.cid`, types)} AS n FROM unnest(${ids}) AS parents(cid)`);
  return new Map(rows.map((r) => [r.customer_id, Number(r.n)]));
}

/**
 * The customer's feed, newest first, ordered by (at, id, type): `type` only breaks the tie of two
 * entries from one handoff row at the same instant. Returns up to limit + 1 rows.
 */
export async function timelinePage(ex: Executor, p: Principal, customerId: string, types: readonly TimelineType[], after: TimelineCursor | undefined, limit: number): Promise<TimelineRow[]> {
  if (types.length === 0) return [];
  return queryRows<TimelineRow>(ex, feed(p, sql`${customerId}::uuid`, types, after, limit + 1));
}

/** The first page of the feed of each of many customers, in one statement (GraphQL Customer.timeline). */
export async function timelinePages(ex: Executor, p: Principal, customerIds: readonly string[], types: readonly TimelineType[], after: TimelineCursor | undefined, limit: number): Promise<(TimelineRow & { customer_id: string })[]> {
  if (types.length === 0 || customerIds.length === 0) return [];
  const ids = sql`ARRAY[${sql.join(
    customerIds.map((id) => sql`${id}`),
    sql`, `,
  )}]::uuid[]`;
  return queryRows(
    ex,
    sql`SELECT parents.cid AS customer_id, page.* FROM unnest(${ids}) AS parents(cid)
      CROSS JOIN LATERAL (${feed(p, sql`parents.cid`, types, after, limit + 1)}) AS page
      ORDER BY parents.cid, page.sort_at DESC, page.id DESC, page.type COLLATE "C" DESC`,
  );
}
