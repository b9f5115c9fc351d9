import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Executor } from '../db/client.js';
import { AppError, fieldError } from './errors.js';
import { CONTROL_CHARACTERS, queryFlag, safeString, timestamp } from './schemas.js';

export const limitSchema = z.coerce.number().int().min(1).max(200).default(50);

// A cursor as clients send it back: base64url only. Long enough for a position in a name sort (names
// run to 300 characters, up to four bytes each) together with the sort it belongs to.
export const cursorParam = z.string().max(2000).regex(/^[A-Za-z0-9_-]*$/, 'invalid cursor');

/** `count=true`: the answer also carries `totalCount`, the rows of every page (see docs/counts.md). */
export const countParam = queryFlag.optional();

/** The query parameters of every paged list: spread them into its strict query schema. */
export const pageParams = { limit: limitSchema, cursor: cursorParam.optional(), count: countParam };

/**
 * The query parameters of a sync read (api.md §1 Sync): `updatedAfter` (the records changed after this
 * instant) and `sort` (checked against the list's own fields by parseSort). Spread them into a list's
 * strict query schema; docs/integration.md "Sync reads".
 */
export const syncParams = { updatedAfter: timestamp.optional(), sort: safeString().max(40).optional() };

/** `updatedAfter`'s condition on a list's `updated_at` column (strictly after), or none. */
export const updatedAfterCondition = (column: AnyPgColumn | SQL, after: string | undefined): SQL | undefined =>
  after ? sql`${column} > ${after}::timestamptz` : undefined;

/** The query of a list answered in one page (small, bounded lists): only `count`. */
export const countQuery = z.object({ count: countParam }).strict();

// `cursors` holds each item's own cursor (for GraphQL edges). `count` counts the rows of all the list's
// pages: the service that makes the page attaches it (withCount), and it runs only when a caller asks,
// REST with `count=true` (answerPage), GraphQL by selecting `totalCount` (graphql.ts connection).
// REST answers data, nextCursor and, when asked for, totalCount.
export type Page<T> = { data: T[]; nextCursor: string | null; cursors?: string[]; totalCount?: number; count?: () => Promise<number> };

/**
 * The page with the count of its whole list attached, not run. `count` applies the list's own
 * visibility and filters (the same where-builder as the page query), without the cursor and limit.
 */
export function withCount<P extends Page<unknown>>(pg: P, count: () => Promise<number>): P {
  let once: Promise<number> | undefined;
  return { ...pg, count: () => (once ??= count()) };
}

/** A list answered whole (no further page): its count is its length, no second query. */
export function wholeList<T>(data: T[]): Page<T> {
  return { data, nextCursor: null, count: async () => data.length };
}

/**
 * How many rows of `table` match `where`, per value of `groupBy` (a nested list's parent): one
 * statement for the counts of all the parents of a GraphQL page. A parent without rows is absent.
 */
export async function countGroups(ex: Executor, table: PgTable, groupBy: AnyPgColumn, where: SQL | undefined): Promise<Map<string, number>> {
  const rows = await ex.select({ key: sql<string>`${groupBy}::text`, n: sql<number>`count(*)::int` }).from(table).where(where).groupBy(groupBy);
  return new Map(rows.map((r) => [r.key, Number(r.n)]));
}

/**
 * The count functions of many nested pages (one per parent): the first one asked runs `load` once,
 * for all the parents, and every other one reads its number from that answer.
 */
export function countsOnce(parentIds: readonly string[], load: (ids: string[]) => Promise<ReadonlyMap<string, number>>): (parentId: string) => () => Promise<number> {
  let all: Promise<ReadonlyMap<string, number>> | undefined;
  return (parentId) => async () => (await (all ??= load([...new Set(parentIds)]))).get(parentId) ?? 0;
}

/** A page of nothing, in a list of nothing (a parent the caller may not list the rows of). */
export const emptyPage = <T>(): Page<T> => wholeList<T>([]);

