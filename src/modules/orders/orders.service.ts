import type { Database, Executor } from '../../db/client.js';
import { can, onBehalfOf, type Principal, requirePermission, scopeFor } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, fieldError, notFound, staleWrite } from '../../lib/errors.js';
import { applyExternalIds, type ExternalIdMap, externalIdsOf, findRecordByExternalId } from '../../lib/external-ids.js';
import { cursorForSort, type Page, pageOf, parseSort, sortKey } from '../../lib/pagination.js';
import { applyLifecycleTransition, type CustomerDto, customersRepository, isBefore, ownershipRepository, toCustomerDto } from '../customers/index.js';
import { type LineRow, type ListFilter, type OrderHit, type OrderRow, type OrderSort, ordersRepository as repo, RESOURCE } from './orders.repository.js';
import { orderPatch, toOrderDto, wantedTimes } from './order-values.js';
import { createOrderBulk } from './orders.bulk.js';
import { orderAmount, planStatus, priceLines } from './orders.rules.js';
import { createOrderUpsert } from './orders.upsert.js';
import { type CreateOrderInput, type ListOrdersQuery, ORDER_SORTS, type OrderDto, type PatchOrderInput } from './orders.schemas.js';

const iso = (d: Date) => d.toISOString();

type CustomerTarget = { id: string; status: string; lifecycleStage: string; ownerUserId: string | null; ownerUnitId: string };

// External ids are the integrated systems' (domain.md §8): written only with integration:write.
function refuseExternalIds(p: Principal, patch: Record<string, string | null> | null | undefined, before: ExternalIdMap): void {
  if (patch == null || can(p, 'integration:write')) return;
  const changes = Object.entries(patch).some(([system, id]) => (before[system] ?? null) !== id);
  if (changes) throw fieldError('FORBIDDEN', 'externalIds', 'owned by the integrated systems: written only with integration:write');
}

/**
 * The lifecycle consequences of an order (domain.md §8), forward only: an order that is not cancelled
 * makes a customer standing before CUSTOMER a CUSTOMER; a confirmed one makes it a USER.
 */
async function liftLifecycle(tx: Executor, p: Principal, customer: CustomerTarget, order: OrderRow): Promise<void> {
  if (customer.status === 'MERGED' || order.status === 'CANCELLED') return;
  let stage = customer.lifecycleStage;
  if (isBefore(stage, 'CUSTOMER')) {
    await applyLifecycleTransition(tx, p, { ...customer, lifecycleStage: stage }, 'CUSTOMER', { cause: 'ORDER', reason: `order ${order.number ?? order.id} placed` });
    stage = 'CUSTOMER';
  }
  if (order.status === 'CONFIRMED' && isBefore(stage, 'USER')) {
    await applyLifecycleTransition(tx, p, { ...customer, lifecycleStage: stage }, 'USER', { cause: 'ORDER', reason: `order ${order.number ?? order.id} confirmed` });
  }
}

/** Orders are the revenue input of the customer's value: the value module rescores the customer in the write's transaction. */
export type ValueInputHook = (tx: Executor, p: Principal, customerIds: string[], cause: 'ORDER') => Promise<unknown>;

