import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { insertJsonRows } from '../db/json-rows.js';
import { externalIds } from '../db/schema/index.js';
import { AppError } from './errors.js';

// External ids of synced records (api.md §1, Integration): one id per system and record, one record per
// resource type, system and id across the company. The table's primary key is the uniqueness; these functions
// are the only writers, and the module that owns a record calls them inside the transaction that writes it.

export type ExternalResource = 'customer' | 'contact' | 'opportunity' | 'order';
export type ExternalIdMap = Record<string, string>;

export const EXTERNAL_SYSTEM_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/** The record that holds `system`/`externalId`, or null. Visibility is the caller's business. */
export async function findRecordByExternalId(
  tx: Executor,
  resource: ExternalResource,
  system: string,
  externalId: string,
): Promise<string | null> {
  const [row] = await tx
    .select({ recordId: externalIds.recordId })
    .from(externalIds)
    .where(and(eq(externalIds.resourceType, resource), eq(externalIds.system, system), eq(externalIds.externalId, externalId)));
  return row?.recordId ?? null;
}

/** The records holding many ids of one system, in one statement: `externalId → recordId` (absent ids are absent). */
export async function findRecordsByExternalIds(
  tx: Executor,
  resource: ExternalResource,
  system: string,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await tx
    .select({ externalId: externalIds.externalId, recordId: externalIds.recordId })
    .from(externalIds)
    .where(and(eq(externalIds.resourceType, resource), eq(externalIds.system, system), inArray(externalIds.externalId, [...new Set(ids)])));
  return new Map(rows.map((r) => [r.externalId, r.recordId]));
}

/** What the last bulk row by an id wrote: its hash and the record's version right after (db/schema/platform.ts). */
export type RowMark = { recordId: string; rowHash: string | null; rowVersion: number | null };

/**
 * Marks many ids of one system with the row a bulk load wrote by each and the version it left, in one statement
 * (the ids also as an array, so the primary key finds them: a join on the JSON rows alone scans the table).
 */
export async function markRows(tx: Executor, resource: ExternalResource, system: string, marks: readonly { externalId: string; rowHash: string; rowVersion: number }[]): Promise<void> {
  if (marks.length === 0) return;
  await tx.execute(sql`
    UPDATE ${externalIds} e SET row_hash = m.h, row_version = m.v
    FROM jsonb_to_recordset(${JSON.stringify(marks.map((m) => ({ x: m.externalId, h: m.rowHash, v: m.rowVersion })))}::jsonb) AS m(x text, h text, v integer)
    WHERE e.resource_type = ${resource} AND e.system = ${system} AND e.external_id = m.x
      AND e.external_id = ANY(${sql.param(marks.map((m) => m.externalId))}::text[])`);
}

/** The ids of many records, `{ system: id }` per record (records without any are absent from the map). */
export async function externalIdsOf(tx: Executor, resource: ExternalResource, recordIds: readonly string[]): Promise<Map<string, ExternalIdMap>> {
  const out = new Map<string, ExternalIdMap>();
  if (recordIds.length === 0) return out;
  const rows = await tx
    .select({ recordId: externalIds.recordId, system: externalIds.system, externalId: externalIds.externalId })
    .from(externalIds)
    .where(and(eq(externalIds.resourceType, resource), inArray(externalIds.recordId, [...recordIds])));
  for (const r of rows) {
    const ids = out.get(r.recordId) ?? {};
    ids[r.system] = r.externalId;
    out.set(r.recordId, ids);
  }
  return out;
}

/**
 * Applies a merge patch of external ids to one record (`null` removes a system's id) and answers the record's
 * ids afterwards. An id already held by another record is refused with 409 EXTERNAL_ID_TAKEN naming only the
 * system and the id the caller gave — never the other record, which the caller may not be able to see.
 */
