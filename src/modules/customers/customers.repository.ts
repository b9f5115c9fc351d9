import { and, asc, eq, getTableColumns, inArray, or, type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { insertJsonRows } from '../../db/json-rows.js';
import { executeRows, selectRows } from '../../db/rows.js';
import type { RowMark } from '../../lib/external-ids.js';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { customers, customerValues, externalIds, orgUnits, users } from '../../db/schema/index.js';
import { access, preparedAccessPredicate, type Principal, unitReachPredicate } from '../../lib/access.js';
import { keyset, type SortSpec } from '../../lib/pagination.js';
import { preparedStatements } from '../../lib/prepared.js';
import { escapeLike, type Identity, identityKeys } from './normalize.js';

export type CustomerRow = typeof customers.$inferSelect;

// What reads answer with: every column but the normalised search columns (long text and arrays that
// only the database's own search and duplicate checks use) and createdBy.
const UNREAD = ['nameNorm', 'registrationNorm', 'phonesNorm', 'emailsNorm', 'searchText', 'createdBy'] as const;
type Unread = (typeof UNREAD)[number];
const ownColumns = Object.fromEntries(Object.entries(getTableColumns(customers)).filter(([k]) => !(UNREAD as readonly string[]).includes(k))) as Omit<
  ReturnType<typeof getTableColumns<typeof customers>>,
  Unread
>;

// The computed fields live in customer_values (written by the value module's recomputation, never
// copied into this wide, heavily indexed table). Reads of many rows join it once (filters and sorts
// use its indexes); reads of one row that is being written take them by primary key. A customer
// never scored has none; churnRisk is that of a ranked customer only (value class set).
const churnOf = (cls: SQL, level: SQL) => sql<string | null>`(CASE WHEN ${cls} IS NOT NULL THEN ${level} END)`;
const computedJoined = {
  valueClass: customerValues.valueClass,
  valueScore: customerValues.score,
  churnRisk: churnOf(sql`${customerValues.valueClass}`, sql`${customerValues.churnLevel}`),
};
const cvOf = (col: string) => sql.raw(`(SELECT cv.${col} FROM customer_values cv WHERE cv.customer_id = "customers"."id")`);
const computedByKey = {
  valueClass: sql<string | null>`${cvOf('value_class')}`,
  valueScore: sql<string | null>`${cvOf('score')}`,
  churnRisk: churnOf(cvOf('value_class'), cvOf('churn_level')),
};
const withComputed = eq(customerValues.customerId, customers.id);
const readColumns = { ...ownColumns, ...computedJoined };
export type Computed = { valueClass: string | null; valueScore: string | null; churnRisk: string | null };
export type CustomerReadRow = Omit<CustomerRow, Unread> & Computed;
export type CustomerFullRow = CustomerRow & Computed;
export type CustomerInsert = typeof customers.$inferInsert;

export const RESOURCE = 'customer';
/** An external id's bulk mark with its record as the principal may act on it (`current` null: out of sight). */
export type BulkMark = RowMark & { current: { version: number; status: string; allowed: boolean } | null };

// The columns a merge patch may change (owner, status, lifecycle and computed values aside).
const WRITABLE = [
  'kind', 'name', 'nameNorm', 'registrationId', 'registrationNorm', 'phones', 'phonesNorm', 'emails', 'emailsNorm', 'searchText', 'website', 'industry', 'region',
  'address', 'roles', 'sourceChannel', 'sourceCampaign', 'sourceReferrerCustomerId', 'sourceDetail', 'creditStatus', 'creditLimit', 'creditCurrency',
] as const satisfies readonly (keyof CustomerRow)[];
type Writable = (typeof WRITABLE)[number];

// First key of the advisory locks that guard customer identities (see lockIdentities).
const IDENTITY_LOCK_CLASS = 4242;

const ownerCols = { id: customers.id, ownerUserId: customers.ownerUserId, ownerUnitId: customers.ownerUnitId };

const visibleById = preparedStatements<ReturnType<typeof prepareVisibleById>>('customer_visible_by_id');
const prepareVisibleById = (ex: Executor, predicate: SQL, name: string) =>
  ex.select(readColumns).from(customers).leftJoin(customerValues, withComputed).where(and(eq(customers.id, sql.placeholder('id')), predicate)).prepare(name);

const canSee = access.customer.visible;
const canDo = access.customer.allows;

export type ListFilter = {
  // The forms of the `q` search (normalize.ts searchForms): a record matching any of them is found.
  q?: readonly string[] | undefined;
  lifecycleStage?: string | undefined;
  status?: string | undefined;
  ownerUnitId?: string | undefined;
  ownerUserId?: string | undefined;
  source?: string | undefined;
  valueClass?: string | undefined;
  churnRisk?: string | undefined;
  kind?: string | undefined;
  updatedAfter?: string | undefined;
  externalId?: { system: string; externalId: string } | undefined;
};

/** The record column `id` holds this external id (one row of external_ids, by its primary key). */
export function heldExternalId(id: AnyPgColumn, resourceType: string, x: { system: string; externalId: string }): SQL {
  return sql`${id} IN (SELECT x.record_id FROM ${externalIds} x WHERE x.resource_type = ${resourceType} AND x.system = ${x.system} AND x.external_id = ${x.externalId})`;
}

const SORT_COLUMNS = {
  createdAt: { column: customers.createdAt, kind: 'timestamp' },
  updatedAt: { column: customers.updatedAt, kind: 'timestamp' },
  name: { column: customers.name, kind: 'text' },
  // Computed fields: a customer never scored sorts as -1 / 0, below every scored one.
  valueScore: { column: sql`coalesce(${customerValues.score}, -1)`, kind: 'numeric' },
  churnRisk: { column: sql`(CASE ${computedJoined.churnRisk} WHEN 'HIGH' THEN 2 WHEN 'WATCH' THEN 1 ELSE 0 END)`, kind: 'numeric' },
} as const;

export type CustomerSort = keyof typeof SORT_COLUMNS;

export function sortSpec(field: CustomerSort, desc: boolean): SortSpec {
  return { ...SORT_COLUMNS[field], desc };
}

export function sortValue(row: CustomerReadRow, field: CustomerSort): string {
  if (field === 'valueScore') return row.valueScore ?? '-1';
  if (field === 'churnRisk') return String(row.churnRisk === 'HIGH' ? 2 : row.churnRisk === 'WATCH' ? 1 : 0);
  const v = row[field];
  return v instanceof Date ? v.toISOString() : v;
}

function listConditions(p: Principal, f: ListFilter): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [canSee(p)];
  // Frozen and merged customers leave the default lists; ask for them by status.
  if (f.status !== 'ALL') conds.push(f.status ? eq(customers.status, f.status) : eq(customers.status, 'ACTIVE'));
  if (f.externalId) conds.push(heldExternalId(customers.id, RESOURCE, f.externalId));
  if (f.q?.length) conds.push(or(...f.q.map((form) => sql`${customers.searchText} LIKE ${`%${escapeLike(form)}%`}`)));
  if (f.lifecycleStage) conds.push(eq(customers.lifecycleStage, f.lifecycleStage));
  if (f.ownerUnitId) conds.push(eq(customers.ownerUnitId, f.ownerUnitId));
  if (f.ownerUserId) conds.push(eq(customers.ownerUserId, f.ownerUserId));
  if (f.source) conds.push(eq(customers.sourceChannel, f.source));
  if (f.valueClass) conds.push(eq(customerValues.valueClass, f.valueClass));
  if (f.churnRisk) conds.push(and(sql`${customerValues.valueClass} IS NOT NULL`, eq(customerValues.churnLevel, f.churnRisk)));
  if (f.kind) conds.push(eq(customers.kind, f.kind));
  if (f.updatedAfter) conds.push(sql`${customers.updatedAt} > ${f.updatedAfter}::timestamptz`);
  return conds;
}

