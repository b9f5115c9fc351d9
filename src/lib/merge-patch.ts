import { z } from 'zod';
import { AppError } from './errors.js';
import { fieldErrors } from './validation.js';

// JSON merge patch (RFC 7386), the meaning of every PATCH (api.md §1 "Concurrency"): a nested object
// merges key by key, null removes a key, anything else (arrays included) replaces the whole value.

type JsonObject = { [key: string]: unknown };
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 §2 MergePatch(target, patch); pure. An undefined member of the patch is no member at all. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * One field of a record after a merge patch, validated by the rules a create applies to it: the patch
 * alone cannot tell whether the result is whole (a source without its channel, say). `null` clears the
 * field. A refusal names the field under `path`, as the body's own validation would.
 */
export function patchedField<S extends z.ZodType>(path: string, schema: S, before: unknown, patch: unknown): z.output<S> | null {
  if (patch === null) return null;
  const r = schema.safeParse(mergePatch(before, patch));
  if (r.success) return r.data;
  const errors = fieldErrors(r.error.issues, [path]);
  const first = errors[0];
  throw new AppError('VALIDATION_FAILED', first ? `${first.path}: ${first.message}` : `${path}: invalid`, { errors });
}

type PatchShape<T extends Record<string, z.ZodType>> = { [K in keyof T]: z.ZodOptional<z.ZodNullable<T[K]>> };

/**
 * The patch form of a nested object's schema: every member optional, null removes it. Each value
 * given is checked here; whether the merged object is whole is checked by `patchedField`.
 */
export function mergePatchOf<T extends Record<string, z.ZodType>>(schema: z.ZodObject<T>): z.ZodObject<PatchShape<T>, z.core.$strict> {
  const shape = Object.fromEntries(Object.entries(schema.shape).map(([k, s]) => [k, s.nullable().optional()])) as PatchShape<T>;
  return z.strictObject(shape);
}

// Member order is no part of a JSON object's value: jsonb stores members in an order of its own, and a
// schema answers them in the order of its shape.
const canonical = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(canonical) : isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])])) : v;

/** Whether two JSON values are equal, whatever the order of their members; undefined counts as null. */
export const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a ?? null)) === JSON.stringify(canonical(b ?? null));
