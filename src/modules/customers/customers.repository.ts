import { and, asc, eq, getTableColumns, inArray, or, type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { contacts, customers, orgUnits, ownershipChanges, users } from '../../db/schema/index.js';
import { accessPredicate, preparedAccessPredicate, type Principal, unitReachPredicate } from '../../lib/access.js';
import { keyset, type SortSpec } from '../../lib/pagination.js';
import { preparedStatements } from '../../lib/prepared.js';
import { unitVisible, userVisible } from '../org/org.repository.js';
import { escapeLike } from './normalize.js';

export type CustomerRow = typeof customers.$inferSelect;

// What reads answer with: every column but the normalised search columns (long text and arrays that
// only the database's own search and duplicate checks use) and createdBy.
const UNREAD = ['nameNorm', 'registrationNorm', 'phonesNorm', 'emailsNorm', 'searchText', 'createdBy'] as const;
type Unread = (typeof UNREAD)[number];
const readColumns = Object.fromEntries(Object.entries(getTableColumns(customers)).filter(([k]) => !(UNREAD as readonly string[]).includes(k))) as Omit<
  ReturnType<typeof getTableColumns<typeof customers>>,
  Unread
>;
export type CustomerReadRow = Omit<CustomerRow, Unread>;
export type ContactRow = typeof contacts.$inferSelect;
export type CustomerInsert = typeof customers.$inferInsert;

export const RESOURCE = 'customer';

// First key of the advisory locks that guard customer identities (see lockIdentities).
const IDENTITY_LOCK_CLASS = 4242;

const ownerCols = { id: customers.id, ownerUserId: customers.ownerUserId, ownerUnitId: customers.ownerUnitId };

const visibleById = preparedStatements<ReturnType<typeof prepareVisibleById>>('customer_visible_by_id');
const prepareVisibleById = (ex: Executor, predicate: SQL, name: string) =>
  ex.select(readColumns).from(customers).where(and(eq(customers.id, sql.placeholder('id')), predicate)).prepare(name);

export const canSee = (p: Principal): SQL => accessPredicate(p, 'customers:read', RESOURCE, ownerCols);
export const canDo = (p: Principal, permission: string): SQL => accessPredicate(p, permission, RESOURCE, ownerCols);

export type ListFilter = {
  // The forms of the `q` search (normalize.ts searchForms): a record matching any of them is found.
  q?: readonly string[] | undefined;
  lifecycleStage?: string | undefined;
  status?: string | undefined;
  ownerUnitId?: string | undefined;
  ownerUserId?: string | undefined;
  source?: string | undefined;
  valueClass?: string | undefined;
  kind?: string | undefined;
  updatedAfter?: string | undefined;
};

const SORT_COLUMNS = {
  createdAt: { column: customers.createdAt, kind: 'timestamp' },
  updatedAt: { column: customers.updatedAt, kind: 'timestamp' },
  name: { column: customers.name, kind: 'text' },
} as const;

export type CustomerSort = keyof typeof SORT_COLUMNS;

export function sortSpec(field: CustomerSort, desc: boolean): SortSpec {
  return { ...SORT_COLUMNS[field], desc };
}

export function sortValue(row: CustomerReadRow, field: CustomerSort): string {
  const v = row[field];
  return v instanceof Date ? v.toISOString() : v;
}

export const customersRepository = {
  /** The record if visible, with whether `permission` also allows acting on it. */
  async findForAction(ex: Executor, p: Principal, id: string, permission: string, lock = false) {
    const q = ex
      .select({ row: customers, allowed: sql<boolean>`(${canDo(p, permission)})` })
      .from(customers)
      .where(and(eq(customers.id, id), canSee(p)));
    const [hit] = lock ? await q.for('update', { of: customers }) : await q;
    return hit ?? null;
  },

  // The most frequent read of all: a prepared statement per shape of the caller's visibility.
  async findVisible(ex: Executor, p: Principal, id: string): Promise<CustomerReadRow | null> {
    const access = preparedAccessPredicate(p, 'customers:read', RESOURCE, ownerCols);
    const statement = visibleById(ex, access.shape, (name) => prepareVisibleById(ex, access.predicate(), name));
    const [row] = await statement.execute({ ...access.values, id });
    return row ?? null;
  },

  async list(ex: Executor, p: Principal, f: ListFilter, sort: SortSpec, cursor: string | undefined, limit: number): Promise<CustomerReadRow[]> {
    const conds: (SQL | undefined)[] = [canSee(p)];
    // Frozen and merged customers leave the default lists; ask for them by status.
    conds.push(f.status ? eq(customers.status, f.status) : eq(customers.status, 'ACTIVE'));
    if (f.q?.length) conds.push(or(...f.q.map((form) => sql`${customers.searchText} LIKE ${`%${escapeLike(form)}%`}`)));
    if (f.lifecycleStage) conds.push(eq(customers.lifecycleStage, f.lifecycleStage));
    if (f.ownerUnitId) conds.push(eq(customers.ownerUnitId, f.ownerUnitId));
    if (f.ownerUserId) conds.push(eq(customers.ownerUserId, f.ownerUserId));
    if (f.source) conds.push(eq(customers.sourceChannel, f.source));
    if (f.valueClass) conds.push(eq(customers.valueClass, f.valueClass));
    if (f.kind) conds.push(eq(customers.kind, f.kind));
    if (f.updatedAfter) conds.push(sql`${customers.updatedAt} > ${f.updatedAfter}::timestamptz`);
    const ks = keyset(sort, customers.id, cursor);
    conds.push(ks.where);
    return ex
      .select(readColumns)
      .from(customers)
      .where(and(...conds))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  async insert(ex: Executor, values: CustomerInsert): Promise<CustomerRow> {
    const [row] = await ex.insert(customers).values(values).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  /** Compare-and-set on version: null when another write got there first. */
  async update(ex: Executor, id: string, version: number, set: Partial<CustomerInsert>): Promise<CustomerRow | null> {
    const [row] = await ex
      .update(customers)
      .set({ ...set, version: sql`${customers.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(customers.id, id), eq(customers.version, version)))
      .returning();
    return row ?? null;
  },

  /**
   * Serialises creates that share a normalised identity (name, registration id, phone, email) until
   * the transaction ends, so two concurrent creates of the same customer cannot both miss each other
   * in the duplicate check. Locks are taken in hash order (no deadlock between overlapping sets),
   * in the two-key advisory space, apart from the single-key locks of migrations.
   */
  async lockIdentities(ex: Executor, n: { nameNorm: string; registrationNorm: string | null; phonesNorm: string[]; emailsNorm: string[] }): Promise<void> {
    const keys = [`name:${n.nameNorm}`, ...(n.registrationNorm ? [`reg:${n.registrationNorm}`] : []), ...n.phonesNorm.map((x) => `phone:${x}`), ...n.emailsNorm.map((x) => `email:${x}`)];
    await ex.execute(sql`SELECT count(pg_advisory_xact_lock(${IDENTITY_LOCK_CLASS}, h))
      FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(${sql.param(keys)}::text[]) AS k ORDER BY 1) AS identity_keys`);
  },

  /** Candidates by normalised name, registration id, phone or email — across everyone's records. */
  async findDuplicates(ex: Executor, p: Principal, n: { nameNorm: string; registrationNorm: string | null; phonesNorm: string[]; emailsNorm: string[] }) {
    const matches: SQL[] = [eq(customers.nameNorm, n.nameNorm)];
    if (n.registrationNorm) matches.push(eq(customers.registrationNorm, n.registrationNorm));
    if (n.phonesNorm.length) matches.push(sql`${customers.phonesNorm} && ${sql.param(n.phonesNorm)}::text[]`);
    if (n.emailsNorm.length) matches.push(sql`${customers.emailsNorm} && ${sql.param(n.emailsNorm)}::text[]`);
    return ex
      .select({
        row: customers,
        visible: sql<boolean>`(${canSee(p)})`,
        ownerUnitPath: orgUnits.path,
      })
      .from(customers)
      .innerJoin(orgUnits, eq(orgUnits.id, customers.ownerUnitId))
      // The matches are found first, once (an InitPlan: a BitmapOr over the identity indexes), and only
      // then ordered. With the OR in the same WHERE as ORDER BY created_at LIMIT, the planner walks the
      // created_at index and filters every customer when nothing matches: the common case of a create.
      .where(
        sql`${customers.id} = ANY(ARRAY(SELECT "customers"."id" FROM "customers" WHERE "customers"."status" <> 'MERGED' AND (${sql.join(matches, sql` OR `)})))`,
      )
      .orderBy(asc(customers.createdAt))
      .limit(20);
  },

  async unitNames(ex: Executor, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await ex.select({ id: orgUnits.id, name: orgUnits.name }).from(orgUnits).where(inArray(orgUnits.id, ids));
    return new Map(rows.map((r) => [r.id, r.name]));
  },

  /**
   * The user or unit as owner candidate: whether the principal may see it at all (one it cannot see
   * does not exist for it) and whether it may assign records to it.
   */
  async ownerCandidate(ex: Executor, p: Principal, permission: string, userId: string | null, unitId: string | null) {
    if (userId) {
      const [u] = await ex
        .select({ id: users.id, unitId: users.unitId, active: users.active, visible: sql<boolean>`(${userVisible(p)})`, inReach: sql<boolean>`(${unitReachPredicate(p, permission, users.unitId)})` })
        .from(users)
        .where(eq(users.id, userId));
      return u ? { kind: 'user' as const, ...u } : null;
    }
    if (unitId) {
      const [u] = await ex
        .select({ id: orgUnits.id, visible: sql<boolean>`(${unitVisible(p)})`, inReach: sql<boolean>`(${unitReachPredicate(p, permission, orgUnits.id)})` })
        .from(orgUnits)
        .where(eq(orgUnits.id, unitId));
      return u ? { kind: 'unit' as const, id: u.id, unitId: u.id, active: true, visible: u.visible, inReach: u.inReach } : null;
    }
    return null;
  },

  /** One row of a customer's ownership history (a reassignment by PATCH, or a duplicate folded in by a merge). */
  async recordOwnershipChange(
    ex: Executor,
    p: Principal,
    c: {
      customerId: string;
      entityId?: string;
      from: { ownerUserId: string | null; ownerUnitId: string };
      to: { ownerUserId: string | null; ownerUnitId: string };
      cause: 'REASSIGNMENT' | 'MERGE';
      onBehalfOfId: string | null;
    },
  ): Promise<void> {
    await ex.insert(ownershipChanges).values({
      entityType: RESOURCE,
      entityId: c.entityId ?? c.customerId,
      customerId: c.customerId,
      fromUserId: c.from.ownerUserId,
      fromUnitId: c.from.ownerUnitId,
      toUserId: c.to.ownerUserId,
      toUnitId: c.to.ownerUnitId,
      cause: c.cause,
      actorId: p.userId,
      onBehalfOfId: c.onBehalfOfId,
    });
  },

  /**
   * A merge moves a duplicate's history to the survivor: interactions, opportunities (with their
   * stage transitions), actions, handoffs and ownership history. Its lifecycle transitions stay
   * with the duplicate (they describe its own stages, and it stays readable by id). A PENDING
   * handoff of the duplicate is cancelled first: the survivor may have one of its own, and a lead
   * cannot be handed off twice. Versioned records get a new version and one outbox event each.
   */
  async repointHistory(ex: Executor, p: Principal, fromId: string, toId: string) {
    const cancelled = await queryRows<{ id: string }>(
      ex,
      sql`WITH moved AS (
          UPDATE handoffs SET status = 'CANCELLED', reason = ${`customer merged into ${toId}`}, decided_by = ${p.userId}, decided_at = now(), version = version + 1, updated_at = now()
          WHERE customer_id = ${fromId} AND status = 'PENDING'
          RETURNING id, to_user_id AS owner_user_id, to_unit_id AS owner_unit_id
        ), outbox AS (${mergeEvents(p, 'handoff', 'cancelled_by_merge', fromId, toId)})
        SELECT id FROM moved`,
    );
    const move = async (table: string, entityType: string | null, owner: ReturnType<typeof sql>) => {
      const versioned = entityType !== null;
      const [r] = await queryRows<{ n: number | string }>(
        ex,
        sql`WITH moved AS (
            UPDATE ${sql.identifier(table)} t SET customer_id = ${toId}${versioned ? sql`, version = t.version + 1, updated_at = now()` : sql``}
            WHERE t.customer_id = ${fromId}
            RETURNING t.id, ${owner}
          )${entityType ? sql`, outbox AS (${mergeEvents(p, entityType, 'moved_by_merge', fromId, toId)})` : sql``}
          SELECT count(*) AS n FROM moved`,
      );
      return Number(r?.n ?? 0);
    };
    const survivorOwner = sql`(SELECT c.owner_user_id FROM customers c WHERE c.id = ${toId}) AS owner_user_id, (SELECT c.owner_unit_id FROM customers c WHERE c.id = ${toId}) AS owner_unit_id`;
    const none = sql`NULL::uuid AS owner_user_id, NULL::uuid AS owner_unit_id`;
    return {
      interactions: await move('interactions', 'interaction', survivorOwner),
      opportunities: await move('opportunities', 'opportunity', sql`t.owner_user_id, t.owner_unit_id`),
      stageTransitions: await move('stage_transitions', null, none),
      actions: await move('actions', 'action', sql`t.assignee_id AS owner_user_id, t.owner_unit_id`),
      handoffs: await move('handoffs', 'handoff', sql`t.to_user_id AS owner_user_id, t.to_unit_id AS owner_unit_id`),
      ownershipChanges: await move('ownership_changes', null, none),
      cancelledHandoffs: cancelled.map((h) => h.id),
    };
  },

  // Contacts: always reached through a customer the caller can see.
  async contactsOf(ex: Executor, customerIds: readonly string[]): Promise<ContactRow[]> {
    if (customerIds.length === 0) return [];
    return ex
      .select()
      .from(contacts)
      .where(inArray(contacts.customerId, [...customerIds]))
      .orderBy(asc(contacts.createdAt), asc(contacts.id));
  },

  async listContacts(ex: Executor, customerId: string, cursor: string | undefined, limit: number): Promise<ContactRow[]> {
    const ks = keyset({ column: contacts.createdAt, desc: false, kind: 'timestamp' }, contacts.id, cursor);
    return ex
      .select()
      .from(contacts)
      .where(and(eq(contacts.customerId, customerId), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
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
};

// One outbox event per row of the CTE `moved` (id, owner_user_id, owner_unit_id), set-based.
function mergeEvents(p: Principal, entityType: string, action: string, fromId: string, toId: string) {
  return sql`INSERT INTO events (type, entity_type, entity_id, owner_user_id, owner_unit_id, actor_id, on_behalf_of_id, payload)
    SELECT ${`${entityType}.${action}`}, ${entityType}, id, owner_user_id, owner_unit_id, ${p.userId}::uuid, NULL,
      jsonb_build_object('before', jsonb_build_object('customerId', ${fromId}::text), 'after', jsonb_build_object('customerId', ${toId}::text))
    FROM moved`;
}
