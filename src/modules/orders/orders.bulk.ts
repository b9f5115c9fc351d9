// The set-based pass of a bulk load of orders (api.md §2 Integration): one read of the batch's external ids,
// one of the orders they name (visibility and the write permission in the statement), one of their lines, one
// of their external ids and one of the customers the rows name by external id decide which rows change nothing.
// Those rows are answered UNCHANGED without a write, a lock or a savepoint; the decision is the PATCH's own code
// (orderPatch). Any doubt — another customer, a fault in the row, an order out of sight or not writable — leaves
// the row to the upsert (orders.upsert.ts), which then answers exactly as a single PUT would.
import type { Executor } from '../../db/client.js';
import { can, onBehalfOf, type Principal } from '../../lib/access.js';
import { type Change, recordChanges } from '../../lib/audit.js';
import { claimExternalIds, externalIdsOf, findRecordsByExternalIds, lockExternalIds } from '../../lib/external-ids.js';
import { applyLifecycleSteps, customersRepository, type LifecycleStep } from '../customers/index.js';
import { orderPatch, toOrderDto, wantedTimes } from './order-values.js';
import { type LineRow, type OrderInsert, type OrderRow, ordersRepository as repo, RESOURCE } from './orders.repository.js';
import { type Line, orderAmount, type OrderStatus, planStatus, priceLines, type StepField } from './orders.rules.js';
import { type CreateOrderInput, createOrderBody, patchOrderBody, type UpsertOrderInput } from './orders.schemas.js';

export type BulkOrderItem = { key: number; externalId: string; body: UpsertOrderInput };

