// The set-based pass of a bulk load of customers (api.md §2 Integration). For a batch of rows (500), one
// statement per table and step: the external ids' locks and holders, the records they name (visibility and the
// write permission in the statement), the new rows' identity locks and the duplicate probe, one INSERT of every
// new customer, one INSERT of their external ids, one UPDATE … FROM of every changed one (compare-and-set on
// version), the audit rows and the events, the allocation rules, the value rescoring of credit changes.
//
// Each row is decided in JS with the code the single upsert runs (fromUpsertBody, createValues, patchSet,
// refuseSystemFieldWrites, changedKeys). A row this pass does not answer is left to the single upsert, which
// then answers it exactly as PUT /v1/customers/external/… would: a fault in the row, an owner field, a referrer,
// a hidden field, an external id patch, a record out of sight, not writable or merged, a duplicate match (the
// single create's rule: candidates, protected matches, claims, onDuplicate, the probe limit), a row whose
// identity an earlier row of the batch shares. If any new row's external id turns out taken after all (a writer
// that does not take the external id lock), or a changed record moved meanwhile, the pass's savepoint is undone
// and every row it would have written goes to the single upsert instead: a lost race is a per-row answer.
//
// Each row the pass writes marks its external id with the row's hash and the version it left
// (external_ids.row_hash / row_version): the same row again, while the record is still at that version, is
// UNCHANGED on one hash comparison, read with the ids themselves (no full record, no decision code, no write).
import { createHash } from 'node:crypto';
import type { Executor } from '../../db/client.js';
import { can, hiddenFields, onBehalfOf, type Principal } from '../../lib/access.js';
import { type Change, recordChanges } from '../../lib/audit.js';
import { sameJson } from '../../lib/merge-patch.js';
import { claimExternalIds, findRecordsByExternalIds, lockExternalIds, markRows } from '../../lib/external-ids.js';
import { parsePatch } from './customers.external.js';
import { type CustomerInsert, type CustomerRow, customersRepository as repo, RESOURCE } from './customers.repository.js';
import { createCustomerBody, type UpsertCustomerInput } from './customers.schemas.js';
import { createValues, derived, snapshot } from './customer-values.js';
import { identityKeys } from './normalize.js';
import { changedKeys, patchSet, refuseHiddenWrites, refuseSystemFieldWrites } from './patch-set.js';
import { fromUpsertBody, parseBody, type UpsertStatus } from './upsert-rules.js';

export type BulkUpsertItem = { key: number; externalId: string; body: UpsertCustomerInput };
export type BulkOutcome = { id: string; status: UpsertStatus };

/** Many new customers through the allocation rules at once (wired in app.ts); each allocated row is reassigned. */
export type ManyAllocator = (tx: Executor, p: Principal, rows: CustomerRow[]) => Promise<unknown>;
type ValueHook = (tx: Executor, p: Principal, customerIds: string[], cause: 'CREDIT') => Promise<unknown>;

type NewRow = { key: number; values: CustomerInsert & { id: string }; keys: string[] };
type ChangedRow = { key: number; before: CustomerRow; after: CustomerRow };

const ownerGiven = (b: UpsertCustomerInput) => b.ownerUserId !== undefined || b.ownerUnitId !== undefined;
// The identity a row's body names (what an earlier row of the batch may share with a later new one).
const bodyKeys = (b: UpsertCustomerInput): string[] =>
  identityKeys(derived({ name: b.name ?? '', registrationId: b.registrationId, phones: b.phones ?? [], emails: b.emails ?? [] })).filter((k) => k !== 'name:');
const IDENTITY_FIELDS = ['name', 'registrationId', 'phones', 'emails'] as const;

// A row as parsed (the upsert body's schema fixes its keys' order): the same row again hashes the same.
const rowHash = (b: UpsertCustomerInput): string => createHash('sha1').update(JSON.stringify(b)).digest('base64');

class Retreat extends Error {}
const uniqueViolation = (err: unknown): boolean => {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return e?.code === '23505' || e?.cause?.code === '23505';
};

