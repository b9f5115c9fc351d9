import type { FieldError } from './errors.js';

// What both doors' validators report: zod issues (GraphQL arguments) and the zod type provider's
// Fastify validation entries (REST), reduced to what a field error needs.
export type ZodIssueLike = { path?: PropertyKey[]; message: string; code?: string; keys?: string[] };

// Turns zod issues into field errors: one per unknown key, paths as dotted field names.
export function fieldErrors(issues: ZodIssueLike[], prefix: string[] = []): FieldError[] {
  const out: FieldError[] = [];
  for (const i of issues) {
    const base = [...prefix, ...(i.path ?? []).map(String)];
    if (i.code === 'unrecognized_keys' && i.keys) {
      for (const k of i.keys) out.push({ path: [...base, k].join('.'), message: 'unknown field' });
    } else {
      out.push({ path: base.join('.') || prefix.join('.') || 'body', message: i.message });
    }
  }
  return out;
}
