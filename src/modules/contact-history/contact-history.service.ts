import type { Database, Executor } from '../../db/client.js';
import { can, onBehalfOf, type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, fieldError, notFound, staleWrite } from '../../lib/errors.js';
import { countsOnce, cursorForSort, decodeCursor, emptyPage, isIsoTimestamp, type Page, pageOf, parseSort, sortKey, withCount } from '../../lib/pagination.js';
import { contactHistoryRepository as repo, type InteractionOrder, type InteractionRow, type RevisionRow } from './contact-history.repository.js';
import {
  INTERACTION_SORTS,
  type InteractionDto,
  type InteractionFilter,
  type InteractionRevisionDto,
  type ListInteractionsQuery,
  type PatchInteractionInput,
  type RecordInteractionInput,
  TIMELINE_TYPES,
  type TimelineEntryDto,
  type TimelineQuery,
  type TimelineType,
} from './contact-history.schemas.js';
import { summaryOf } from './timeline.summary.js';
import { type TimelineCursor, type TimelineRow, timelineCount, timelineCounts, timelinePage, timelinePages } from './timeline.repository.js';

const iso = (d: Date) => d.toISOString();
const RESOURCE = 'interaction';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function toInteractionDto(r: InteractionRow): InteractionDto {
  return {
    id: r.id,
    customerId: r.customerId,
    contactId: r.contactId,
    opportunityId: r.opportunityId,
    channel: r.channel as InteractionDto['channel'],
    direction: r.direction as InteractionDto['direction'],
    occurredAt: iso(r.occurredAt),
    subject: r.subject,
    notes: r.notes,
    outcome: r.outcome,
    actorId: r.actorId,
    onBehalfOfId: r.onBehalfOfId,
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

// The writable fields of one version, as kept in interaction_revisions.snapshot.
type Snapshot = Pick<InteractionDto, 'contactId' | 'opportunityId' | 'channel' | 'direction' | 'occurredAt' | 'subject' | 'notes' | 'outcome'>;
function snapshotOf(r: InteractionRow): Snapshot {
  const d = toInteractionDto(r);
  return { contactId: d.contactId, opportunityId: d.opportunityId, channel: d.channel, direction: d.direction, occurredAt: d.occurredAt, subject: d.subject, notes: d.notes, outcome: d.outcome };
}

function toRevisionDto(r: RevisionRow): InteractionRevisionDto {
  const s = r.snapshot as Snapshot;
  return {
    id: r.id,
    interactionId: r.interactionId,
    version: r.version,
    contactId: s.contactId ?? null,
    opportunityId: s.opportunityId ?? null,
    channel: s.channel,
    direction: s.direction,
    occurredAt: s.occurredAt,
    subject: s.subject ?? null,
    notes: s.notes ?? null,
    outcome: s.outcome ?? null,
    editedBy: r.editedBy,
    onBehalfOfId: r.onBehalfOfId,
    editedAt: iso(r.editedAt),
  };
}

// A top-level list's page carries its sort in its cursors; a nested page (newest first only) does not.
const interactionPage = (rows: InteractionRow[], limit: number, order?: InteractionOrder): Page<InteractionDto> => {
  const pg = order ? pageOf(rows, limit, (r) => [iso(r[order.field]), r.id], sortKey(order)) : pageOf(rows, limit, (r) => [iso(r.occurredAt), r.id]);
  return { ...pg, data: pg.data.map(toInteractionDto) };
};

/** A top-level list's query split: its order, its cursor checked against that order, and its filter. */
function listParts(q: ListInteractionsQuery) {
  const { limit, cursor, count: _, sort: rawSort, ...filter } = q;
  const order: InteractionOrder = parseSort(rawSort, INTERACTION_SORTS, '-occurredAt');
  return { limit, order, cursor: cursorForSort(cursor, sortKey(order)), filter };
}

function decodeTimelineCursor(cursor: string | undefined): TimelineCursor | undefined {
  if (cursor === undefined) return undefined;
  const [at, id, type] = decodeCursor(cursor, 3);
  if (typeof at !== 'string' || !ISO_MS.test(at) || !isIsoTimestamp(at) || typeof id !== 'string' || !UUID.test(id) || !TIMELINE_TYPES.includes(type as TimelineType)) {
    throw fieldError('VALIDATION_FAILED', 'cursor', 'invalid cursor');
  }
  return { at, id, type: type as TimelineType };
}

/**
 * Called right after the commit of a write that changed an input of customer value (wired to the value
 * module in app.ts). Not inside it: a write holds a share lock on its customer, and two concurrent
 * writes rescoring the customer row in their own transactions would deadlock.
 */
export type ValueInputHook = (p: Principal, customerIds: string[], cause: 'INTERACTION') => Promise<unknown>;

export function createContactHistoryService(database: Database, opts: { onValueInput?: ValueInputHook } = {}) {
  const { db } = database;

  // A contact or opportunity named on an interaction must belong to the interaction's customer.
  async function checkLinks(tx: Executor, customerId: string, input: { contactId?: string | null | undefined; opportunityId?: string | null | undefined }) {
    if (input.contactId) {
      const c = await repo.contactOf(tx, input.contactId);
      if (!c || c.customerId !== customerId) throw fieldError('VALIDATION_FAILED', 'contactId', 'no such contact person of this customer');
    }
    if (input.opportunityId) {
      const o = await repo.opportunityOf(tx, input.opportunityId);
      if (!o || o.customerId !== customerId) throw fieldError('VALIDATION_FAILED', 'opportunityId', 'no such opportunity of this customer');
    }
  }

  // The customer for a read of its history: invisible → 404 (checked first, whatever the caller's
  // rights); visible without interactions:read → 403.
  async function readableCustomer(p: Principal, customerId: string) {
    const hit = await repo.findCustomer(db, p, customerId, 'interactions:read');
    if (!hit) throw notFound('customer');
    if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission interactions:read on this customer');
    return hit.row;
  }

  // A contact (or a complaint) is an input of the churn warning: the customer is rescored once the write is in.
  async function rescored(p: Principal, dto: InteractionDto): Promise<InteractionDto> {
    await opts.onValueInput?.(p, [dto.customerId], 'INTERACTION');
    return dto;
  }

  return {
    async record(p: Principal, customerId: string, input: RecordInteractionInput): Promise<InteractionDto> {
      return rescored(p, await db.transaction(async (tx) => {
        // A share lock: the customer cannot be merged away while its history grows.
        const hit = await repo.findCustomer(tx, p, customerId, 'interactions:create', true);
        if (!hit) throw notFound('customer');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission interactions:create on this customer');
        const customer = hit.row;
        if (customer.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', 'a merged customer is read-only; record the interaction on the surviving record');
        await checkLinks(tx, customerId, input);
        const behalf = onBehalfOf(p, customer.ownerUserId);
        const row = await repo.insert(tx, {
          customerId,
          contactId: input.contactId ?? null,
          opportunityId: input.opportunityId ?? null,
          channel: input.channel,
          direction: input.direction,
          occurredAt: input.occurredAt ? new Date(input.occurredAt) : new Date(),
          subject: input.subject ?? null,
          notes: input.notes ?? null,
          outcome: input.outcome ?? null,
          actorId: p.userId,
          onBehalfOfId: behalf,
        });
        const dto = toInteractionDto(row);
        await recordChange(tx, p, { entityType: RESOURCE, entityId: row.id, action: 'recorded', before: null, after: dto, onBehalfOfId: behalf, owner: customer });
        return dto;
      }));
    },

    async get(p: Principal, id: string): Promise<InteractionDto> {
      requirePermission(p, 'interactions:read');
      const hit = await repo.findInteraction(db, p, id, 'interactions:read');
      if (!hit) throw notFound('interaction');
      return toInteractionDto(hit.interaction);
    },

    async update(p: Principal, id: string, input: PatchInteractionInput, expectedVersion?: number): Promise<InteractionDto> {
      return rescored(p, await db.transaction(async (tx) => {
        const hit = await repo.findInteraction(tx, p, id, 'interactions:update', true);
        if (!hit) throw notFound('interaction');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission interactions:update on this customer');
        const before = hit.interaction;
        checkVersion(expectedVersion, before.version);
        if (hit.customer.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', "a merged customer's history is read-only");
        await checkLinks(tx, before.customerId, input);
        const set: Partial<InteractionRow> = {};
        for (const k of ['channel', 'direction', 'subject', 'notes', 'outcome', 'contactId', 'opportunityId'] as const) {
          if (input[k] !== undefined) (set as Record<string, unknown>)[k] = input[k];
        }
        if (input.occurredAt !== undefined) set.occurredAt = new Date(input.occurredAt);
        const same = (k: keyof InteractionRow) => {
          const a = set[k];
          const b = before[k];
          return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : (a ?? null) === (b ?? null);
        };
        // A PATCH that changes nothing writes nothing: same version, no revision, no audit row.
        if ((Object.keys(set) as (keyof InteractionRow)[]).every(same)) return toInteractionDto(before);
        const behalf = onBehalfOf(p, hit.customer.ownerUserId);
        const row = await repo.update(tx, id, before.version, set);
        if (!row) throw staleWrite();
        await repo.insertRevision(tx, { interactionId: id, version: before.version, snapshot: snapshotOf(before), editedBy: p.userId, onBehalfOfId: behalf });
        const dto = toInteractionDto(row);
        await recordChange(tx, p, { entityType: RESOURCE, entityId: id, action: 'updated', before: toInteractionDto(before), after: dto, onBehalfOfId: behalf, owner: hit.customer });
        return dto;
      }));
    },

    async revisions(p: Principal, id: string, cursor: string | undefined, limit: number): Promise<Page<InteractionRevisionDto>> {
      requirePermission(p, 'interactions:read');
      const hit = await repo.findInteraction(db, p, id, 'interactions:read');
      if (!hit) throw notFound('interaction');
      let after: number | undefined;
      if (cursor !== undefined) {
        const [v] = decodeCursor(cursor, 1);
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw fieldError('VALIDATION_FAILED', 'cursor', 'invalid cursor');
        after = v;
      }
      const rows = await repo.listRevisions(db, id, after, limit);
      const pg = pageOf(rows, limit, (r) => [r.version]);
      return withCount({ ...pg, data: pg.data.map(toRevisionDto) }, () => repo.countRevisions(db, id));
    },

    async listForCustomer(p: Principal, customerId: string, q: ListInteractionsQuery): Promise<Page<InteractionDto>> {
      await readableCustomer(p, customerId);
      const { limit, order, cursor, filter } = listParts(q);
      const rows = await repo.listForCustomer(db, customerId, filter, order, cursor, limit);
      return withCount(interactionPage(rows, limit, order), () => repo.countForCustomer(db, customerId, filter));
    },

    async listForOpportunity(p: Principal, opportunityId: string, q: ListInteractionsQuery): Promise<Page<InteractionDto>> {
      const opp = await repo.findOpportunity(db, p, opportunityId);
      if (!opp) throw notFound('opportunity');
      requirePermission(p, 'interactions:read');
      const { limit, order, cursor, filter } = listParts(q);
      const rows = await repo.listForOpportunity(db, p, opportunityId, filter, order, cursor, limit);
      return withCount(interactionPage(rows, limit, order), () => repo.countForOpportunity(db, p, opportunityId, filter));
    },

    /**
     * The first page of interactions of each customer, in one statement (GraphQL Customer.interactions).
     * The customers come from a page the caller could read; each one's interactions still pass the rule.
     */
    async listForCustomers(p: Principal, customerIds: readonly string[], filter: InteractionFilter, first: number, after?: string): Promise<Map<string, Page<InteractionDto>>> {
      const rows = await repo.newestPerParent(db, p, 'customer', [...new Set(customerIds)], filter, after, first);
      const countOf = countsOnce(customerIds, (ids) => repo.countPerParent(db, p, 'customer', ids, filter));
      return groupPages(rows, (r) => r.customerId, customerIds, first, countOf);
    },

    /** The same per opportunity (for Opportunity.interactions): only opportunities the caller can see. */
    async listForOpportunities(p: Principal, opportunityIds: readonly string[], first: number, filter: InteractionFilter = {}, after?: string): Promise<Map<string, Page<InteractionDto>>> {
      const rows = await repo.newestPerParent(db, p, 'opportunity', [...new Set(opportunityIds)], filter, after, first);
      const countOf = countsOnce(opportunityIds, (ids) => repo.countPerParent(db, p, 'opportunity', ids, filter));
      return groupPages(rows, (r) => r.opportunityId ?? '', opportunityIds, first, countOf);
    },

    async timeline(p: Principal, customerId: string, q: TimelineQuery): Promise<Page<TimelineEntryDto>> {
      requirePermission(p, 'customers:read');
      if (!(await repo.findCustomer(db, p, customerId, 'customers:read'))) throw notFound('customer');
      const types = q.types ?? TIMELINE_TYPES;
      const rows = await timelinePage(db, p, customerId, types, decodeTimelineCursor(q.cursor), q.limit);
      return withCount(timelineOf(rows, q.limit), () => timelineCount(db, p, customerId, types));
    },

    /** The first page of the timeline of each of many customers, in one statement (GraphQL Customer.timeline). */
    async timelines(p: Principal, customerIds: readonly string[], q: TimelineQuery): Promise<Map<string, Page<TimelineEntryDto>>> {
      const ids = [...new Set(customerIds)];
      if (!can(p, 'customers:read')) return new Map(ids.map((id) => [id, emptyPage<TimelineEntryDto>()]));
      const types = q.types ?? TIMELINE_TYPES;
      const rows = await timelinePages(db, p, ids, types, decodeTimelineCursor(q.cursor), q.limit);
      const byCustomer = new Map<string, TimelineRow[]>();
      for (const r of rows) byCustomer.set(r.customer_id, [...(byCustomer.get(r.customer_id) ?? []), r]);
      const countOf = countsOnce(ids, (all) => timelineCounts(db, p, all, types));
      return new Map(ids.map((id) => [id, withCount(timelineOf(byCustomer.get(id) ?? [], q.limit), countOf(id))]));
    },

    /** Earlier versions of many interactions the caller already holds (GraphQL Interaction.revisions). */
    async revisionsOf(p: Principal, interactionIds: readonly string[]): Promise<Map<string, InteractionRevisionDto[]>> {
      const out = new Map<string, InteractionRevisionDto[]>();
      for (const r of await repo.revisionsOf(db, p, [...new Set(interactionIds)])) out.set(r.interactionId, [...(out.get(r.interactionId) ?? []), toRevisionDto(r)]);
      return out;
    },
  };
}

function timelineOf(rows: TimelineRow[], limit: number): Page<TimelineEntryDto> {
  const pg = pageOf(rows, limit, (r) => [r.at, r.id, r.type]);
  return {
    ...pg,
    data: pg.data.map((r) => ({ id: r.id, type: r.type, at: r.at, actorId: r.actor_id, onBehalfOfId: r.on_behalf_of_id, summary: summaryOf(r.type, r.data), data: r.data })),
  };
}

function groupPages(rows: InteractionRow[], keyOf: (r: InteractionRow) => string, ids: readonly string[], first: number, countOf: (id: string) => () => Promise<number>): Map<string, Page<InteractionDto>> {
  const byParent = new Map<string, InteractionRow[]>();
  for (const r of rows) {
    const list = byParent.get(keyOf(r)) ?? [];
    list.push(r);
    byParent.set(keyOf(r), list);
  }
  const newestFirst = (a: InteractionRow, b: InteractionRow) => b.occurredAt.getTime() - a.occurredAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
  return new Map(ids.map((id) => [id, withCount(interactionPage((byParent.get(id) ?? []).sort(newestFirst), first), countOf(id))]));
}

export type ContactHistoryService = ReturnType<typeof createContactHistoryService>;
