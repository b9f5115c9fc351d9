// The set-based pass of a bulk load of contact persons (api.md §2 Integration), as bulk-write.ts is for customers.
// For a batch of rows (500), one statement per table and step: the external ids' marks and holders with the
// contacts they name (visibility and contacts:update in the statement), the customers the rows name (by id or by
// their own external id: one read per system, then one read of the customers with contacts:create), one INSERT
// of every new contact, one of their external ids, one UPDATE … FROM of every changed one (compare-and-set on
// version), the audit rows and events in one statement, the marks.
//
// Each row is decided with the rules the single upsert runs (fromUpsertBody, the create and patch schemas, the
// "changes nothing writes nothing" diff). A row this pass does not answer is left to the single upsert, which then
// answers it exactly as PUT /v1/contacts/external/… would: a fault in the row, external ids in the body, a
// customer out of sight, not writable, merged, or other than the contact's own, a contact out of sight or not
// writable, a caller without contacts:create or integration:write. If a new row's external id turns out taken
// after all, or a changed contact moved meanwhile, the pass's savepoint is undone and every row it would have
// written goes to the single upsert: a lost race is a per-row answer.
//
// Each row the pass writes marks its external id with the row's hash and the version it left: the same row again,
// while the contact is still at that version and on the customer the row names, is UNCHANGED on one comparison.
import { createHash } from 'node:crypto';
import type { Executor } from '../../db/client.js';
import { can, onBehalfOf, type Principal } from '../../lib/access.js';
import { type Change, recordChanges } from '../../lib/audit.js';
import { claimExternalIds, findRecordsByExternalIds, lockExternalIds, markRows } from '../../lib/external-ids.js';
import { sameJson } from '../../lib/merge-patch.js';
import { type ContactRow, contactsRepository as repo } from './contacts.repository.js';
import { customersRepository } from './customers.repository.js';
import { createContactBody, patchContactBody, type UpsertContactInput } from './customers.schemas.js';
import { fromUpsertBody, parseBody, type UpsertStatus } from './upsert-rules.js';

export type BulkContactItem = { key: number; externalId: string; body: UpsertContactInput };
export type BulkContactOutcome = { id: string; status: UpsertStatus };

type Owner = { ownerUserId: string | null; ownerUnitId: string };
type NewRow = { key: number; values: Omit<ContactRow, 'version' | 'createdAt' | 'updatedAt'>; owner: Owner };
type ChangedRow = { key: number; before: ContactRow; after: ContactRow; owner: Owner };

const RESOURCE = 'contact';
const WRITABLE = ['name', 'title', 'decisionRole', 'phones', 'emails'] as const;
// A row as parsed (the upsert body's schema fixes its keys' order): the same row again hashes the same.
const rowHash = (b: UpsertContactInput): string => createHash('sha1').update(JSON.stringify(b)).digest('base64');

class Retreat extends Error {}
const uniqueViolation = (err: unknown): boolean => {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return e?.code === '23505' || e?.cause?.code === '23505';
};

/** The customer each row names, by id or by the customer's external id (absent: none given, both given, or no such id). */
async function namedCustomers(tx: Executor, items: readonly BulkContactItem[]): Promise<Map<number, string>> {
  const bySystem = new Map<string, string[]>();
  for (const { body } of items) {
    if (body.customer && !body.customerId) bySystem.set(body.customer.system, [...(bySystem.get(body.customer.system) ?? []), body.customer.externalId]);
  }
  const held = new Map<string, Map<string, string>>();
  for (const [system, xs] of bySystem) held.set(system, await findRecordsByExternalIds(tx, 'customer', system, xs));
  const out = new Map<number, string>();
  for (const { key, body } of items) {
    if (body.customerId && body.customer) continue;
    const id = body.customer ? held.get(body.customer.system)?.get(body.customer.externalId) : body.customerId;
    if (id) out.set(key, id);
  }
  return out;
}

/** The row's merge patch applied to the stored contact: null when the single upsert must answer, 'same' when nothing changes. */
function patched(system: string, item: BulkContactItem, before: ContactRow): ContactRow | 'same' | null {
  try {
    const { customerId: _id, customer: _ref, ...fields } = item.body;
    const input = parseBody(patchContactBody, fromUpsertBody(fields, system, item.externalId).patch);
    const set: Partial<ContactRow> = {};
    for (const k of WRITABLE) if (input[k] !== undefined) (set as Record<string, unknown>)[k] = input[k];
    const changed = WRITABLE.filter((k) => k in set && !sameJson(set[k], before[k]));
    return changed.length === 0 ? 'same' : { ...before, ...set };
  } catch {
    return null;
  }
}

/** A new contact as the single create would insert it, or null when the single upsert must answer. */
function newRow(system: string, item: BulkContactItem, customerId: string, owner: Owner): NewRow | null {
  try {
    const { customerId: _id, customer: _ref, ...fields } = item.body;
    const input = parseBody(createContactBody, fromUpsertBody(fields, system, item.externalId).create);
    const values = {
      id: crypto.randomUUID(),
      customerId,
      name: input.name,
      title: input.title ?? null,
      decisionRole: input.decisionRole ?? 'OTHER',
      phones: input.phones ?? [],
      emails: input.emails ?? [],
      externalIds: input.externalIds ?? {},
    };
    return { key: item.key, values, owner };
  } catch {
    return null;
  }
}