/** The rows (by `key`) that would change nothing, with their order's id. Other rows are absent. */
export async function unchangedOrderRows(tx: Executor, p: Principal, system: string, items: readonly BulkOrderItem[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const held = await findRecordsByExternalIds(tx, RESOURCE, system, items.map((i) => i.externalId));
  if (held.size === 0) return out;
  const ids = [...new Set(held.values())];
  const [hits, lineRows, extIds] = [await repo.visibleForAction(tx, p, ids, 'orders:update'), await repo.linesOf(tx, ids), await externalIdsOf(tx, RESOURCE, ids)];
  const stored = new Map(hits.map((h) => [h.row.id, h]));
  const lines = new Map<string, LineRow[]>();
  for (const l of lineRows) lines.set(l.orderId, [...(lines.get(l.orderId) ?? []), l]);
  // The customers the rows name by external id, one read per system named.
  const named = new Map<string, Map<string, string>>();
  for (const sys of new Set(items.flatMap((i) => (i.body.customer ? [i.body.customer.system] : [])))) {
    named.set(sys, await findRecordsByExternalIds(tx, 'customer', sys, items.flatMap((i) => (i.body.customer?.system === sys ? [i.body.customer.externalId] : []))));
  }
  const now = new Date();
  for (const item of items) {
    const id = held.get(item.externalId);
    const hit = id ? stored.get(id) : undefined;
    if (!hit?.allowed) continue;
    const { customerId, customer, ...rest } = item.body;
    if (rest.externalIds?.[system] !== undefined && rest.externalIds[system] !== item.externalId) continue;
    if (customerId !== undefined && customerId !== hit.row.customerId) continue;
    if (customer !== undefined && named.get(customer.system)?.get(customer.externalId) !== hit.row.customerId) continue;
    const patch = patchOrderBody.safeParse({ ...rest, externalIds: { ...rest.externalIds, [system]: item.externalId } });
    if (!patch.success) continue;
    try {
      const d = orderPatch(hit.row, lines.get(hit.row.id) ?? [], extIds.get(hit.row.id) ?? {}, patch.data, now);
      if (d.changed.length === 0 && !d.linesChanged && !d.idsChanged) out.set(item.key, hit.row.id);
    } catch {
      // The upsert will answer this row's fault, named as a single PUT names it.
    }
  }
  return out;
}

// ---- new orders, set-based ------------------------------------------------------------------------------------

/** Orders are the revenue input of the customer's value (orders.service.ts ValueInputHook). */
type ValueHook = (tx: Executor, p: Principal, customerIds: string[], cause: 'ORDER') => Promise<unknown>;
type Customer = { id: string; status: string; lifecycleStage: string; ownerUserId: string | null; ownerUnitId: string };
type NewOrder = { key: number; input: CreateOrderInput; customer: Customer; values: OrderInsert & { id: string; lines: Line[] } };

class Retreat extends Error {}
const uniqueViolation = (err: unknown): boolean => {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return e?.code === '23505' || e?.cause?.code === '23505';
};

/**
 * The new orders of a batch of bulk rows (api.md §2 Integration), written set-based: one statement each for the
 * ids' locks and holders, the customers the rows name (locked; visibility and `orders:create` in the statement),
 * the orders, their lines, their external ids, the customers' lifecycle moves with cause ORDER (and their
 * transition rows), the audit rows and events, and the value rescoring of the batch's customers.
 *
 * Each row is decided with the single create's code (createOrderBody, planStatus, priceLines, orderAmount). A row
 * this pass does not take is left to the upsert (orders.upsert.ts), which answers it exactly as PUT
 * /v1/orders/external/… would: a fault in the row, an opportunity named, a customer unknown, out of sight, not
 * writable or merged, an id held meanwhile. If any id turns out taken after all (another system's id a row
 * carries, held elsewhere), the pass's savepoint is undone and every row goes to the upsert: a lost race is a
 * per-row answer.
 */
export function createOrderBulk(deps: { onValueInput?: ValueHook | undefined }) {
  return async function writeNewOrders(tx: Executor, p: Principal, system: string, items: readonly BulkOrderItem[]): Promise<Map<number, { id: string; status: 'CREATED' }>> {
    const out = new Map<number, { id: string; status: 'CREATED' }>();
    // Creating an order needs orders:create; the row's own id is an external id, written only with integration:write.
    if (items.length === 0 || !can(p, 'orders:create') || !can(p, 'integration:write')) return out;
    // Ids already held are the upsert's (a patch). The others are locked, then read again: a concurrent load of the
    // same new id that got there first is then seen here, and its rows patch what it made.
    const held = await findRecordsByExternalIds(tx, RESOURCE, system, items.map((i) => i.externalId));
    const free = items.filter((i) => !held.has(i.externalId));
    await lockExternalIds(tx, RESOURCE, system, free.map((i) => i.externalId));
    const now = await findRecordsByExternalIds(tx, RESOURCE, system, free.map((i) => i.externalId));

    // Each row as the single create parses and prices it; a fault leaves it to the upsert, which names it.
    const parsed: { key: number; input: CreateOrderInput; status: OrderStatus; times: Record<StepField, Date | null>; lines: Line[]; amount: string }[] = [];
    const at = new Date();
    for (const item of free) {
      if (now.has(item.externalId)) continue;
      const own = item.body.externalIds?.[system];
      if (own !== undefined && own !== item.externalId) continue;
      const r = createOrderBody.safeParse({ ...item.body, externalIds: { ...item.body.externalIds, [system]: item.externalId } });
      if (!r.success || r.data.opportunityId) continue;
      try {
        const { status, times } = planStatus(null, { status: r.data.status, times: wantedTimes(r.data) }, at);
        const priced = priceLines(r.data.lines ?? []);
        parsed.push({ key: item.key, input: r.data, status, times, lines: priced.lines, amount: orderAmount(priced.lines, priced.total, r.data.amount, null) });
      } catch {
        // answered by the row's upsert
      }
    }
    if (parsed.length === 0) return out;

    // The customers, by id or by external id (one read per system named), locked; one the caller cannot see, may
    // not write or that is merged is left to the upsert, which answers it without revealing anything.
    const named = new Map<string, Map<string, string>>();
    for (const sys of new Set(parsed.flatMap((r) => (r.input.customer ? [r.input.customer.system] : [])))) {
      named.set(sys, await findRecordsByExternalIds(tx, 'customer', sys, parsed.flatMap((r) => (r.input.customer?.system === sys ? [r.input.customer.externalId] : []))));
    }
    const customerOf = (input: CreateOrderInput) => input.customerId ?? (input.customer ? named.get(input.customer.system)?.get(input.customer.externalId) : undefined);
    const wanted = [...new Set(parsed.flatMap((r) => customerOf(r.input) ?? []))];
    const customers = new Map((await customersRepository.lockRowsForAction(tx, p, wanted, 'orders:create')).map((h) => [h.row.id, h]));
    const created: NewOrder[] = [];
    for (const r of parsed) {
      const hit = customers.get(customerOf(r.input) ?? '');
      if (!hit?.allowed || hit.row.status === 'MERGED') continue;
      const c = hit.row;
      created.push({
        key: r.key,
        input: r.input,
        customer: c,
        values: {
          id: crypto.randomUUID(),
          customerId: c.id,
          opportunityId: null,
          number: r.input.number ?? null,
          status: r.status,
          ...r.times,
          orderedAt: r.times.orderedAt ?? at,
          amount: r.amount,
          currency: r.input.currency,
          ownerUserId: c.ownerUserId,
          ownerUnitId: c.ownerUnitId,
          createdBy: p.userId,
          lines: r.lines,
        },
      });
    }
    if (created.length === 0) return out;

    try {
      await tx.transaction(async (sp) => {
        const rows = await repo.insertMany(sp, created.map((n) => n.values));
        if (!(await claimExternalIds(sp, RESOURCE, created.map((n) => ({ recordId: n.values.id, ids: n.input.externalIds ?? {} }))))) throw new Retreat();
        const changes: Change[] = created.map((n, i) => {
          const row = rows[i] as OrderRow;
          const after = toOrderDto(p, { row, ownerUserId: n.customer.ownerUserId, ownerUnitId: n.customer.ownerUnitId }, n.values.lines, n.input.externalIds ?? {});
          return { entityType: RESOURCE, entityId: row.id, action: 'created', before: null, after, onBehalfOfId: onBehalfOf(p, n.customer.ownerUserId), owner: n.customer };
        });
        // The lifecycle consequences (domain.md §8), forward only: a first order that is not cancelled makes a
        // customer standing before CUSTOMER a CUSTOMER; a confirmed one makes it a USER. One statement for the batch.
        const steps: LifecycleStep[] = created.flatMap((n) => {
          const v = n.values;
          if (v.status === 'CANCELLED') return [];
          const name = v.number ?? v.id;
          const placed: LifecycleStep = { customer: n.customer, to: 'CUSTOMER', reason: `order ${name} placed` };
          return v.status === 'CONFIRMED' ? [placed, { customer: n.customer, to: 'USER', reason: `order ${name} confirmed` }] : [placed];
        });
        changes.push(...(await applyLifecycleSteps(sp, p, steps, 'ORDER')));
        await recordChanges(sp, p, changes);
        // The customers' value, rescored once for the batch in this transaction.
        await deps.onValueInput?.(sp, p, [...new Set(created.map((n) => n.customer.id))], 'ORDER');
      });
    } catch (err) {
      if (err instanceof Retreat || uniqueViolation(err)) return out;
      throw err;
    }
    for (const n of created) out.set(n.key, { id: n.values.id, status: 'CREATED' });
    return out;
  };
}
