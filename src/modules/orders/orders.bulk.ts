// The set-based pass of a bulk load of orders (api.md §2 Integration). For a batch of rows (500), one statement per
// table and step: the batch's external ids and their holders, the orders they name (visibility and `orders:update`
// in the statement), their lines and their external ids, the customers the rows name by external id; the orders to
// change locked (before their customers, as a single PATCH locks them), the new ids' locks and holders again, the
// customers of the rows to write (locked; visibility and `orders:create` in the statement); one INSERT of the new
// orders, one of their lines, one of their external ids, one UPDATE … FROM of the changed orders (compare-and-set on
// version) and one replacement of their lines; the customers' lifecycle moves with cause ORDER and their transition
// rows; the audit rows and events; the value rescoring of the batch's customers.
//
// Each row is decided with the code the single upsert runs: the create's schema and rules (createOrderBody,
// planStatus, priceLines, orderAmount) for a new order, the PATCH's diff (orderPatch) for a stored one. A row that
// changes nothing is answered UNCHANGED without a lock or a write. A row this pass does not take is left to the
// upsert (orders.upsert.ts), which then answers it exactly as PUT /v1/orders/external/… would: a fault in the row,
// a backward status, another customer, an opportunity to check, an external id patch, an order or a customer out of
// sight or not writable, a merged customer. If an id turns out taken after all, or a changed order moved meanwhile,
// the pass's savepoint is undone and every row it would have written goes to the upsert: a lost race is a per-row
// answer.
import type { Executor } from '../../db/client.js';
import { can, onBehalfOf, type Principal } from '../../lib/access.js';
import { type Change, recordChanges } from '../../lib/audit.js';
import { claimExternalIds, type ExternalIdMap, externalIdsOf, findRecordsByExternalIds, lockExternalIds } from '../../lib/external-ids.js';
import { applyLifecycleSteps, customersRepository, type LifecycleStep } from '../customers/index.js';
import { orderPatch, toOrderDto, wantedTimes } from './order-values.js';
import { type LineRow, type OrderInsert, type OrderRow, ordersRepository as repo, RESOURCE } from './orders.repository.js';
import { type Line, orderAmount, type OrderStatus, planStatus, priceLines, type StepField } from './orders.rules.js';
import { type CreateOrderInput, createOrderBody, patchOrderBody, type UpsertOrderInput } from './orders.schemas.js';

export type BulkOrderItem = { key: number; externalId: string; body: UpsertOrderInput };
export type BulkOrderOutcome = { id: string; status: 'CREATED' | 'UPDATED' | 'UNCHANGED' };

/** Orders are the revenue input of the customer's value (orders.service.ts ValueInputHook). */
type ValueHook = (tx: Executor, p: Principal, customerIds: string[], cause: 'ORDER') => Promise<unknown>;
type Customer = { id: string; status: string; lifecycleStage: string; ownerUserId: string | null; ownerUnitId: string };
type Parsed = { key: number; input: CreateOrderInput; status: OrderStatus; times: Record<StepField, Date | null>; lines: Line[]; amount: string };
type NewOrder = { key: number; input: CreateOrderInput; customer: Customer; values: OrderInsert & { id: string; lines: Line[] } };
type Stored = { row: OrderRow; ownerUserId: string | null; ownerUnitId: string; lines: LineRow[]; ids: ExternalIdMap };
type ChangedOrder = { key: number; before: Stored; after: OrderRow; lines: Line[] | null; customer?: Customer };

class Retreat extends Error {}
const uniqueViolation = (err: unknown): boolean => {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return e?.code === '23505' || e?.cause?.code === '23505';
};

const byKey = <T extends { key: number }>(a: T, b: T) => a.key - b.key;

/**
 * The lifecycle consequences of an order (domain.md §8), forward only: an order that is not cancelled makes a
 * customer standing before CUSTOMER a CUSTOMER; a confirmed one makes it a USER (applyLifecycleSteps skips the
 * steps a customer has taken already).
 */
function lifecycleSteps(customer: Customer, order: Pick<OrderRow, 'id' | 'number' | 'status'>): LifecycleStep[] {
  if (customer.status === 'MERGED' || order.status === 'CANCELLED') return [];
  const name = order.number ?? order.id;
  const placed: LifecycleStep = { customer, to: 'CUSTOMER', reason: `order ${name} placed` };
  return order.status === 'CONFIRMED' ? [placed, { customer, to: 'USER', reason: `order ${name} confirmed` }] : [placed];
}