/**
 * The rows of a batch this pass answers (by `key`), written in `tx`: CREATED, UPDATED or UNCHANGED with their
 * contact's id. Items are the batch's rows that parsed, the first row of each external id only.
 */
export async function writeContactBatch(tx: Executor, p: Principal, system: string, all: readonly BulkContactItem[]): Promise<Map<number, BulkContactOutcome>> {
  const out = new Map<number, BulkContactOutcome>();
  // External ids in the body are the single upsert's (each system's id is checked and applied one by one).
  const items = all.filter((i) => i.body.externalIds === undefined);
  if (items.length === 0) return out;
  const marks = await repo.marksForAction(tx, p, system, items.map((i) => i.externalId), 'contacts:update');
  const free = items.filter((i) => !marks.has(i.externalId)).map((i) => i.externalId);
  await lockExternalIds(tx, RESOURCE, system, free);
  for (const [x, recordId] of await findRecordsByExternalIds(tx, RESOURCE, system, free)) marks.set(x, { recordId, rowHash: null, rowVersion: null, current: null });
  const named = await namedCustomers(tx, items);
  const given = (i: BulkContactItem) => i.body.customerId !== undefined || i.body.customer !== undefined;
  // A row that names a customer must name the contact's own (the single upsert refuses a move).
  const ownCustomer = (i: BulkContactItem, customerId: string) => !given(i) || named.get(i.key) === customerId;

  const hashes = new Map(items.map((i) => [i.key, rowHash(i.body)]));
  const toRead: string[] = [];
  for (const i of items) {
    const m = marks.get(i.externalId);
    if (!m) continue;
    const c = m.current;
    if (c?.allowed && m.rowHash === hashes.get(i.key) && c.version === m.rowVersion && ownCustomer(i, c.customerId)) out.set(i.key, { id: m.recordId, status: 'UNCHANGED' });
    else if (c?.allowed) toRead.push(m.recordId);
  }
  const stored = new Map((await repo.rowsForAction(tx, p, toRead, 'contacts:update')).map((h) => [h.contact.id, h]));
  const mayCreate = can(p, 'contacts:create') && can(p, 'integration:write');
  const wanted = mayCreate ? items.filter((i) => !marks.has(i.externalId)).flatMap((i) => named.get(i.key) ?? []) : [];
  const targets = new Map((await customersRepository.rowsForAction(tx, p, [...new Set(wanted)], 'contacts:create', 'share')).map((h) => [h.row.id, h]));

  const created: NewRow[] = [];
  const changed: ChangedRow[] = [];
  for (const item of items) {
    if (out.has(item.key)) continue;
    const m = marks.get(item.externalId);
    if (m) {
      const hit = stored.get(m.recordId);
      if (!hit?.allowed || !ownCustomer(item, hit.contact.customerId)) continue;
      const after = patched(system, item, hit.contact);
      if (after === 'same') out.set(item.key, { id: hit.contact.id, status: 'UNCHANGED' });
      else if (after) changed.push({ key: item.key, before: hit.contact, after, owner: hit.owner });
      continue;
    }
    const customerId = named.get(item.key);
    const target = customerId ? targets.get(customerId) : undefined;
    if (!mayCreate || !customerId || !target?.allowed || target.row.status === 'MERGED') continue;
    const row = newRow(system, item, customerId, target.row);
    if (row) created.push(row);
  }
  if (created.length === 0 && changed.length === 0) return out;

  try {
    await tx.transaction(async (sp) => {
      const rows = await repo.insertMany(sp, created.map((r) => r.values));
      if (!(await claimExternalIds(sp, RESOURCE, rows.map((r) => ({ recordId: r.id, ids: r.externalIds }))))) throw new Retreat();
      const updated = new Map((await repo.updateMany(sp, changed.map((c) => c.after))).map((r) => [r.id, r]));
      if (updated.size !== changed.length) throw new Retreat();
      const changes: Change[] = rows.map((row, n) => {
        const owner = created[n]!.owner;
        return { entityType: RESOURCE, entityId: row.id, action: 'created', before: null, after: row, onBehalfOfId: onBehalfOf(p, owner.ownerUserId), owner };
      });
      for (const c of changed) {
        changes.push({ entityType: RESOURCE, entityId: c.before.id, action: 'updated', before: c.before, after: updated.get(c.before.id), onBehalfOfId: onBehalfOf(p, c.owner.ownerUserId), owner: c.owner });
      }
      await recordChanges(sp, p, changes);
      const byKey = new Map(items.map((i) => [i.key, i]));
      const mark = (key: number, version: number) => ({ externalId: byKey.get(key)!.externalId, rowHash: hashes.get(key)!, rowVersion: version });
      await markRows(sp, RESOURCE, system, [...created.map((r, n) => mark(r.key, rows[n]!.version)), ...changed.map((c) => mark(c.key, updated.get(c.before.id)!.version))]);
    });
  } catch (err) {
    if (err instanceof Retreat || uniqueViolation(err)) return out;
    throw err;
  }
  for (const r of created) out.set(r.key, { id: r.values.id, status: 'CREATED' });
  for (const c of changed) out.set(c.key, { id: c.before.id, status: 'UPDATED' });
  return out;
}