export const customersRepository = {
  /** The record if visible, with whether `permission` also allows acting on it. */
  async findForAction(ex: Executor, p: Principal, id: string, permission: string, lock = false) {
    const q = ex
      .select({ row: { ...getTableColumns(customers), ...computedByKey }, allowed: sql<boolean>`(${canDo(p, permission)})` })
      .from(customers)
      .where(and(eq(customers.id, id), canSee(p)));
    const [hit] = lock ? await q.for('update', { of: customers }) : await q;
    return hit ?? null;
  },

  // The most frequent read of all: a prepared statement per shape of the caller's visibility.
  async findVisible(ex: Executor, p: Principal, id: string): Promise<CustomerReadRow | null> {
    const access = preparedAccessPredicate(p, 'customers:read', RESOURCE, ownerCols);
    const statement = visibleById(ex, access.shape, (name) => prepareVisibleById(ex, access.predicate(), name));
    const [row] = await executeRows<CustomerReadRow>(statement, { ...access.values, id });
    return row ?? null;
  },

  async list(ex: Executor, p: Principal, f: ListFilter, sort: SortSpec, cursor: string | undefined, limit: number): Promise<CustomerReadRow[]> {
    const ks = keyset(sort, customers.id, cursor);
    return selectRows(
      ex
        .select(readColumns)
        .from(customers)
        .leftJoin(customerValues, withComputed)
        .where(and(...listConditions(p, f), ks.where))
        .orderBy(...ks.orderBy)
        .limit(limit + 1),
    );
  },

  // The list's rows without its page: the same filters, the same visibility.
  async count(ex: Executor, p: Principal, f: ListFilter): Promise<number> {
    const [row] = await ex
      .select({ n: sql<number>`count(*)::int` })
      .from(customers)
      .leftJoin(customerValues, withComputed)
      .where(and(...listConditions(p, f)));
    return row?.n ?? 0;
  },

  /** Many visible records at once, each with whether `permission` allows acting on it (a bulk load's read). */
  async visibleForAction(ex: Executor, p: Principal, ids: readonly string[], permission: string): Promise<{ row: CustomerReadRow; allowed: boolean }[]> {
    if (ids.length === 0) return [];
    const rows = await ex
      .select({ ...readColumns, allowed: sql<boolean>`(${canDo(p, permission)})` })
      .from(customers)
      .leftJoin(customerValues, withComputed)
      .where(and(inArray(customers.id, [...ids]), canSee(p)));
    return rows.map(({ allowed, ...row }) => ({ row, allowed }));
  },

  async visibleByIds(ex: Executor, p: Principal, ids: readonly string[]): Promise<CustomerReadRow[]> {
    if (ids.length === 0) return [];
    return selectRows(
      ex
        .select(readColumns)
        .from(customers)
        .leftJoin(customerValues, withComputed)
        .where(and(inArray(customers.id, [...ids]), canSee(p))),
    );
  },

  /** A new record: never scored yet, so without computed values. */
  async insert(ex: Executor, values: CustomerInsert): Promise<CustomerFullRow> {
    const [row] = await ex.insert(customers).values(values).returning();
    if (!row) throw new Error('insert returned nothing');
    return { ...row, valueClass: null, valueScore: null, churnRisk: null };
  },

  /** The computed values as they stand now (after a rescore in the same transaction). */
  async computedValues(ex: Executor, id: string): Promise<Computed | null> {
    const [row] = await ex.select(computedByKey).from(customers).where(eq(customers.id, id));
    return row ?? null;
  },

  /** Compare-and-set on version: null when another write got there first. */
  async update(ex: Executor, id: string, version: number, set: Partial<CustomerInsert>): Promise<CustomerFullRow | null> {
    const [row] = await ex
      .update(customers)
      .set({ ...set, version: sql`${customers.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(customers.id, id), eq(customers.version, version)))
      .returning({ ...getTableColumns(customers), ...computedByKey });
    return row ?? null;
  },

  /**
   * Serialises creates that share a normalised identity (name, registration id, phone, email) until
   * the transaction ends, so two concurrent creates of the same customer cannot both miss each other
   * in the duplicate check. Locks are taken in hash order (no deadlock between overlapping sets),
   * in the two-key advisory space, apart from the single-key locks of migrations.
   */
  async lockIdentities(ex: Executor, n: Identity): Promise<void> {
    await customersRepository.lockIdentityKeys(ex, identityKeys(n));
  },

  /** The same locks for many identities' keys at once (identityKeys; a bulk load's batch), in hash order. */
  async lockIdentityKeys(ex: Executor, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await ex.execute(sql`SELECT count(pg_advisory_xact_lock(${IDENTITY_LOCK_CLASS}, h))
      FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(${sql.param([...keys])}::text[]) AS k ORDER BY 1) AS identity_keys`);
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

  /**
   * Which of these identity keys (identityKeys) some unmerged customer holds — anyone's, whatever the caller
   * sees: one statement for a bulk load's batch, whose matching rows then take the single create's duplicate rule.
   */
  async heldIdentityKeys(ex: Executor, keys: readonly string[]): Promise<Set<string>> {
    const of = (prefix: string) => keys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
    const [names, regs, phones, emails] = [of('name:'), of('reg:'), of('phone:'), of('email:')];
    if (keys.length === 0) return new Set();
    const rows = await queryRows<{ k: string }>(
      ex,
      sql`SELECT DISTINCT k FROM (
        SELECT 'name:' || name_norm AS k FROM customers WHERE status <> 'MERGED' AND name_norm = ANY(${sql.param(names)}::text[])
        UNION ALL SELECT 'reg:' || registration_norm FROM customers WHERE status <> 'MERGED' AND registration_norm = ANY(${sql.param(regs)}::text[])
        UNION ALL SELECT 'phone:' || x FROM customers, unnest(phones_norm) x WHERE status <> 'MERGED' AND phones_norm && ${sql.param(phones)}::text[] AND x = ANY(${sql.param(phones)}::text[])
        UNION ALL SELECT 'email:' || x FROM customers, unnest(emails_norm) x WHERE status <> 'MERGED' AND emails_norm && ${sql.param(emails)}::text[] AND x = ANY(${sql.param(emails)}::text[])
      ) AS held`,
    );
    return new Set(rows.map((r) => r.k));
  },

  /** Many visible records as stored (every column), each with whether `permission` allows acting on it. */
  async rowsForAction(ex: Executor, p: Principal, ids: readonly string[], permission: string, lock?: 'share'): Promise<{ row: CustomerRow; allowed: boolean }[]> {
    if (ids.length === 0) return [];
    const q = ex
      .select({ row: customers, allowed: sql<boolean>`(${canDo(p, permission)})` })
      .from(customers)
      .where(and(inArray(customers.id, [...ids]), canSee(p)));
    // Shared: other loads adding to the same customers go on; a merge or an update of them waits for this transaction.
    return lock ? q.orderBy(customers.id).for('share') : q;
  },

  /**
   * Many records as stored, locked (FOR UPDATE, in id order so two batches lock their common customers in one
   * order), each with whether the principal sees it and whether `permission` then allows acting on it: the
   * customers of a bulk load's orders (new orders need both; a changed order's customer is locked as its owner).
   */
  async lockRowsForAction(ex: Executor, p: Principal, ids: readonly string[], permission: string): Promise<{ row: CustomerRow; visible: boolean; allowed: boolean }[]> {
    if (ids.length === 0) return [];
    const rows = await ex
      .select({ row: customers, visible: sql<boolean>`(${canSee(p)})`, allowed: sql<boolean>`(${canDo(p, permission)})` })
      .from(customers)
      .where(sql`${customers.id} = ANY(${sql.param([...new Set(ids)])}::uuid[])`)
      .orderBy(asc(customers.id))
      .for('update', { of: customers });
    return rows.map((r) => ({ row: r.row, visible: r.visible === true, allowed: r.visible === true && r.allowed === true }));
  },

  /**
   * The records many external ids of one system name (one statement, the ids as one array parameter): each id's
   * bulk mark (lib/external-ids.ts markRows) and, when the principal sees the record, its version and status and
   * whether `permission` allows acting on it (`current`: null for a record out of sight).
   */
  async marksForAction(ex: Executor, p: Principal, system: string, ids: readonly string[], permission: string): Promise<Map<string, BulkMark>> {
    if (ids.length === 0) return new Map();
    const rows = await ex
      .select({
        externalId: externalIds.externalId,
        recordId: externalIds.recordId,
        rowHash: externalIds.rowHash,
        rowVersion: externalIds.rowVersion,
        version: customers.version,
        status: customers.status,
        allowed: sql<boolean>`(${canDo(p, permission)})`,
      })
      .from(externalIds)
      .leftJoin(customers, and(eq(customers.id, externalIds.recordId), canSee(p)))
      .where(and(eq(externalIds.resourceType, RESOURCE), eq(externalIds.system, system), sql`${externalIds.externalId} = ANY(${sql.param([...new Set(ids)])}::text[])`));
    return new Map(
      rows.map((r) => [
        r.externalId,
        { recordId: r.recordId, rowHash: r.rowHash, rowVersion: r.rowVersion, current: r.version === null || r.status === null ? null : { version: r.version, status: r.status, allowed: r.allowed === true } },
      ]),
    );
  },

  /** Many records' versions as they stand (no visibility: the caller wrote them in this transaction). */
  async versionsOf(ex: Executor, ids: readonly string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await ex.select({ id: customers.id, version: customers.version }).from(customers).where(sql`${customers.id} = ANY(${sql.param([...ids])}::uuid[])`);
    return new Map(rows.map((r) => [r.id, r.version]));
  },

  /** Many new customers (each with its id), in one statement with one parameter (db/json-rows.ts); answers them as stored. */
  async insertMany(ex: Executor, values: readonly (CustomerInsert & { id: string })[]): Promise<CustomerRow[]> {
    if (values.length === 0) return [];
    await insertJsonRows(ex, customers, values);
    const rows = new Map((await ex.select().from(customers).where(sql`${customers.id} = ANY(${sql.param(values.map((v) => v.id))}::uuid[])`)).map((r) => [r.id, r]));
    return values.map((v) => rows.get(v.id) as CustomerRow);
  },

  /**
   * Many rows' new values in one statement, each compare-and-set on its version (version + 1, updated_at now).
   * `rows` carry every column of WRITABLE; a row another write got to first is absent from the answer. The ids
   * also go as an array, so the primary key finds the rows (a join on the JSON rows alone scans the table).
   */
  async updateMany(ex: Executor, rows: readonly (Pick<CustomerRow, 'id' | 'version'> & Pick<CustomerRow, Writable>)[]): Promise<CustomerRow[]> {
    if (rows.length === 0) return [];
    const cols = getTableColumns(customers);
    const json = rows.map((r) => Object.fromEntries([['id', r.id], ['version', r.version], ...WRITABLE.map((k) => [cols[k].name, r[k]])]));
    const set = Object.fromEntries(WRITABLE.map((k) => [k, sql.raw(`v.${cols[k].name}`)]));
    return ex
      .update(customers)
      .set({ ...set, version: sql`${customers.version} + 1`, updatedAt: sql`now()` })
      .from(sql`jsonb_populate_recordset(NULL::customers, ${JSON.stringify(json)}::jsonb) AS v`)
      .where(sql`${customers.id} = v.id AND ${customers.version} = v.version AND ${customers.id} = ANY(${sql.param(rows.map((r) => r.id))}::uuid[])`)
      .returning(getTableColumns(customers));
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
        .select({ id: users.id, unitId: users.unitId, active: users.active, visible: sql<boolean>`(${access.user.visible(p)})`, inReach: sql<boolean>`(${unitReachPredicate(p, permission, users.unitId)})` })
        .from(users)
        .where(eq(users.id, userId));
      return u ? { kind: 'user' as const, ...u } : null;
    }
    if (unitId) {
      const [u] = await ex
        .select({ id: orgUnits.id, visible: sql<boolean>`(${access.unit.visible(p)})`, inReach: sql<boolean>`(${unitReachPredicate(p, permission, orgUnits.id)})` })
        .from(orgUnits)
        .where(eq(orgUnits.id, unitId));
      return u ? { kind: 'unit' as const, id: u.id, unitId: u.id, active: true, visible: u.visible, inReach: u.inReach } : null;
    }
    return null;
  },

  /** How many audit rows of `action` the user left in the last `seconds` (what a per-user limit counts). */
  async recentAuditCount(ex: Executor, userId: string, action: string, seconds: number): Promise<number> {
    const [r] = await queryRows<{ n: number | string }>(
      ex,
      sql`SELECT count(*) AS n FROM audit_log WHERE actor_id = ${userId}::uuid AND action = ${action} AND at > now() - make_interval(secs => ${seconds})`,
    );
    return Number(r?.n ?? 0);
  },
};
