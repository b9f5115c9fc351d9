import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { AppError } from './errors.js';

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
  throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor this list returned', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
}

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
  if (typeof id !== 'string' || typeof value !== 'string') {
    throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor this list returned', { errors: [{ path: 'cursor', message: 'invalid cursor' }] });
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
