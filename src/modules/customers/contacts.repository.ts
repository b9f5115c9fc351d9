import { and, asc, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { selectRows } from '../../db/rows.js';
import { contacts, customers } from '../../db/schema/index.js';
import { access, type Principal } from '../../lib/access.js';
import { countRows, keyset, type SortSpec, type TimeOrder, timeKeyset, updatedAfterCondition } from '../../lib/pagination.js';
import { heldExternalId } from './customers.repository.js';

export type ContactListFilter = { customerId?: string | undefined; updatedAfter?: string | undefined; externalId?: { system: string; externalId: string } | undefined };
export const CONTACT_SORT_COLUMNS = { createdAt: contacts.createdAt, updatedAt: contacts.updatedAt } as const;

export type ContactRow = typeof contacts.$inferSelect;
export type ContactInsert = typeof contacts.$inferInsert;

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
