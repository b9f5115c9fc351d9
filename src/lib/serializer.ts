import fastJson from 'fast-json-stringify';
import { z } from 'zod';

// REST answers are written by fast-json-stringify from the JSON Schema of each route's zod response
// schema, compiled once per schema. It writes only the properties the schema names (an allow-list,
// as zod's parse was), refuses an answer that lacks a required one, and costs a fraction of parsing
// every answer through zod and then JSON.stringify (the largest part of a list request's CPU time).
type Serialize = (data: unknown) => string;

const compiled = new WeakMap<object, Serialize>();

export function responseSerializerCompiler({ schema }: { schema: unknown }): Serialize {
  const key = schema as object;
  let fn = compiled.get(key);
  if (!fn) {
    fn = fastJson(toSerializerSchema(schema as z.ZodType) as unknown as Parameters<typeof fastJson>[0]) as Serialize;
    compiled.set(key, fn);
  }
  return fn;
}

// An empty registry: schemas with a meta id are inlined rather than turned into references.
const inline = z.registry<{ id?: string }>();

export function toSerializerSchema(schema: z.ZodType): Record<string, unknown> {
  // openapi-3.0 writes a nullable value as `nullable: true`, which fast-json-stringify serialises
  // directly; draft 2020-12's `anyOf: [T, null]` would make it test every value against both branches.
  return z.toJSONSchema(schema, { io: 'output', target: 'openapi-3.0', metadata: inline, unrepresentable: 'any' }) as Record<string, unknown>;
}