export function createOrderService(database: Database, opts: { onValueInput?: ValueInputHook } = {}) {
  const { db } = database;
  const onValueInput = opts.onValueInput;

  async function dtos(ex: Executor, p: Principal, hits: readonly OrderHit[]): Promise<OrderDto[]> {
    const ids = hits.map((h) => h.row.id);
    const [lines, ext] = await Promise.all([repo.linesOf(ex, ids), externalIdsOf(ex, RESOURCE, ids)]);
    const byOrder = new Map<string, LineRow[]>();
    for (const l of lines) byOrder.set(l.orderId, [...(byOrder.get(l.orderId) ?? []), l]);
    return hits.map((h) => toOrderDto(p, h, byOrder.get(h.row.id) ?? [], ext.get(h.row.id)));
  }

  async function one(ex: Executor, p: Principal, hit: OrderHit): Promise<OrderDto> {
    const [dto] = await dtos(ex, p, [hit]);
    if (!dto) throw new Error('order without its answer');
    return dto;
  }

  /** The customer an order is placed on, by id or by external id: locked, and writable by the caller. */
  async function targetCustomer(tx: Executor, p: Principal, input: Pick<CreateOrderInput, 'customerId' | 'customer'>): Promise<CustomerTarget> {
    const field = input.customerId !== undefined ? 'customerId' : 'customer';
    const id = input.customerId ?? (input.customer ? await findRecordByExternalId(tx, 'customer', input.customer.system, input.customer.externalId) : null);
    // A customer the caller cannot see answers like an unknown one: no probing.
    const hit = id ? await customersRepository.findForAction(tx, p, id, 'orders:create', true) : null;
    if (!hit) throw fieldError('VALIDATION_FAILED', field, 'no such customer');
    if (!hit.allowed) throw fieldError('FORBIDDEN', field, 'orders on this customer need write access to it; a share grants reading only');
    if (hit.row.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', 'the customer is merged into another; place the order on the surviving customer');
    return hit.row;
  }

  async function checkOpportunity(tx: Executor, p: Principal, opportunityId: string | null | undefined, customerId: string): Promise<void> {
    if (!opportunityId) return;
    const opp = await repo.visibleOpportunity(tx, p, opportunityId);
    if (!opp) throw fieldError('VALIDATION_FAILED', 'opportunityId', 'no such opportunity');
    if (opp.customerId !== customerId) throw fieldError('VALIDATION_FAILED', 'opportunityId', "the opportunity belongs to another customer than the order's");
  }

  const service = {
    async get(p: Principal, id: string): Promise<OrderDto> {
      requirePermission(p, 'orders:read');
      const hit = await repo.findVisible(db, p, id);
      if (!hit) throw notFound('order');
      return one(db, p, hit);
    },

    /** The order holding `system`/`externalId`, when the caller sees it (404 otherwise, the same either way). */
    async getByExternalId(p: Principal, system: string, externalId: string): Promise<OrderDto> {
      requirePermission(p, 'orders:read');
      const id = await findRecordByExternalId(db, RESOURCE, system, externalId);
      const hit = id ? await repo.findVisible(db, p, id) : null;
      if (!hit) throw notFound('order');
      return one(db, p, hit);
    },

    async list(p: Principal, q: ListOrdersQuery): Promise<Page<OrderDto>> {
      requirePermission(p, 'orders:read');
      const { field, desc } = parseSort<OrderSort>(q.sort, ORDER_SORTS, '-orderedAt');
      const sort = sortKey({ field, desc });
      const rows = await repo.list(db, p, q as ListFilter, field, desc, cursorForSort(q.cursor, sort), q.limit);
      const pg = pageOf(rows, q.limit, (r) => [iso(r.row[field]), r.row.id], sort);
      return { ...pg, data: await dtos(db, p, pg.data) };
    },

    async count(p: Principal, q: ListOrdersQuery): Promise<number> {
      requirePermission(p, 'orders:read');
      return repo.count(db, p, q as ListFilter);
    },

    /** A customer's orders: 404 for a customer the caller does not see. */
    async listOfCustomer(p: Principal, customerId: string, q: Omit<ListOrdersQuery, 'customerId' | 'ownerUserId' | 'ownerUnitId'>): Promise<Page<OrderDto> & { totalCount?: number }> {
      requirePermission(p, 'orders:read');
      if (!(await customersRepository.findVisible(db, p, customerId))) throw notFound('customer');
      const query = { ...q, customerId };
      const pg = await service.list(p, query);
      return q.count ? { ...pg, totalCount: await service.count(p, query) } : pg;
    },

    async create(p: Principal, input: CreateOrderInput): Promise<OrderDto> {
      requirePermission(p, 'orders:create');
      refuseExternalIds(p, input.externalIds, {});
      return db.transaction(async (tx) => {
        const customer = await targetCustomer(tx, p, input);
        await checkOpportunity(tx, p, input.opportunityId, customer.id);
        const { status, times } = planStatus(null, { status: input.status, times: wantedTimes(input) }, new Date());
        const priced = priceLines(input.lines ?? []);
        const row = await repo.insert(tx, {
          customerId: customer.id,
          opportunityId: input.opportunityId ?? null,
          number: input.number ?? null,
          status,
          ...times,
          orderedAt: times.orderedAt ?? new Date(),
          amount: orderAmount(priced.lines, priced.total, input.amount, null),
          currency: input.currency,
          ownerUserId: customer.ownerUserId,
          ownerUnitId: customer.ownerUnitId,
          createdBy: p.userId,
        });
        await repo.replaceLines(tx, row.id, priced.lines);
        const ids = await applyExternalIds(tx, RESOURCE, row.id, input.externalIds ?? {});
        const hit = { row, ownerUserId: customer.ownerUserId, ownerUnitId: customer.ownerUnitId };
        const after = toOrderDto(p, hit, priced.lines, ids);
        await recordChange(tx, p, { entityType: RESOURCE, entityId: row.id, action: 'created', before: null, after, onBehalfOfId: onBehalfOf(p, customer.ownerUserId), owner: customer });
        await liftLifecycle(tx, p, customer, row);
        await onValueInput?.(tx, p, [customer.id], 'ORDER');
        return after;
      });
    },

    async update(p: Principal, id: string, input: PatchOrderInput, expectedVersion?: number): Promise<OrderDto> {
      return db.transaction(async (tx) => {
        // The row lock serialises writes to one order: a second confirmation waits here, then finds it confirmed.
        const hit = await repo.findForAction(tx, p, id, 'orders:update');
        if (!hit) throw notFound('order');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission orders:update on this order');
        const before = hit.row;
        checkVersion(expectedVersion, before.version);
        const beforeIds = (await externalIdsOf(tx, RESOURCE, [id])).get(id) ?? {};
        refuseExternalIds(p, input.externalIds, beforeIds);
        const beforeLines = await repo.linesOf(tx, [id]);
        if (input.opportunityId != null && input.opportunityId !== before.opportunityId) await checkOpportunity(tx, p, input.opportunityId, before.customerId);
        const { set, lines, linesChanged, idsChanged, changed } = orderPatch(before, beforeLines, beforeIds, input, new Date());
        // A PATCH that changes nothing writes nothing: no new version, no audit row, no event.
        if (changed.length === 0 && !linesChanged && !idsChanged) return one(tx, p, hit);
        const customer = await ownershipRepository.lockById(tx, before.customerId);
        if (!customer) throw new Error('order without its customer');
        const row = await repo.update(tx, id, before.version, { ...set, ownerUserId: customer.ownerUserId, ownerUnitId: customer.ownerUnitId });
        if (!row) throw staleWrite();
        if (linesChanged && lines) await repo.replaceLines(tx, id, lines);
        const ids = idsChanged && input.externalIds ? await applyExternalIds(tx, RESOURCE, id, input.externalIds) : beforeIds;
        const behalf = onBehalfOf(p, customer.ownerUserId);
        const beforeDto = toOrderDto(p, hit, beforeLines, beforeIds);
        const after = toOrderDto(p, { row, ownerUserId: customer.ownerUserId, ownerUnitId: customer.ownerUnitId }, lines ?? beforeLines, ids);
        await recordChange(tx, p, { entityType: RESOURCE, entityId: id, action: 'updated', before: beforeDto, after, onBehalfOfId: behalf, owner: customer });
        if (row.status !== before.status) {
          await recordChange(tx, p, {
            entityType: RESOURCE,
            entityId: id,
            action: 'status_changed',
            before: { status: before.status },
            after: { ...after, fromStatus: before.status },
            onBehalfOfId: behalf,
            owner: customer,
          });
          await liftLifecycle(tx, p, customer, row);
        }
        await onValueInput?.(tx, p, [customer.id], 'ORDER');
        return after;
      });
    },

    // ---- batches for GraphQL nested fields (one statement each, whatever the page size) ----
    async byIds(p: Principal, ids: readonly string[]): Promise<Map<string, OrderDto>> {
      if (!scopeFor(p, 'orders:read')) return new Map();
      const hits = await repo.visibleByIds(db, p, [...new Set(ids)]);
      return new Map((await dtos(db, p, hits)).map((o) => [o.id, o]));
    },

    async customersByIds(p: Principal, ids: readonly string[]): Promise<Map<string, CustomerDto>> {
      if (!scopeFor(p, 'customers:read')) return new Map();
      const rows = await customersRepository.visibleByIds(db, p, [...new Set(ids)]);
      return new Map(rows.map((r) => [r.id, toCustomerDto(p, r)]));
    },

    async countsByCustomer(p: Principal, customerIds: readonly string[]): Promise<Map<string, number>> {
      if (!scopeFor(p, 'orders:read')) return new Map();
      return repo.countsByCustomer(db, p, [...new Set(customerIds)]);
    },

    async pagesByCustomer(p: Principal, customerIds: readonly string[], after: string | undefined, first: number): Promise<Map<string, Page<OrderDto>>> {
      const out = new Map<string, Page<OrderDto>>();
      if (!scopeFor(p, 'orders:read')) {
        for (const id of customerIds) out.set(id, { data: [], nextCursor: null, cursors: [] });
        return out;
      }
      const rows = await repo.pagesByCustomer(db, p, [...new Set(customerIds)], after, first);
      const all = new Map((await dtos(db, p, rows)).map((o) => [o.id, o]));
      for (const id of customerIds) {
        const mine = rows.filter((r) => r.row.customerId === id);
        const pg = pageOf(mine, first, (r) => [iso(r.row.orderedAt), r.row.id]);
        out.set(id, { ...pg, data: pg.data.map((r) => all.get(r.row.id)).filter((o): o is OrderDto => o !== undefined) });
      }
      return out;
    },
  };
  return { ...service, upsertByExternalId: createOrderUpsert(database, service), writeOrderBatch: createOrderBulk({ onValueInput }) };
}

export type OrderService = ReturnType<typeof createOrderService>;