export function createOrderBulk(deps: { onValueInput?: ValueHook | undefined }) {
  /** The rows naming stored orders, decided: UNCHANGED (by key, with the order's id) and the changed ones this pass writes. */
  async function decideStored(tx: Executor, p: Principal, system: string, items: readonly BulkOrderItem[], held: Map<string, string>, named: Map<string, Map<string, string>>) {
    const unchanged = new Map<number, string>();
    const changed: Omit<ChangedOrder, 'customer'>[] = [];
    const ids = [...new Set(items.flatMap((i) => held.get(i.externalId) ?? []))];
    if (ids.length === 0) return { unchanged, changed };
    const [hits, lineRows, extIds] = [await repo.visibleForAction(tx, p, ids, 'orders:update'), await repo.linesOf(tx, ids), await externalIdsOf(tx, RESOURCE, ids)];
    const stored = new Map(hits.map((h) => [h.row.id, h]));
    const lines = new Map<string, LineRow[]>();
    for (const l of lineRows) lines.set(l.orderId, [...(lines.get(l.orderId) ?? []), l]);
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
      const before: Stored = { row: hit.row, ownerUserId: hit.ownerUserId, ownerUnitId: hit.ownerUnitId, lines: lines.get(hit.row.id) ?? [], ids: extIds.get(hit.row.id) ?? {} };
      try {
        const d = orderPatch(hit.row, before.lines, before.ids, patch.data, now);
        if (d.changed.length === 0 && !d.linesChanged && !d.idsChanged) unchanged.set(item.key, hit.row.id);
        // An id patch, or an opportunity to check, is the upsert's.
        else if (!d.idsChanged && (patch.data.opportunityId == null || patch.data.opportunityId === hit.row.opportunityId)) {
          changed.push({ key: item.key, before, after: { ...hit.row, ...d.set }, lines: d.linesChanged ? d.lines : null });
        }
      } catch {
        // The upsert will answer this row's fault (a backward status, say), named as a single PUT names it.
      }
    }
    return { unchanged, changed };
  }

  /** The rows naming free ids, each as the single create parses and prices it; a fault leaves it to the upsert. */
  function parseNew(system: string, items: readonly BulkOrderItem[]): Parsed[] {
    const out: Parsed[] = [];
    const at = new Date();
    for (const item of items) {
      const own = item.body.externalIds?.[system];
      if (own !== undefined && own !== item.externalId) continue;
      const r = createOrderBody.safeParse({ ...item.body, externalIds: { ...item.body.externalIds, [system]: item.externalId } });
      if (!r.success || r.data.opportunityId) continue;
      try {
        const { status, times } = planStatus(null, { status: r.data.status, times: wantedTimes(r.data) }, at);
        const priced = priceLines(r.data.lines ?? []);
        out.push({ key: item.key, input: r.data, status, times, lines: priced.lines, amount: orderAmount(priced.lines, priced.total, r.data.amount, null) });
      } catch {
        // answered by the row's upsert
      }
    }
    return out;
  }

  /**
   * The rows of a batch this pass answers (by `key`), written in `tx`: CREATED, UPDATED or UNCHANGED with their
   * order's id. Items are the batch's rows that parsed, the first row of each external id only.
   */
  return async function writeOrderBatch(tx: Executor, p: Principal, system: string, items: readonly BulkOrderItem[]): Promise<Map<number, BulkOrderOutcome>> {
    const out = new Map<number, BulkOrderOutcome>();
    if (items.length === 0) return out;
    const held = await findRecordsByExternalIds(tx, RESOURCE, system, items.map((i) => i.externalId));
    // The customers the rows name by external id, one read per system named.
    const named = new Map<string, Map<string, string>>();
    for (const sys of new Set(items.flatMap((i) => (i.body.customer ? [i.body.customer.system] : [])))) {
      named.set(sys, await findRecordsByExternalIds(tx, 'customer', sys, items.flatMap((i) => (i.body.customer?.system === sys ? [i.body.customer.externalId] : []))));
    }
    const decided = await decideStored(tx, p, system, items, held, named);
    for (const [key, id] of decided.unchanged) out.set(key, { id, status: 'UNCHANGED' });
    // The orders to change are locked before their customers, as a single PATCH locks them; one another write moved
    // since the read is the upsert's.
    const versions = await repo.lockVersions(tx, decided.changed.map((c) => c.before.row.id));
    const changed = decided.changed.filter((c) => versions.get(c.before.row.id) === c.before.row.version);

    // New orders need orders:create; the row's own id is an external id, written only with integration:write. Free
    // ids are locked, then read again: a concurrent load of the same new id that got there first is then seen here
    // (its rows are the upsert's, a patch of what it made).
    let parsed: Parsed[] = [];
    if (can(p, 'orders:create') && can(p, 'integration:write')) {
      const free = items.filter((i) => !held.has(i.externalId));
      await lockExternalIds(tx, RESOURCE, system, free.map((i) => i.externalId));
      const now = await findRecordsByExternalIds(tx, RESOURCE, system, free.map((i) => i.externalId));
      parsed = parseNew(system, free.filter((i) => !now.has(i.externalId)));
    }
    if (parsed.length === 0 && changed.length === 0) return out;

    // The customers of the rows to write, locked in one statement. A new order's customer the caller cannot see,
    // may not write or that is merged leaves the row to the upsert, which answers it without revealing anything.
    const customerOf = (input: CreateOrderInput) => input.customerId ?? (input.customer ? named.get(input.customer.system)?.get(input.customer.externalId) : undefined);
    const wanted = [...parsed.flatMap((r) => customerOf(r.input) ?? []), ...changed.map((c) => c.before.row.customerId)];
    const locked = new Map((await customersRepository.lockRowsForAction(tx, p, wanted, 'orders:create')).map((h) => [h.row.id, h]));
    const created: NewOrder[] = [];
    for (const r of parsed) {
      const hit = locked.get(customerOf(r.input) ?? '');
      if (!hit?.allowed || hit.row.status === 'MERGED') continue;
      const c = hit.row;
      const values = {
        id: crypto.randomUUID(),
        customerId: c.id,
        opportunityId: null,
        number: r.input.number ?? null,
        status: r.status,
        ...r.times,
        orderedAt: r.times.orderedAt ?? new Date(),
        amount: r.amount,
        currency: r.input.currency,
        ownerUserId: c.ownerUserId,
        ownerUnitId: c.ownerUnitId,
        createdBy: p.userId,
        lines: r.lines,
      };
      created.push({ key: r.key, input: r.input, customer: c, values });
    }
    const updates: ChangedOrder[] = changed.flatMap((c) => {
      const customer = locked.get(c.before.row.customerId)?.row;
      // The owner is the customer's as it stands (a transfer of the customer moves its orders' owner too).
      return customer ? [{ ...c, customer, after: { ...c.after, ownerUserId: customer.ownerUserId, ownerUnitId: customer.ownerUnitId } }] : [];
    });
    if (created.length === 0 && updates.length === 0) return out;

    try {
      await tx.transaction(async (sp) => {
        const rows = await repo.insertMany(sp, created.map((n) => n.values));
        if (!(await claimExternalIds(sp, RESOURCE, created.map((n) => ({ recordId: n.values.id, ids: n.input.externalIds ?? {} }))))) throw new Retreat();
        const updated = new Map((await repo.updateMany(sp, updates.map((u) => u.after))).map((r) => [r.id, r]));
        if (updated.size !== updates.length) throw new Retreat();
        await repo.replaceLinesMany(sp, updates.flatMap((u) => (u.lines ? [{ orderId: u.before.row.id, lines: u.lines }] : [])));

        // The audit rows and events, and the lifecycle steps, in the rows' order.
        const changes: Change[] = [];
        const steps: { key: number; steps: LifecycleStep[] }[] = [];
        created.forEach((n, i) => {
          const row = rows[i] as OrderRow;
          const after = toOrderDto(p, { row, ownerUserId: n.customer.ownerUserId, ownerUnitId: n.customer.ownerUnitId }, n.values.lines, n.input.externalIds ?? {});
          changes.push({ entityType: RESOURCE, entityId: row.id, action: 'created', before: null, after, onBehalfOfId: onBehalfOf(p, n.customer.ownerUserId), owner: n.customer });
          steps.push({ key: n.key, steps: lifecycleSteps(n.customer, row) });
        });
        for (const u of updates) {
          const customer = u.customer as Customer;
          const row = updated.get(u.before.row.id) as OrderRow;
          const behalf = onBehalfOf(p, customer.ownerUserId);
          const before = toOrderDto(p, u.before, u.before.lines, u.before.ids);
          const after = toOrderDto(p, { row, ownerUserId: customer.ownerUserId, ownerUnitId: customer.ownerUnitId }, u.lines ?? u.before.lines, u.before.ids);
          changes.push({ entityType: RESOURCE, entityId: row.id, action: 'updated', before, after, onBehalfOfId: behalf, owner: customer });
          if (row.status !== u.before.row.status) {
            const from = u.before.row.status;
            changes.push({ entityType: RESOURCE, entityId: row.id, action: 'status_changed', before: { status: from }, after: { ...after, fromStatus: from }, onBehalfOfId: behalf, owner: customer });
            steps.push({ key: u.key, steps: lifecycleSteps(customer, row) });
          }
        }
        // One statement moves every customer of the batch (cause ORDER), one writes every audit row and event.
        changes.push(...(await applyLifecycleSteps(sp, p, steps.sort(byKey).flatMap((s) => s.steps), 'ORDER')));
        await recordChanges(sp, p, changes);
        // The customers' value, rescored once for the batch in this transaction.
        const rescored = [...new Set([...created.map((n) => n.customer.id), ...updates.map((u) => u.before.row.customerId)])];
        if (rescored.length > 0) await deps.onValueInput?.(sp, p, rescored, 'ORDER');
      });
    } catch (err) {
      if (err instanceof Retreat || uniqueViolation(err)) return out;
      throw err;
    }
    for (const n of created) out.set(n.key, { id: n.values.id, status: 'CREATED' });
    for (const u of updates) out.set(u.key, { id: u.before.row.id, status: 'UPDATED' });
    return out;
  };
}
