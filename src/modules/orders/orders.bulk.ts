// The set-based pass of a bulk load of orders (api.md §2 Integration): one read of the batch's external ids,
// one of the orders they name (visibility and the write permission in the statement), one of their lines, one
// of their external ids and one of the customers the rows name by external id decide which rows change nothing.
// Those rows are answered UNCHANGED without a write, a lock or a savepoint; the decision is the PATCH's own code
// (orderPatch). Any doubt — another customer, a fault in the row, an order out of sight or not writable — leaves
// the row to the upsert (orders.upsert.ts), which then answers exactly as a single PUT would.
import type { Executor } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { externalIdsOf, findRecordsByExternalIds } from '../../lib/external-ids.js';
import { type LineRow, ordersRepository as repo, RESOURCE } from './orders.repository.js';
import { patchOrderBody, type UpsertOrderInput } from './orders.schemas.js';
import { orderPatch } from './orders.service.js';

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
