// What an upsert by external id makes of its body, without a database: the body is a merge patch of the
// record; when the record is absent it is also the create body (nulls there mean "not given").
import type { z } from 'zod';
import { AppError, fieldError } from '../../lib/errors.js';
import { fieldErrors } from '../../lib/validation.js';

export const ON_DUPLICATE = ['fail', 'link', 'create'] as const;
export type OnDuplicate = (typeof ON_DUPLICATE)[number];

/** An upsert's outcome, named as a bulk load's row results are (api.md §2 Integration). */
export type UpsertStatus = 'CREATED' | 'UPDATED' | 'UNCHANGED';
export type Upserted<T> = { status: UpsertStatus; record: T };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const withoutNulls = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

/**
 * The create, the patch and the link form of an upsert body. The path's id is the record's id for its system: a body
 * naming another id for the same system is refused (naming `externalIds.<system>`); the other systems' ids in
 * the body are applied as in a PATCH.
 */
export function fromUpsertBody<B extends { externalIds?: Record<string, string | null> | null | undefined }>(
  body: B,
  system: string,
  externalId: string,
): { create: Record<string, unknown>; patch: Record<string, unknown>; link: Record<string, unknown> } {
  const given = body.externalIds?.[system];
  if (given !== undefined && given !== externalId) {
    throw fieldError('VALIDATION_FAILED', `externalIds.${system}`, 'differs from the external id in the path');
  }
  const externalIds = { ...(body.externalIds ?? {}), [system]: externalId };
  const create: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (v === null || v === undefined) continue;
    create[k] = isObject(v) ? withoutNulls(v) : v;
  }
  create.externalIds = withoutNulls(externalIds);
  // The stored record already holds the path's id: the patch is the body as given (a caller whose roles hide
  // external ids can then still upsert without writing them); a link adds the id to the matched record.
  return { create, patch: { ...body }, link: { ...body, externalIds } };
}

/** A body checked by a schema outside a route (an upsert's create or patch form): each fault names its field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const errors = fieldErrors(r.error.issues);
  throw new AppError('VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}