/** A REST list's answer: with `count=true` (wanted) the page's totalCount, otherwise no count is run. */
export async function answerPage<T>(pg: Page<T>, wanted: boolean | undefined): Promise<Page<T>> {
  if (!wanted) return pg;
  if (!pg.count) throw new Error('this list has no count: attach one with withCount()');
  return { ...pg, totalCount: await pg.count() };
}

/**
 * How many rows of `table` match `where`: a list's count, given the same conditions as its page
 * query without the keyset condition (the cursor) and without the limit.
 */
export async function countRows(ex: Executor, table: PgTable, where: SQL | undefined): Promise<number> {
  const [row] = await ex.select({ n: sql<number>`count(*)::int` }).from(table).where(where);
  return Number(row?.n ?? 0);
}

type CursorValue = string | number | null;

const invalidCursor = () => fieldError('VALIDATION_FAILED', 'cursor', 'invalid cursor');

/** The canonical name of a sort (`-name`, `createdAt`): what a sortable list's cursors are bound to. */
export const sortKey = (s: { field: string; desc: boolean }): string => `${s.desc ? '-' : ''}${s.field}`;

/**
 * A position in a list, opaque to clients. A list that can be sorted several ways passes its `sort`:
 * the cursor then carries it, since a position in one order read in another returns a wrong page.
 */
export function encodeCursor(values: CursorValue[], sort?: string): string {
  return Buffer.from(JSON.stringify(sort === undefined ? values : { s: sort, v: values })).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number, sort?: string): CursorValue[] {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (sort !== undefined) {
    if (!v || typeof v !== 'object' || Array.isArray(v) || typeof (v as { s?: unknown }).s !== 'string') throw invalidCursor();
    if ((v as { s: string }).s !== sort) throw fieldError('VALIDATION_FAILED', 'cursor', 'belongs to another sort: use it with the sort it came from, or start again without a cursor');
    v = (v as { v?: unknown }).v;
  }
  // A forged cursor's text goes into SQL as a value: a control character there would fail as a 500.
  if (
    Array.isArray(v) &&
    v.length === arity &&
    v.every((x) => x === null || (typeof x === 'string' && !CONTROL_CHARACTERS.test(x)) || (typeof x === 'number' && Number.isFinite(x)))
  ) {
    return v as CursorValue[];
  }
  throw invalidCursor();
}

/** A sortable list's cursor, checked against the sort asked for: the position inside, for keyset(). */
export function cursorForSort(cursor: string | undefined, sort: string, arity = 2): string | undefined {
  return cursor ? encodeCursor(decodeCursor(cursor, arity, sort)) : undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
// Also within the range the API stores: a forged year 0000 would fail in the database as a 500.
export const isIsoTimestamp = (v: string): boolean => ISO_TIMESTAMP.test(v) && timestamp.safeParse(v).success;

// `column` may be an expression (a computed order such as coalesce(score, -1)); `numeric` cursors hold decimal strings.
export type SortSpec = { column: AnyPgColumn | SQL; desc: boolean; kind: 'timestamp' | 'text' | 'numeric' };

/**
 * Keyset pagination on (sort column, id): the condition that starts after the cursor, and the
 * ORDER BY that matches it. Never OFFSET.
 */
export function keyset(spec: SortSpec, idCol: AnyPgColumn, cursor: string | undefined): { where: SQL | undefined; orderBy: SQL[] } {
  const dir = spec.desc ? sql`DESC` : sql`ASC`;
  const orderBy = [sql`${spec.column} ${dir}`, sql`${idCol} ${dir}`];
  if (!cursor) return { where: undefined, orderBy };
  const [value, id] = decodeCursor(cursor, 2);
  // A forged cursor, or one from another sort, must be refused here: cast by the database it would fail as a 500.
  if (
    typeof id !== 'string' ||
    typeof value !== 'string' ||
    !UUID.test(id) ||
    (spec.kind === 'timestamp' && !isIsoTimestamp(value)) ||
    (spec.kind === 'numeric' && !/^-?\d{1,18}(\.\d{1,6})?$/.test(value))
  ) {
    throw invalidCursor();
  }
  const v = spec.kind === 'timestamp' ? sql`${value}::timestamptz` : spec.kind === 'numeric' ? sql`${value}::numeric` : sql`${value}`;
  const where = spec.desc ? sql`(${spec.column}, ${idCol}) < (${v}, ${id}::uuid)` : sql`(${spec.column}, ${idCol}) > (${v}, ${id}::uuid)`;
  return { where, orderBy };
}

/** The page and its cursors; a sortable list passes its `sort` (see encodeCursor). */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (row: T) => CursorValue[], sort?: string): Page<T> {
  const more = rows.length > limit;
  const data = more ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return {
    data,
    nextCursor: more && last !== undefined ? encodeCursor(cursorOf(last), sort) : null,
    cursors: data.map((row) => encodeCursor(cursorOf(row), sort)),
  };
}

