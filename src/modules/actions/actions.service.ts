import type { Database, Executor } from '../../db/client.js';
import { onBehalfOf, type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, fieldError, notFound, staleWrite } from '../../lib/errors.js';
import { countsOnce, cursorForSort, decodeCursor, isIsoTimestamp, type Page, pageOf, parseSort, sortKey, withCount } from '../../lib/pagination.js';
import { type ActionRow, type ActionWithContext, actionsRepository as repo, RESOURCE } from './actions.repository.js';
import { ACTION_SORTS, type ActionDto, type CreateActionInput, type ListActionsQuery, type PatchActionInput } from './actions.schemas.js';
import { priority } from './priority.js';
import { resolveOwner } from '../customers/index.js';

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function toActionDto(a: ActionWithContext, now: Date): ActionDto {
  const r = a.row;
  return {
    id: r.id,
    opportunityId: r.opportunityId,
    customerId: r.customerId,
    title: r.title,
    key: r.key,
    notes: r.notes,
    dueAt: isoOrNull(r.dueAt),
    value: r.value,
    urgency: r.urgency,
    status: r.status as ActionDto['status'],
    kind: r.kind as ActionDto['kind'],
    assigneeId: r.assigneeId,
    ownerUnitId: r.ownerUnitId,
    priority: priority(r.value, r.urgency, r.dueAt, now),
    completedAt: isoOrNull(r.completedAt),
    handoffId: r.handoffId,
    onBehalfOfId: r.onBehalfOfId,
    customerName: a.customerName,
    opportunityName: a.opportunityName,
    stageKey: a.stageKey,
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

type Parent = { kind: 'customer'; id: string } | { kind: 'opportunity'; id: string };
export type ActionPageArgs = { first: number; after?: string | undefined };

// An agenda cursor pins the time the priorities were computed at, so later pages continue the same order.
function decodeAgendaCursor(cursor: string): { nowMs: number; priority: number; id: string } {
  const [nowMs, prio, id] = decodeCursor(cursor, 3);
  if (typeof nowMs !== 'number' || !Number.isSafeInteger(nowMs) || !isIsoTimestamp(new Date(Math.min(Math.max(nowMs, -8.64e15), 8.64e15)).toISOString()) || typeof prio !== 'number' || !Number.isFinite(prio) || typeof id !== 'string' || !UUID.test(id)) {
    throw fieldError('VALIDATION_FAILED', 'cursor', 'invalid cursor');
  }
  return { nowMs, priority: prio, id };
}

export function createActionService(database: Database) {
  const { db } = database;

  /**
   * The assignee a caller may give an action to: itself, a delegator, or — with a scope wider than
   * OWN — an active user its reach covers (the ownership rule of every record).
   */
  async function resolveAssignee(tx: Executor, p: Principal, permission: string, assigneeId: string | undefined) {
    const o = await resolveOwner(tx, p, permission, assigneeId, undefined, { fields: { user: 'assigneeId', unit: 'assigneeId' } });
    return { assigneeId: o.ownerUserId ?? p.userId, ownerUnitId: o.ownerUnitId };
  }

  async function readBack(tx: Executor, p: Principal, id: string): Promise<ActionDto> {
    const hit = await repo.withContextById(tx, p, id);
    if (!hit) throw notFound('action');
    return toActionDto(hit, new Date());
  }

  async function create(p: Principal, parent: Parent, input: CreateActionInput): Promise<ActionDto> {
    return db.transaction(async (tx) => {
      let customerId: string;
      let opportunityId: string | null = null;
      let parentOwner: string | null;
      // Invisible parent: 404 whatever the permissions; visible but not allowed: 403.
      if (parent.kind === 'customer') {
        const c = await repo.customerParent(tx, p, parent.id);
        if (!c) throw notFound('customer');
        if (!c.allowed) throw new AppError('FORBIDDEN', 'missing permission actions:create on this customer');
        if (c.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', 'a merged customer is read-only; plan actions on the surviving record');
        customerId = c.id;
        parentOwner = c.ownerUserId;
      } else {
        const o = await repo.opportunityParent(tx, p, parent.id);
        if (!o) throw notFound('opportunity');
        if (!o.allowed) throw new AppError('FORBIDDEN', 'missing permission actions:create on this opportunity');
        customerId = o.customerId;
        opportunityId = o.id;
        parentOwner = o.ownerUserId;
      }
      const assignee = await resolveAssignee(tx, p, 'actions:create', input.assigneeId);
      const row = await repo.insert(tx, {
        customerId,
        opportunityId,
        title: input.title,
        key: input.key ?? null,
        notes: input.notes ?? null,
        dueAt: input.dueAt ? new Date(input.dueAt) : null,
        value: input.value ?? 3,
        urgency: input.urgency ?? 3,
        status: 'OPEN',
        kind: 'PLANNED',
        ...assignee,
        createdBy: p.userId,
        onBehalfOfId: onBehalfOf(p, assignee.assigneeId) ?? onBehalfOf(p, parentOwner),
      });
      await recordChange(tx, p, {
        entityType: RESOURCE,
        entityId: row.id,
        action: 'created',
        before: null,
        after: row,
        onBehalfOfId: row.onBehalfOfId,
        owner: { ownerUserId: row.assigneeId, ownerUnitId: row.ownerUnitId },
      });
      return readBack(tx, p, row.id);
    });
  }

  async function list(p: Principal, parent: Parent, q: ListActionsQuery): Promise<Page<ActionDto>> {
    const { field, desc } = parseSort(q.sort, ACTION_SORTS, 'createdAt');
    const sort = sortKey({ field, desc });
    // An invisible parent is 404 whatever the caller's permissions; a visible one without actions:read, 403.
    const visible = parent.kind === 'customer' ? await repo.customerVisible(db, p, parent.id) : await repo.opportunityVisible(db, p, parent.id);
    if (!visible) throw notFound(parent.kind);
    requirePermission(p, 'actions:read');
    const of = parent.kind === 'customer' ? { customerId: parent.id } : { opportunityId: parent.id };
    const rows = await repo.list(db, p, of, q, cursorForSort(q.cursor, sort), q.limit, desc, field);
    const now = new Date();
    const pg = pageOf(rows, q.limit, (r) => [iso(r.row[field]), r.row.id], sort);
    return withCount({ ...pg, data: pg.data.map((r) => toActionDto(r, now)) }, () => repo.count(db, p, of, q));
  }

  // Many parents' first pages at once (GraphQL nested fields): one statement whatever their number.
  async function pagesByParent(p: Principal, by: 'customerId' | 'opportunityId', parentIds: readonly string[], args: ActionPageArgs): Promise<Map<string, Page<ActionDto>>> {
    const ids = [...new Set(parentIds)];
    const rows = await repo.pagesByParent(db, p, by, ids, args.after, args.first);
    const now = new Date();
    const grouped = new Map<string, ActionWithContext[]>();
    for (const r of rows) {
      const key = by === 'customerId' ? r.row.customerId : r.row.opportunityId;
      if (!key) continue;
      grouped.set(key, [...(grouped.get(key) ?? []), r]);
    }
    const out = new Map<string, Page<ActionDto>>();
    const countOf = countsOnce(ids, (all) => repo.countByParent(db, p, by, all));
    for (const id of ids) {
      const pg = pageOf(grouped.get(id) ?? [], args.first, (r) => [iso(r.row.createdAt), r.row.id]);
      out.set(id, withCount({ ...pg, data: pg.data.map((r) => toActionDto(r, now)) }, countOf(id)));
    }
    return out;
  }

  return {
    async get(p: Principal, id: string): Promise<ActionDto> {
      const hit = await repo.findVisible(db, p, id);
      if (!hit) throw notFound('action');
      return toActionDto(hit, new Date());
    },

    createForCustomer: (p: Principal, customerId: string, input: CreateActionInput) => create(p, { kind: 'customer', id: customerId }, input),
    createForOpportunity: (p: Principal, opportunityId: string, input: CreateActionInput) => create(p, { kind: 'opportunity', id: opportunityId }, input),

    /** Every visible action of the customer, those of its opportunities included. */
    listForCustomer: (p: Principal, customerId: string, q: ListActionsQuery) => list(p, { kind: 'customer', id: customerId }, q),
    listForOpportunity: (p: Principal, opportunityId: string, q: ListActionsQuery) => list(p, { kind: 'opportunity', id: opportunityId }, q),

    /** For Customer.actions: the first page of each customer's visible actions, in one statement. */
    actionsByCustomers: (p: Principal, customerIds: readonly string[], args: ActionPageArgs) => pagesByParent(p, 'customerId', customerIds, args),
    /** For Opportunity.actions: the first page of each opportunity's visible actions, in one statement. */
    actionsByOpportunities: (p: Principal, opportunityIds: readonly string[], args: ActionPageArgs) => pagesByParent(p, 'opportunityId', opportunityIds, args),

    async update(p: Principal, id: string, input: PatchActionInput, expectedVersion?: number): Promise<ActionDto> {
      return db.transaction(async (tx) => {
        const hit = await repo.findForAction(tx, p, id, true);
        if (!hit) throw notFound('action');
        const before = hit.row;
        const given = (Object.keys(input) as (keyof PatchActionInput)[]).filter((k) => input[k] !== undefined);
        // The assignee (or its delegate) may always move its own action's status.
        const isAssignee = before.assigneeId === p.userId || p.delegatorIds.includes(before.assigneeId);
        if (!hit.allowed && !(isAssignee && given.every((k) => k === 'status'))) {
          throw new AppError('FORBIDDEN', 'missing permission actions:update on this action');
        }
        checkVersion(expectedVersion, before.version);
        const set: Partial<ActionRow> = {};
        if (input.title !== undefined) set.title = input.title;
        if (input.key !== undefined) set.key = input.key;
        if (input.notes !== undefined) set.notes = input.notes;
        if (input.dueAt !== undefined) set.dueAt = input.dueAt === null ? null : new Date(input.dueAt);
        if (input.value !== undefined) set.value = input.value;
        if (input.urgency !== undefined) set.urgency = input.urgency;
        if (input.status !== undefined && input.status !== before.status) {
          set.status = input.status;
          set.completedAt = input.status === 'DONE' ? new Date() : null;
        }
        if (input.assigneeId !== undefined && input.assigneeId !== before.assigneeId) {
          Object.assign(set, await resolveAssignee(tx, p, 'actions:update', input.assigneeId));
        }
        const same = (a: unknown, b: unknown) => (a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b);
        const changed = (Object.keys(set) as (keyof ActionRow)[]).filter((k) => !same(set[k] ?? null, before[k] ?? null));
        // A PATCH that changes nothing writes nothing.
        if (changed.length === 0) return readBack(tx, p, id);
        const parentOwner = before.opportunityId ? hit.opportunityOwnerUserId : hit.customerOwnerUserId;
        const behalf = onBehalfOf(p, before.assigneeId) ?? onBehalfOf(p, parentOwner);
        const row = await repo.update(tx, id, before.version, set);
        if (!row) throw staleWrite();
        const action =
          set.assigneeId !== undefined
            ? 'reassigned'
            : set.status === 'DONE'
              ? 'completed'
              : set.status === 'CANCELLED'
                ? 'cancelled'
                : set.status === 'OPEN'
                  ? 'reopened'
                  : 'updated';
        await recordChange(tx, p, {
          entityType: RESOURCE,
          entityId: id,
          action,
          before,
          after: row,
          onBehalfOfId: behalf,
          owner: { ownerUserId: row.assigneeId, ownerUnitId: row.ownerUnitId },
        });
        return readBack(tx, p, id);
      });
    },

    /**
     * The caller's open actions and, under active delegations, its delegators', from every source,
     * by priority (highest first). The first page fixes `now`; its cursor carries it to later pages.
     */
    async agenda(p: Principal, q: { limit: number; cursor?: string | undefined }): Promise<Page<ActionDto>> {
      requirePermission(p, 'actions:read');
      const c = q.cursor ? decodeAgendaCursor(q.cursor) : null;
      const nowMs = c?.nowMs ?? Date.now();
      const rows = await repo.agenda(db, p, nowMs, c ? { priority: c.priority, id: c.id } : null, q.limit);
      const now = new Date(nowMs);
      const pg = pageOf(rows, q.limit, (r) => [nowMs, r.priority, r.row.id]);
      return withCount({ ...pg, data: pg.data.map((r) => toActionDto(r, now)) }, () => repo.countAgenda(db, p));
    },
  };
}

export type ActionService = ReturnType<typeof createActionService>;

/** The key action an overdue handoff puts on the agenda of the manager it escalates to. */
export async function createEscalationAction(
  tx: Executor,
  actor: Principal,
  v: { customerId: string; customerName: string; handoffId: string; assignee: { id: string; unitId: string } },
): Promise<void> {
  const action = await repo.insertEscalation(tx, {
    customerId: v.customerId,
    title: `Handoff overdue: ${v.customerName}`,
    handoffId: v.handoffId,
    assigneeId: v.assignee.id,
    ownerUnitId: v.assignee.unitId,
    createdBy: actor.userId,
  });
  await recordChange(tx, actor, { entityType: 'action', entityId: action.id, action: 'created', before: null, after: action, owner: { ownerUserId: v.assignee.id, ownerUnitId: v.assignee.unitId } });
}


/** The key action that puts a newly allocated lead on its receiver's agenda, due per the allocation SLA. */
export async function createAllocationAction(
  tx: Executor,
  actor: Principal,
  v: { customerId: string; customerName: string; assignee: { id: string; unitId: string }; dueAt: Date; pool?: boolean },
): Promise<void> {
  // A lead left in a unit's pool is its manager's to hand on to a salesperson.
  const action = await repo.insert(tx, {
    customerId: v.customerId,
    title: v.pool ? `New lead in your unit's pool, to assign: ${v.customerName}` : `New lead allocated: ${v.customerName}`,
    key: v.pool ? 'POOL_LEAD_ALLOCATED' : 'LEAD_ALLOCATED',
    dueAt: v.dueAt,
    value: 3,
    urgency: 4,
    assigneeId: v.assignee.id,
    ownerUnitId: v.assignee.unitId,
    createdBy: actor.userId,
  });
  await recordChange(tx, actor, { entityType: 'action', entityId: action.id, action: 'created', before: null, after: action, owner: { ownerUserId: v.assignee.id, ownerUnitId: v.assignee.unitId } });
}
