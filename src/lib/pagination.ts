import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { AppError, fieldError } from './errors.js';

export const limitSchema = z.coerce.number().int().min(1).max(200).default(50);

// `cursors` holds each item's own cursor (for GraphQL edges); REST answers only data and nextCursor.
export type Page<T> = { data: T[]; nextCursor: string | null; cursors?: string[] };

type CursorValue = string | number | null;

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): CursorValue[] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === arity && v.every((x) => x === null || typeof x === 'string' || typeof x === 'number')) {
      return v as CursorValue[];
    }
  } catch {
    // fall through to the error below
  }
  throw fieldError('VALIDATION_FAILED', 'cursor', 'invalid cursor');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
const isIsoTimestamp = (v: string) => ISO_TIMESTAMP.test(v) && !Number.isNaN(Date.parse(v));

export type SortSpec = { column: AnyPgColumn; desc: boolean; kind: 'timestamp' | 'text' };

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
  if (typeof id !== 'string' || typeof value !== 'string' || !UUID.test(id) || (spec.kind === 'timestamp' && !isIsoTimestamp(value))) {
    throw fieldError('VALIDATION_FAILED', 'cursor', 'invalid cursor');
  }
  const v = spec.kind === 'timestamp' ? sql`${value}::timestamptz` : sql`${value}`;
  const where = spec.desc ? sql`(${spec.column}, ${idCol}) < (${v}, ${id}::uuid)` : sql`(${spec.column}, ${idCol}) > (${v}, ${id}::uuid)`;
  return { where, orderBy };
}

export function pageOf<T>(rows: T[], limit: number, cursorOf: (row: T) => CursorValue[]): Page<T> {
  const more = rows.length > limit;
  const data = more ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return {
    data,
    nextCursor: more && last !== undefined ? encodeCursor(cursorOf(last)) : null,
    cursors: data.map((row) => encodeCursor(cursorOf(row))),
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