export function parseSort<K extends string>(raw: string | undefined, allowed: readonly K[], fallback: string): { field: K; desc: boolean } {
  const s = raw ?? fallback;
  const desc = s.startsWith('-');
  const field = (desc ? s.slice(1) : s) as K;
  if (!allowed.includes(field)) {
    throw new AppError('VALIDATION_FAILED', `sort: one of ${allowed.join(', ')} with optional '-'`, {
      errors: [{ path: 'sort', message: `must be one of ${allowed.join(', ')}, optionally prefixed by '-'` }],
    });
  }
  return { field, desc };
}

/** The sorts of a list kept by time (api.md §1 Sync): by creation or by last change, optional '-'. */
export const TIME_SORTS = ['createdAt', 'updatedAt'] as const;
export type TimeSortField = (typeof TIME_SORTS)[number];
/** A time-sorted list's order: the field and direction, its canonical name, and the cursor checked against it. */
export type TimeOrder = { field: TimeSortField; desc: boolean; key: string; cursor: string | undefined };

/**
 * The order a time-sorted list was asked for: `sort` one of `TIME_SORTS` (an unknown one answers 400 naming
 * `sort`), and the cursor, refused (400 naming `cursor`) when it came from another sort.
 */
export function timeOrder(q: { sort?: string | undefined; cursor?: string | undefined }, fallback = '-createdAt'): TimeOrder {
  const order = parseSort(q.sort, TIME_SORTS, fallback);
  const key = sortKey(order);
  return { ...order, key, cursor: cursorForSort(q.cursor, key) };
}

/** The keyset of a time-sorted list: its `createdAt` or `updatedAt` column, then the id. */
export const timeKeyset = (o: TimeOrder, columns: Record<TimeSortField, AnyPgColumn | SQL>, id: AnyPgColumn): { where: SQL | undefined; orderBy: SQL[] } =>
  keyset({ column: columns[o.field], desc: o.desc, kind: 'timestamp' }, id, o.cursor);

/** The page of a time-sorted list, its cursors bound to the sort. */
export const timePage = <T extends { id: string } & Record<TimeSortField, Date>>(rows: T[], limit: number, o: TimeOrder): Page<T> =>
  pageOf(rows, limit, (r) => [r[o.field].toISOString(), r.id], o.key);

/** The query of a list answered whole (small, bounded) that a sync reads: `count`, `updatedAfter`, `sort`. */
export const wholeSyncQuery = z.object({ count: countParam, ...syncParams }).strict();
export type WholeSyncQuery = Omit<z.infer<typeof wholeSyncQuery>, 'count'>;

/** A whole list's time order, when `sort` was given (checked against TIME_SORTS); without it, the list's own order. */
export const wholeListOrder = (q: { sort?: string | undefined }): { field: TimeSortField; desc: boolean } | undefined =>
  q.sort === undefined ? undefined : parseSort(q.sort, TIME_SORTS, 'updatedAt');

/** The ORDER BY of a whole list in a time order: the column, then the id (ties never swap between reads). */
export function timeOrderBy(order: { field: TimeSortField; desc: boolean }, columns: Record<TimeSortField, AnyPgColumn>, id: AnyPgColumn): SQL[] {
  const dir = order.desc ? sql`DESC` : sql`ASC`;
  return [sql`${columns[order.field]} ${dir}`, sql`${id} ${dir}`];
}