export function createCustomerBulk(deps: { allocateMany?: ManyAllocator | undefined; onValueInput?: ValueHook | undefined }) {
  /** A new row as the single create would insert it, or null when the row needs the single upsert. */
  function newRow(p: Principal, system: string, item: BulkUpsertItem): NewRow | null {
    if (ownerGiven(item.body) || item.body.source?.referrerCustomerId) return null;
    try {
      const input = parseBody(createCustomerBody, fromUpsertBody(item.body, system, item.externalId).create);
      refuseHiddenWrites(p, input);
      refuseSystemFieldWrites(p, input, null);
      const values = { id: crypto.randomUUID(), ...createValues(p, input, { ownerUserId: p.userId, ownerUnitId: p.unitId }) };
      return { key: item.key, values, keys: identityKeys(values as Parameters<typeof identityKeys>[0]) };
    } catch {
      return null;
    }
  }

  /** A stored record after the row's merge patch (null: the single upsert answers), or 'same' when nothing changes. */
  function patched(p: Principal, system: string, item: BulkUpsertItem, before: CustomerRow, hidden: readonly string[]): CustomerRow | 'same' | null {
    const body = item.body as Record<string, unknown>;
    if (before.status === 'MERGED' || ownerGiven(item.body) || hidden.some((f) => body[f] !== undefined)) return null;
    try {
      const input = parsePatch(fromUpsertBody(item.body, system, item.externalId).patch, before);
      const referrer = input.source?.referrerCustomerId;
      if (referrer && referrer !== before.sourceReferrerCustomerId) return null;
      const set = patchSet(before, input);
      refuseSystemFieldWrites(p, set, before);
      if (set.externalIds !== undefined && !sameJson(set.externalIds, before.externalIds)) return null;
      if (changedKeys(set, before).length === 0) return 'same';
      const merged = { ...before, ...set };
      return IDENTITY_FIELDS.some((f) => set[f] !== undefined) ? { ...merged, ...derived(merged) } : merged;
    } catch {
      return null;
    }
  }

  /**
   * The rows of a batch this pass answers (by `key`), written in `tx`: CREATED, UPDATED or UNCHANGED with their
   * record's id. Items are the batch's rows that parsed, the first row of each external id only.
   */
  return async function writeCustomerBatch(tx: Executor, p: Principal, system: string, items: readonly BulkUpsertItem[]): Promise<Map<number, BulkOutcome>> {
    const out = new Map<number, BulkOutcome>();
    if (items.length === 0) return out;
    // Ids already held need no lock (a held id stays held); the others are locked, then read again: a concurrent
    // load of the same new id that got there first is then seen here.
    const marks = await repo.marksForAction(tx, p, system, items.map((i) => i.externalId), 'customers:update');
    const free = items.filter((i) => !marks.has(i.externalId)).map((i) => i.externalId);
    await lockExternalIds(tx, RESOURCE, system, free);
    for (const [x, recordId] of await findRecordsByExternalIds(tx, RESOURCE, system, free)) marks.set(x, { recordId, rowHash: null, rowVersion: null, current: null });
    const hidden = [...hiddenFields(p)].filter((f) => f.startsWith('customer.')).map((f) => f.slice('customer.'.length));
    const mayCreate = can(p, 'customers:create');

    // A row its id's mark names (the row a bulk load wrote last, by its hash) changes nothing while the record is
    // still at the version that write left, visible, writable and not merged: patching a record with the patch
    // that made it is no change. Such a row costs a hash; the others are decided on the full record.
    const hashes = new Map(items.map((i) => [i.key, rowHash(i.body)]));
    const unchanged = new Map<number, string>();
    for (const i of items) {
      const m = marks.get(i.externalId);
      const body = i.body as Record<string, unknown>;
      if (!m?.current?.allowed || m.rowHash !== hashes.get(i.key) || m.current.version !== m.rowVersion || m.current.status === 'MERGED') continue;
      if (ownerGiven(i.body) || hidden.some((f) => body[f] !== undefined)) continue;
      unchanged.set(i.key, m.recordId);
    }
    const toRead = items.filter((i) => !unchanged.has(i.key)).flatMap((i) => marks.get(i.externalId)?.recordId ?? []);
    const stored = new Map((await repo.rowsForAction(tx, p, [...new Set(toRead)], 'customers:update')).map((h) => [h.row.id, h]));

    // Decide each row; an identity key an earlier written row of the batch also carries sends a new row to the
    // single create, which then runs after this pass and meets that row as the duplicate rule would.
    const created: NewRow[] = [];
    const changed: ChangedRow[] = [];
    const earlier = new Set<string>();
    for (const item of items) {
      // An unchanged record's identity is stored already: the duplicate probe below meets it.
      const same = unchanged.get(item.key);
      if (same) {
        out.set(item.key, { id: same, status: 'UNCHANGED' });
        continue;
      }
      const id = marks.get(item.externalId)?.recordId;
      if (id) {
        const hit = stored.get(id);
        const after = hit?.allowed ? patched(p, system, item, hit.row, hidden) : null;
        if (after === 'same' && hit) out.set(item.key, { id: hit.row.id, status: 'UNCHANGED' });
        else if (hit && after && after !== 'same') changed.push({ key: item.key, before: hit.row, after });
        for (const k of after && after !== 'same' ? identityKeys(after) : bodyKeys(item.body)) earlier.add(k);
        continue;
      }
      const row = mayCreate ? newRow(p, system, item) : null;
      if (row && !row.keys.some((k) => earlier.has(k))) created.push(row);
      for (const k of row?.keys ?? bodyKeys(item.body)) earlier.add(k);
    }
    if (created.length === 0 && changed.length === 0) return out;

    // The duplicate rule: a new row matching any existing customer is left to the single create.
    const keys = [...new Set(created.flatMap((r) => r.keys))];
    await repo.lockIdentityKeys(tx, keys);
    const matched = await repo.heldIdentityKeys(tx, keys);
    const creates = created.filter((r) => !r.keys.some((k) => matched.has(k)));

    try {
      await tx.transaction(async (sp) => {
        const rows = await repo.insertMany(sp, creates.map((r) => r.values));
        if (!(await claimExternalIds(sp, RESOURCE, rows.map((r) => ({ recordId: r.id, ids: r.externalIds }))))) throw new Retreat();
        const updated = new Map((await repo.updateMany(sp, changed.map((c) => c.after))).map((r) => [r.id, r]));
        if (updated.size !== changed.length) throw new Retreat();
        const changes: Change[] = rows.map((row) => ({
          entityType: RESOURCE,
          entityId: row.id,
          action: 'created',
          before: null,
          after: snapshot(row),
          onBehalfOfId: onBehalfOf(p, row.ownerUserId),
          owner: row,
        }));
        for (const c of changed) {
          const row = updated.get(c.before.id) as CustomerRow;
          changes.push({ entityType: RESOURCE, entityId: row.id, action: 'updated', before: snapshot(c.before), after: snapshot(row), onBehalfOfId: onBehalfOf(p, c.before.ownerUserId), owner: row });
        }
        await recordChanges(sp, p, changes);
        if (deps.allocateMany && rows.length > 0) await deps.allocateMany(sp, p, rows);
        // The marks carry the version the batch's writes left: a new customer the allocation reassigned is read
        // again (the reassignment is part of its create, which the same row again would not repeat).
        const created = deps.allocateMany && rows.length > 0 ? await repo.versionsOf(sp, rows.map((r) => r.id)) : new Map<string, number>();
        const byKey = new Map(items.map((i) => [i.key, i]));
        const mark = (key: number, version: number) => ({ externalId: byKey.get(key)!.externalId, rowHash: hashes.get(key)!, rowVersion: version });
        await markRows(sp, RESOURCE, system, [
          ...creates.map((r, n) => mark(r.key, created.get(r.values.id) ?? rows[n]!.version)),
          ...changed.map((c) => mark(c.key, updated.get(c.before.id)!.version)),
        ]);
        // Credit is an input of the customer's value and churn risk: rescored in this transaction, once per batch.
        const credit = changed.filter((c) => c.before.creditStatus !== c.after.creditStatus).map((c) => c.before.id);
        if (deps.onValueInput && credit.length > 0) await deps.onValueInput(sp, p, credit, 'CREDIT');
      });
    } catch (err) {
      if (err instanceof Retreat || uniqueViolation(err)) return out;
      throw err;
    }
    for (const r of creates) out.set(r.key, { id: r.values.id, status: 'CREATED' });
    for (const c of changed) out.set(c.key, { id: c.before.id, status: 'UPDATED' });
    return out;
  };
}
