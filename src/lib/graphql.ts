import type { z } from 'zod';
import type { Principal } from './access.js';
import { AppError } from './errors.js';
import type { Page } from './pagination.js';
import { fieldErrors } from '../plugins/errors.js';
import type { Services } from '../app.js';

export type GqlContext = { principal: Principal; services: Services };

// GraphQL arguments go through the same zod schemas as REST bodies: the same rules, the same errors.
export function parseArgs<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.output<S> {
  const r = schema.safeParse(stripNulls(value));
  if (r.success) return r.data;
  const errors = fieldErrors(r.error.issues, prefix ? [prefix] : []);
  const first = errors[0];
  throw new AppError('VALIDATION_FAILED', first ? `${first.path}: ${first.message}` : 'invalid input', { errors });
}

// GraphQL objects arrive with a null prototype; zod wants plain values.
function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stripNulls(x)]));
  return v;
}

export function connection<T>(pg: Page<T>) {
  return {
    edges: pg.data.map((node, i) => ({ node, cursor: pg.cursors?.[i] ?? '' })),
    pageInfo: { hasNextPage: pg.nextCursor !== null, endCursor: pg.nextCursor ?? pg.cursors?.[pg.cursors.length - 1] ?? null },
  };
}
