// The set-based pass of a bulk load of customers (api.md §2 Integration): one read of the batch's external ids
// and one read of the records they name (with the visibility rule and the write permission in the statement)
// decide which rows change nothing. Those rows are answered UNCHANGED without a write, a lock or a savepoint;
// every other row goes through the upsert (customers.external.ts). The decision uses the same merge-patch code
// the upsert would run (patch-set.ts); any doubt — an owner field, a new referrer, a hidden field, a record out
// of sight or not writable, a merged record, a fault in the row — leaves the row to the upsert, which then
// answers exactly as a single PUT would.
import type { Executor } from '../../db/client.js';
import { hiddenFields, type Principal } from '../../lib/access.js';
import { findRecordsByExternalIds } from '../../lib/external-ids.js';
import { customersRepository as repo, RESOURCE } from './customers.repository.js';
import type { UpsertCustomerInput } from './customers.schemas.js';
import { parsePatch } from './customers.external.js';
import { changedKeys, patchSet, refuseSystemFieldWrites } from './patch-set.js';
import { fromUpsertBody } from './upsert-rules.js';

export type BulkUpsertItem = { key: number; externalId: string; body: UpsertCustomerInput };

/** The rows (by `key`) that would change nothing, with their record's id. Other rows are absent. */
export async function unchangedCustomerRows(tx: Executor, p: Principal, system: string, items: readonly BulkUpsertItem[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (items.length === 0) return out;
  const held = await findRecordsByExternalIds(tx, RESOURCE, system, items.map((i) => i.externalId));
  if (held.size === 0) return out;
  const stored = new Map((await repo.visibleForAction(tx, p, [...new Set(held.values())], 'customers:update')).map((h) => [h.row.id, h]));
  const hidden = [...hiddenFields(p)].filter((f) => f.startsWith('customer.')).map((f) => f.slice('customer.'.length));
  for (const item of items) {
    const id = held.get(item.externalId);
    const hit = id ? stored.get(id) : undefined;
    if (!hit || !hit.allowed || hit.row.status === 'MERGED') continue;
    const body = item.body as Record<string, unknown>;
    if (hidden.some((f) => body[f] !== undefined)) continue;
    try {
      const input = parsePatch(fromUpsertBody(item.body, system, item.externalId).patch, hit.row);
      if (input.ownerUserId !== undefined || input.ownerUnitId !== undefined) continue;
      const referrer = input.source?.referrerCustomerId;
      if (referrer && referrer !== hit.row.sourceReferrerCustomerId) continue;
      const set = patchSet(p, hit.row, input);
      refuseSystemFieldWrites(p, set, hit.row);
      if (changedKeys(set, hit.row).length === 0) out.set(item.key, hit.row.id);
    } catch {
      // The upsert will answer this row's fault, named as a single PUT names it.
    }
  }
  return out;
}
