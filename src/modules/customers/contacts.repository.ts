import { and, asc, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { insertJsonRows } from '../../db/json-rows.js';
import { selectRows } from '../../db/rows.js';
import { contacts, customers, externalIds } from '../../db/schema/index.js';
import type { RowMark } from '../../lib/external-ids.js';
import { access, type Principal } from '../../lib/access.js';
import { countRows, keyset, type SortSpec, type TimeOrder, timeKeyset, updatedAfterCondition } from '../../lib/pagination.js';
import { heldExternalId } from './customers.repository.js';

export type ContactListFilter = { customerId?: string | undefined; updatedAfter?: string | undefined; externalId?: { system: string; externalId: string } | undefined };
export const CONTACT_SORT_COLUMNS = { createdAt: contacts.createdAt, updatedAt: contacts.updatedAt } as const;

export type ContactRow = typeof contacts.$inferSelect;
export type ContactInsert = typeof contacts.$inferInsert;
/** A contact's external id mark (lib/external-ids.ts) with the contact as the principal may act on it (`current` null: out of sight). */
export type ContactMark = RowMark & { current: { version: number; customerId: string; allowed: boolean } | null };
/** A contact with its customer's owner, and whether the principal may act on it (bulk loads). */
export type ContactForAction = { contact: ContactRow; owner: { ownerUserId: string | null; ownerUnitId: string }; allowed: boolean };

// The columns a bulk load's merge patch may change (external ids aside: such rows take the single upsert).
const WRITABLE = ['name', 'title', 'decisionRole', 'phones', 'emails'] as const satisfies readonly (keyof ContactRow)[];
const ids = (xs: readonly string[]) => sql`${sql.param([...new Set(xs)])}::uuid[]`;

const canSee = access.customer.visible;
const canDo = access.customer.allows;

function allConditions(p: Principal, f: ContactListFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [access.contact.visible(p)];
  if (f.customerId) conds.push(eq(contacts.customerId, f.customerId));
  if (f.updatedAfter) conds.push(sql`${contacts.updatedAt} > ${f.updatedAfter}::timestamptz`);
  if (f.externalId) conds.push(heldExternalId(contacts.id, 'contact', f.externalId));
  return conds;
}

// Contact persons: always reached through a customer the caller can see.
export const contactsRepository = {
  // Contacts: always reached through a customer the caller can see.
  async contactsOf(ex: Executor, p: Principal, customerIds: readonly string[]): Promise<ContactRow[]> {
    if (customerIds.length === 0) return [];
    return selectRows(
      ex
        .select(getTableColumns(contacts))
        .from(contacts)
        .innerJoin(customers, eq(customers.id, contacts.customerId))
        .where(and(inArray(contacts.customerId, [...customerIds]), access.contact.visible(p)))
        .orderBy(asc(contacts.createdAt), asc(contacts.id)),
    );
  },

  async contactsByIds(ex: Executor, p: Principal, ids: readonly string[]): Promise<ContactRow[]> {
    if (ids.length === 0) return [];
    return ex
      .select(getTableColumns(contacts))
      .from(contacts)
      .innerJoin(customers, eq(customers.id, contacts.customerId))
      .where(and(inArray(contacts.id, [...ids]), access.contact.visible(p)));
  },

  /** A customer's contact persons, changed after `updatedAfter` if given, in `order` (oldest first by default). */
  async listContacts(ex: Executor, customerId: string, updatedAfter: string | undefined, order: TimeOrder, limit: number): Promise<ContactRow[]> {
    const ks = timeKeyset(order, contacts, contacts.id);
    return ex
      .select()
      .from(contacts)
      .where(and(eq(contacts.customerId, customerId), updatedAfterCondition(contacts.updatedAt, updatedAfter), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  /** Every visible contact person (GET /v1/contacts): the sync's read, keyset-paginated on `sort`. */
  async listAll(ex: Executor, p: Principal, f: ContactListFilter, sort: SortSpec, cursor: string | undefined, limit: number): Promise<ContactRow[]> {
    const ks = keyset(sort, contacts.id, cursor);
    return ex
      .select(getTableColumns(contacts))
      .from(contacts)
      .innerJoin(customers, eq(customers.id, contacts.customerId))
      .where(and(...allConditions(p, f), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  // The rows of every page of listAll: the same visibility and filters.
  async countAll(ex: Executor, p: Principal, f: ContactListFilter): Promise<number> {
    const [row] = await ex
      .select({ n: sql<number>`count(*)::int` })
      .from(contacts)
      .innerJoin(customers, eq(customers.id, contacts.customerId))
      .where(and(...allConditions(p, f)));
    return Number(row?.n ?? 0);
  },

  // The list's rows over all its pages (the service has checked the customer is visible).
  async countContacts(ex: Executor, customerId: string, updatedAfter?: string): Promise<number> {
    return countRows(ex, contacts, and(eq(contacts.customerId, customerId), updatedAfterCondition(contacts.updatedAt, updatedAfter)));
  },

  async findContactForAction(ex: Executor, p: Principal, id: string, permission: string, lock = false) {
    const q = ex
      .select({ contact: contacts, customer: customers, allowed: sql<boolean>`(${canDo(p, permission)})` })
      .from(contacts)
      .innerJoin(customers, eq(customers.id, contacts.customerId))
      .where(and(eq(contacts.id, id), canSee(p)));
    const [hit] = lock ? await q.for('update', { of: contacts }) : await q;
    return hit ?? null;
  },

  /**
   * The contacts many external ids of one system name (one statement, the ids as one array parameter): each id's
   * bulk mark and, when the principal sees the contact's customer, the contact's version and customer and whether
   * `permission` allows acting on it.
   */
  async marksForAction(ex: Executor, p: Principal, system: string, xs: readonly string[], permission: string): Promise<Map<string, ContactMark>> {
    if (xs.length === 0) return new Map();
    const rows = await ex
      .select({
        externalId: externalIds.externalId,
        recordId: externalIds.recordId,
        rowHash: externalIds.rowHash,
        rowVersion: externalIds.rowVersion,
        version: contacts.version,
        customerId: contacts.customerId,
        seen: customers.id,
        allowed: sql<boolean | null>`(${canDo(p, permission)})`,
      })
      .from(externalIds)
      .leftJoin(contacts, eq(contacts.id, externalIds.recordId))
      .leftJoin(customers, and(eq(customers.id, contacts.customerId), canSee(p)))
      .where(and(eq(externalIds.resourceType, 'contact'), eq(externalIds.system, system), sql`${externalIds.externalId} = ANY(${sql.param([...new Set(xs)])}::text[])`));
    return new Map(
      rows.map((r) => [
        r.externalId,
        {
          recordId: r.recordId,
          rowHash: r.rowHash,
          rowVersion: r.rowVersion,
          current: r.version === null || r.customerId === null || r.seen === null ? null : { version: r.version, customerId: r.customerId, allowed: r.allowed === true },
        },
      ]),
    );
  },

  /** Many contacts the principal sees, with their customer's owner and whether `permission` allows acting on each (one statement). */
  async rowsForAction(ex: Executor, p: Principal, xs: readonly string[], permission: string): Promise<ContactForAction[]> {
    if (xs.length === 0) return [];
    const rows = await ex
      .select({ contact: contacts, ownerUserId: customers.ownerUserId, ownerUnitId: customers.ownerUnitId, allowed: sql<boolean>`(${canDo(p, permission)})` })
      .from(contacts)
      .innerJoin(customers, eq(customers.id, contacts.customerId))
      .where(and(sql`${contacts.id} = ANY(${ids(xs)})`, canSee(p)));
    return rows.map((r) => ({ contact: r.contact, owner: { ownerUserId: r.ownerUserId, ownerUnitId: r.ownerUnitId }, allowed: r.allowed === true }));
  },

  /** Many new contacts (each with its id), in one statement with one parameter (db/json-rows.ts); answers them as stored, in order. */
  async insertMany(ex: Executor, values: readonly (ContactInsert & { id: string })[]): Promise<ContactRow[]> {
    if (values.length === 0) return [];
    await insertJsonRows(ex, contacts, values);
    const rows = new Map((await ex.select().from(contacts).where(sql`${contacts.id} = ANY(${ids(values.map((v) => v.id))})`)).map((r) => [r.id, r]));
    return values.map((v) => rows.get(v.id) as ContactRow);
  },

  /**
   * Many contacts' new values in one statement, each compare-and-set on its version (version + 1, updated_at
   * now); a row another write got to first is absent from the answer.
   */
  async updateMany(ex: Executor, rows: readonly (Pick<ContactRow, 'id' | 'version'> & Pick<ContactRow, (typeof WRITABLE)[number]>)[]): Promise<ContactRow[]> {
    if (rows.length === 0) return [];
    const cols = getTableColumns(contacts);
    const json = rows.map((r) => Object.fromEntries([['id', r.id], ['version', r.version], ...WRITABLE.map((k) => [cols[k].name, r[k]])]));
    const set = Object.fromEntries(WRITABLE.map((k) => [k, sql.raw(`v.${cols[k].name}`)]));
    return ex
      .update(contacts)
      .set({ ...set, version: sql`${contacts.version} + 1`, updatedAt: sql`now()` })
      .from(sql`jsonb_populate_recordset(NULL::contacts, ${JSON.stringify(json)}::jsonb) AS v`)
      .where(sql`${contacts.id} = v.id AND ${contacts.version} = v.version AND ${contacts.id} = ANY(${ids(rows.map((r) => r.id))})`)
      .returning(getTableColumns(contacts));
  },

  async insert(ex: Executor, values: ContactInsert): Promise<ContactRow> {
    const [row] = await ex.insert(contacts).values(values).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  /** Compare-and-set on version: null when another write got there first. */
  async update(ex: Executor, id: string, version: number, set: Partial<ContactInsert>): Promise<ContactRow | null> {
    const [row] = await ex
      .update(contacts)
      .set({ ...set, version: sql`${contacts.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(contacts.id, id), eq(contacts.version, version)))
      .returning();
    return row ?? null;
  },

  async delete(ex: Executor, id: string): Promise<void> {
    await ex.delete(contacts).where(eq(contacts.id, id));
  },

  /** A merge: the duplicate's contact persons move to the survivor. */
  async moveToCustomer(ex: Executor, fromId: string, toId: string): Promise<ContactRow[]> {
    return ex
      .update(contacts)
      .set({ customerId: toId, updatedAt: sql`now()`, version: sql`${contacts.version} + 1` })
      .where(eq(contacts.customerId, fromId))
      .returning();
  },
};
