import type { Database, Executor } from '../../db/client.js';
import { onBehalfOf, type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, fieldError, notFound } from '../../lib/errors.js';
import { cursorForSort, type Page, pageOf, parseSort, sortKey, withCount } from '../../lib/pagination.js';
import { applyLifecycleTransition, changeCustomerOwner, type CustomerRow, customersRepository, isBefore, LEAD_STAGES, ownershipRepository } from '../customers/index.js';
import { type HandoffRow, lifecycleRepository as repo, type TransitionRow } from './lifecycle.repository.js';
import { HANDOFF_SORTS, type HandoffDto, type HandoffInput, type ListHandoffsQuery, type TransitionDto, type TransitionInput, type TransitionResultDto } from './lifecycle.schemas.js';
import { createEscalation } from './escalation.js';

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export function toTransitionDto(r: TransitionRow): TransitionDto {
  return {
    id: r.id,
    customerId: r.customerId,
    from: r.fromStage as TransitionDto['from'],
    to: r.toStage as TransitionDto['to'],
    reason: r.reason,
    cause: r.cause as TransitionDto['cause'],
    actorId: r.actorId,
    onBehalfOfId: r.onBehalfOfId,
    at: iso(r.at),
  };
}

export function toHandoffDto(r: HandoffRow): HandoffDto {
  return {
    id: r.id,
    customerId: r.customerId,
    fromUserId: r.fromUserId,
    fromUnitId: r.fromUnitId,
    toUserId: r.toUserId,
    toUnitId: r.toUnitId,
    dueAt: iso(r.dueAt),
    status: r.status as HandoffDto['status'],
    note: r.note,
    reason: r.reason,
    decidedBy: r.decidedBy,
    decidedAt: isoOrNull(r.decidedAt),
    escalatedAt: isoOrNull(r.escalatedAt),
    escalatedToId: r.escalatedToId,
    onBehalfOfId: r.onBehalfOfId,
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

// Schedules the deadline of a new handoff inside the transaction that creates it (the job queue's, given when the service is built).
export type EscalationScheduler = (tx: Executor, handoff: { id: string; dueAt: Date }) => Promise<void>;

function refuseInactive(c: CustomerRow, what: string): void {
  if (c.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', `a merged customer is read-only; ${what} the surviving record`);
  if (c.status === 'FROZEN') throw new AppError('CUSTOMER_FROZEN', `a frozen customer cannot change; unfreeze it first, then ${what} it`);
}

export function createLifecycleService(database: Database, opts: { scheduler?: EscalationScheduler | null } = {}) {
  const { db } = database;
  const scheduler = opts.scheduler ?? null;

  async function loadForWrite(tx: Executor, p: Principal, id: string) {
    const hit = await customersRepository.findForAction(tx, p, id, 'customers:update', true);
    if (!hit) throw notFound('customer');
    if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission customers:update on this customer');
    return hit.row;
  }

  // The receiver takes (or the sender's unit gets back) the lead: an ownership change with cause HANDOFF.
  const changeOwner = (tx: Executor, p: Principal, customer: CustomerRow, to: { ownerUserId: string | null; ownerUnitId: string }, handoffId: string) =>
    changeCustomerOwner(tx, p, customer, to, 'HANDOFF', { handoffId });

  /** Locks the customer, then the handoff (the order every writer of both uses), for its receiver. */
  async function loadForDecision(tx: Executor, p: Principal, id: string) {
    const seen = await repo.findVisibleHandoff(tx, p, id);
    if (!seen) throw notFound('handoff');
    if (!repo.isReceiver(p, seen)) throw new AppError('NOT_HANDOFF_RECEIVER', 'only the receiver decides a handoff');
    requirePermission(p, 'customers:update');
    const customer = await ownershipRepository.lockById(tx, seen.customerId);
    const h = await repo.lockHandoff(tx, id);
    if (!customer || !h) throw notFound('handoff');
    if (h.status !== 'PENDING') throw new AppError('HANDOFF_NOT_PENDING', `the handoff is ${h.status}; only a PENDING handoff can be decided`);
    return { customer, h };
  }

  return {
    // Missed deadlines (run by the job queue): escalate one handoff, or every overdue one.
    ...createEscalation(database),

    async transition(p: Principal, customerId: string, input: TransitionInput, expectedVersion?: number): Promise<TransitionResultDto> {
      return db.transaction(async (tx) => {
        const c = await loadForWrite(tx, p, customerId);
        checkVersion(expectedVersion, c.version);
        refuseInactive(c, 'move');
        if (c.lifecycleStage === input.to) throw fieldError('LIFECYCLE_UNCHANGED', 'to', `the customer already stands at ${input.to}`);
        const row = await applyLifecycleTransition(tx, p, c, input.to, { reason: input.reason, cause: 'MANUAL' });
        if (!row) throw fieldError('LIFECYCLE_UNCHANGED', 'to', `the customer already stands at ${input.to}`);
        // The customer row is locked since loadForWrite and the move bumps its version by exactly one.
        return { ...toTransitionDto(row), customerVersion: c.version + 1 };
      });
    },

    async listTransitions(p: Principal, customerId: string, cursor: string | undefined, limit: number): Promise<Page<TransitionDto>> {
      requirePermission(p, 'customers:read');
      if (!(await customersRepository.findVisible(db, p, customerId))) throw notFound('customer');
      const rows = await repo.listTransitions(db, customerId, cursor, limit);
      const pg = pageOf(rows, limit, (r) => [iso(r.at), r.id]);
      return withCount({ ...pg, data: pg.data.map(toTransitionDto) }, () => repo.countTransitions(db, customerId));
    },

    async transitionsByCustomer(p: Principal, customerIds: readonly string[]): Promise<Map<string, TransitionDto[]>> {
      const out = new Map<string, TransitionDto[]>();
      for (const r of await repo.transitionsOf(db, p, customerIds)) out.set(r.customerId, [...(out.get(r.customerId) ?? []), toTransitionDto(r)]);
      return out;
    },

    async handoffsByCustomer(p: Principal, customerIds: readonly string[]): Promise<Map<string, HandoffDto[]>> {
      const out = new Map<string, HandoffDto[]>();
      for (const r of await repo.handoffsOf(db, p, customerIds)) out.set(r.customerId, [...(out.get(r.customerId) ?? []), toHandoffDto(r)]);
      return out;
    },

    async handOff(p: Principal, customerId: string, input: HandoffInput): Promise<HandoffDto> {
      return db.transaction(async (tx) => {
        const c = await loadForWrite(tx, p, customerId);
        let toUnitId: string;
        let toUserId: string | null = null;
        if (input.toUserId) {
          const u = await repo.receiverUser(tx, p, input.toUserId);
          if (!u || !u.visible || !u.active) throw fieldError('VALIDATION_FAILED', 'toUserId', 'no such active user');
          toUserId = u.id;
          toUnitId = u.unitId;
        } else {
          const u = input.toUnitId ? await repo.receiverUnit(tx, p, input.toUnitId) : null;
          if (!u || !u.visible) throw fieldError('VALIDATION_FAILED', 'toUnitId', 'no such unit');
          toUnitId = u.id;
        }
        refuseInactive(c, 'hand off');
        if (!LEAD_STAGES.has(c.lifecycleStage)) {
          throw new AppError('NOT_A_LEAD', `only a SUSPECT or PROSPECT can be handed off; this customer is ${c.lifecycleStage}`);
        }
        if (await repo.pendingFor(tx, customerId)) throw new AppError('HANDOFF_ALREADY_PENDING', 'the customer already has a pending handoff');
        const behalf = onBehalfOf(p, c.ownerUserId);
        const h = await repo.insertHandoff(tx, {
          customerId,
          fromUserId: p.userId,
          fromUnitId: p.unitId,
          toUserId,
          toUnitId,
          dueAt: new Date(input.dueAt),
          note: input.note ?? null,
          onBehalfOfId: behalf,
        });
        await recordChange(tx, p, { entityType: 'handoff', entityId: h.id, action: 'created', before: null, after: toHandoffDto(h), onBehalfOfId: behalf, owner: c });
        if (scheduler) await scheduler(tx, { id: h.id, dueAt: h.dueAt });
        return toHandoffDto(h);
      });
    },

    async getHandoff(p: Principal, id: string): Promise<HandoffDto> {
      const h = await repo.findVisibleHandoff(db, p, id);
      if (!h) throw notFound('handoff');
      return toHandoffDto(h);
    },

    async listHandoffs(p: Principal, q: ListHandoffsQuery): Promise<Page<HandoffDto>> {
      const filter = { box: q.box, status: q.status, updatedAfter: q.updatedAfter };
      const order = parseSort(q.sort, HANDOFF_SORTS, '-createdAt');
      const sort = sortKey(order);
      const rows = await repo.listHandoffs(db, p, filter, order, cursorForSort(q.cursor, sort), q.limit);
      const pg = pageOf(rows, q.limit, (r) => [iso(r[order.field]), r.id], sort);
      return withCount({ ...pg, data: pg.data.map(toHandoffDto) }, () => repo.countHandoffs(db, p, filter));
    },

    /** The receiver takes the lead: it owns the customer, which becomes an OPPORTUNITY. */
    async accept(p: Principal, id: string): Promise<HandoffDto> {
      return db.transaction(async (tx) => {
        const { customer, h } = await loadForDecision(tx, p, id);
        const owned = await changeOwner(tx, p, customer, { ownerUserId: p.userId, ownerUnitId: p.unitId }, id);
        // A lead moved on meanwhile (e.g. already a CUSTOMER) is not pulled back.
        if (isBefore(owned.lifecycleStage, 'OPPORTUNITY')) {
          await applyLifecycleTransition(tx, p, owned, 'OPPORTUNITY', { cause: 'HANDOFF' });
        }
        const row = await repo.decide(tx, id, { status: 'ACCEPTED', decidedBy: p.userId, decidedAt: new Date() });
        await recordChange(tx, p, { entityType: 'handoff', entityId: id, action: 'accepted', before: { status: h.status }, after: toHandoffDto(row), owner: owned });
        return toHandoffDto(row);
      });
    },

    /** The receiver declines: the customer goes back to PROSPECT in the sender's pool. */
    async reject(p: Principal, id: string, reason: string): Promise<HandoffDto> {
      return db.transaction(async (tx) => {
        const { customer, h } = await loadForDecision(tx, p, id);
        const pooled = await changeOwner(tx, p, customer, { ownerUserId: null, ownerUnitId: h.fromUnitId }, id);
        await applyLifecycleTransition(tx, p, pooled, 'PROSPECT', { cause: 'HANDOFF', reason });
        const row = await repo.decide(tx, id, { status: 'REJECTED', reason, decidedBy: p.userId, decidedAt: new Date() });
        await recordChange(tx, p, { entityType: 'handoff', entityId: id, action: 'rejected', before: { status: h.status }, after: toHandoffDto(row), owner: pooled });
        return toHandoffDto(row);
      });
    },
  };
}

export type LifecycleService = ReturnType<typeof createLifecycleService>;