export async function applyExternalIds(
  tx: Executor,
  resource: ExternalResource,
  recordId: string,
  patch: Record<string, string | null>,
): Promise<ExternalIdMap> {
  const systems = Object.keys(patch);
  if (systems.length > 0) {
    await tx
      .delete(externalIds)
      .where(and(eq(externalIds.resourceType, resource), eq(externalIds.recordId, recordId), inArray(externalIds.system, systems)));
    const wanted = systems.flatMap((system) => {
      const externalId = patch[system];
      return externalId == null ? [] : [{ resourceType: resource, system, externalId, recordId }];
    });
    if (wanted.length > 0) {
      // ON CONFLICT DO NOTHING keeps the transaction alive; a pair that did not go in is held by another record
      // (a concurrent writer of the same new id waits here for the first one's commit, then lands in this branch).
      const inserted = await tx.insert(externalIds).values(wanted).onConflictDoNothing().returning({ system: externalIds.system });
      const landed = new Set(inserted.map((r) => r.system));
      const taken = wanted.filter((w) => !landed.has(w.system));
      if (taken.length > 0) {
        throw new AppError('EXTERNAL_ID_TAKEN', 'the external id is already held by another record', {
          errors: taken.map((w) => ({ path: `externalIds.${w.system}`, message: `${w.system} id ${w.externalId} is already in use` })),
        });
      }
    }
  }
  return (await externalIdsOf(tx, resource, [recordId])).get(recordId) ?? {};
}

/** A merge: the duplicates' ids move to the survivor, except for systems the survivor already has an id for. */
export async function moveExternalIds(tx: Executor, resource: ExternalResource, fromIds: readonly string[], toId: string): Promise<void> {
  if (fromIds.length === 0) return;
  const from = sql`${sql.param([...fromIds])}::uuid[]`;
  // Where several duplicates hold an id for the same system, the oldest id moves; the others stay on their
  // merged records, so a read by them still finds the merged record (and through it, the survivor).
  await tx.execute(sql`
    UPDATE ${externalIds} e SET record_id = ${toId}
    FROM (
      SELECT DISTINCT ON (d.system) d.system, d.external_id
      FROM ${externalIds} d
      WHERE d.resource_type = ${resource} AND d.record_id = ANY(${from})
        AND NOT EXISTS (SELECT 1 FROM ${externalIds} s WHERE s.resource_type = ${resource} AND s.record_id = ${toId} AND s.system = d.system)
      ORDER BY d.system, d.created_at, d.external_id
    ) pick
    WHERE e.resource_type = ${resource} AND e.system = pick.system AND e.external_id = pick.external_id`);
}

// First key of the advisory locks that serialise upserts of one external id (apart from the identity locks).
const EXTERNAL_ID_LOCK_CLASS = 4343;

/**
 * Serialises, until the transaction ends, the writers of one (resource, system, id): two concurrent upserts of
 * the same new id then run one after the other, and the second finds the first one's record instead of
 * failing on the primary key.
 */
export async function lockExternalId(tx: Executor, resource: ExternalResource, system: string, externalId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${EXTERNAL_ID_LOCK_CLASS}, hashtext(${`${resource}:${system}:${externalId}`}))`);
}

/** The same lock for many ids of one system in one statement (a bulk load's batch), taken in hash order. */
export async function lockExternalIds(tx: Executor, resource: ExternalResource, system: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const keys = [...new Set(ids)].map((id) => `${resource}:${system}:${id}`);
  await tx.execute(sql`SELECT count(pg_advisory_xact_lock(${EXTERNAL_ID_LOCK_CLASS}, h))
    FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(${sql.param(keys)}::text[]) AS k ORDER BY 1) AS external_id_keys`);
}

/**
 * Many records' first ids at once (records just inserted by a bulk load), in one statement. Answers whether every
 * pair went in: false when any is held by another record (the caller then undoes its savepoint and lets each row
 * answer on its own, as a single upsert would).
 */
export async function claimExternalIds(tx: Executor, resource: ExternalResource, wanted: readonly { recordId: string; ids: ExternalIdMap }[]): Promise<boolean> {
  const rows = wanted.flatMap((w) => Object.entries(w.ids).map(([system, externalId]) => ({ resourceType: resource, system, externalId, recordId: w.recordId })));
  if (rows.length === 0) return true;
  return (await insertJsonRows(tx, externalIds, rows, { onConflictDoNothing: true })) === rows.length;
}
