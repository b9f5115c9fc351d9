import type { MercuriusContext } from 'mercurius';
import { z } from 'zod';
import { AppError } from './errors.js';
import type { Resolvers } from './graphql.generated.js';
import type { Page } from './pagination.js';
import { idParams } from './schemas.js';
import { fieldErrors } from './validation.js';

export type { Resolvers } from './graphql.generated.js';

// GraphQL arguments go through the REST door's own zod schemas: the same rules, the same field errors.
// Only the paths differ where the two doors name a thing differently, and the errors say the GraphQL name.

type IssuePath = PropertyKey[];

function parseWith<S extends z.ZodType>(schema: S, value: unknown, pathOf: (path: IssuePath) => IssuePath): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = fieldErrors(r.error.issues.map((i) => ({ ...i, path: pathOf(i.path) })));
  const first = errors[0];
  throw new AppError('VALIDATION_FAILED', first ? `${first.path}: ${first.message}` : 'invalid input', { errors });
}

// GraphQL objects arrive with a null prototype; zod wants plain values.
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** An input object, parsed as the REST body it stands for; null stays null (in a merge patch it clears). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, at = 'input'): z.output<S> {
  return parseWith(schema, plain(value), (path) => [at, ...path]);
}

// The names of a list's page arguments in the REST query.
const QUERY_NAMES: Record<string, string> = { first: 'limit', after: 'cursor' };

/**
 * Top-level arguments parsed as the REST query (or small body) they stand for: `first` and `after` are
 * its `limit` and `cursor`, a `filter` object's fields its other parameters. A null argument means
 * "not given", as an absent query parameter does.
 */
export function parseArgs<S extends z.ZodType>(schema: S, args: object): z.output<S> {
  const value: Record<string, unknown> = {};
  const graphPath = new Map<string, IssuePath>();
  const put = (key: string, v: unknown, path: IssuePath) => {
    if (v === null || v === undefined) return;
    value[key] = plain(v);
    graphPath.set(key, path);
  };
  for (const [k, v] of Object.entries(args)) {
    if (k === 'filter' && v && typeof v === 'object') for (const [fk, fv] of Object.entries(v)) put(fk, fv, ['filter', fk]);
    else put(QUERY_NAMES[k] ?? k, v, [k]);
  }
  return parseWith(schema, value, (path) => {
    const [head, ...rest] = path;
    const renamed = typeof head === 'string' ? graphPath.get(head) : undefined;
    return renamed ? [...renamed, ...rest] : path;
  });
}

/**
 * A fault the service finds in an input object (a field it checks against the database, a time
 * that must lie ahead) is named under the argument, as the argument's own validation names it.
 */
export async function underInput<T>(run: () => Promise<T>, at = 'input'): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof AppError) || !err.errors) throw err;
    const errors = err.errors.map((e) => ({ ...e, path: `${at}.${e.path}` }));
    throw new AppError(err.code, errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors, ...(err.extra ? { extra: err.extra } : {}) });
  }
}

const idSchema = idParams.shape.id;
/** An id argument: the REST path parameter's schema, the error named after the argument. */
export const parseId = (value: unknown, at = 'id'): string => parseWith(idSchema, value, (path) => [at, ...path]);

// REST takes the expected version from If-Match; GraphQL as an argument.
const expectedVersion = z.number().int().min(1).optional();
export const parseVersion = (value: unknown): number | undefined => parseWith(expectedVersion, value ?? undefined, (path) => ['expectedVersion', ...path]);

// Mercurius keys each loader call by a stable JSON text of its parent object and arguments, to batch
// and deduplicate them: for a page of 50 records with three batched fields that is 150 serialisations
// of a whole record. A record with an id is one record: a non-enumerable toJSON makes its key the id
// (spreads, Object.entries and the answers GraphQL builds never see it).
function keyedById<T>(node: T): T {
  if (node && typeof node === 'object' && typeof (node as { id?: unknown }).id === 'string' && !Object.prototype.hasOwnProperty.call(node, 'toJSON')) {
    const id = (node as unknown as { id: string }).id;
    Object.defineProperty(node, 'toJSON', { value: () => id, enumerable: false, configurable: true });
  }
  return node;
}

/**
 * A page as a GraphQL connection. `totalCount` is the page's count function (pagination.ts withCount):
 * GraphQL's default resolver calls a function field only when the query selects it, so a query that
 * does not ask for totalCount never runs the count.
 */
export function connection<T>(pg: Page<T>) {
  return {
    edges: pg.data.map((node, i) => ({ node: keyedById(node), cursor: pg.cursors?.[i] ?? '' })),
    pageInfo: { hasNextPage: pg.nextCursor !== null, endCursor: pg.nextCursor ?? pg.cursors?.[pg.cursors.length - 1] ?? null },
    totalCount: pg.count ?? (() => Promise.reject(new Error('this list has no count: attach one with withCount()'))),
  };
}

// Mercurius loaders, typed from the schema: one call per field for all parents of a request, one
// answer per parent. A loader for a field the schema does not have, or reading an argument it does
// not declare, fails the typecheck.
type FieldsOf<T extends keyof Resolvers> = NonNullable<Resolvers[T]>;
type Fn<R> = Extract<NonNullable<R>, (...args: never[]) => unknown>;
export type LoaderOf<T extends keyof Resolvers, F extends keyof FieldsOf<T>, Parent> = (
  queries: { obj: Parent; params: Parameters<Fn<FieldsOf<T>[F]>>[1] }[],
  ctx: MercuriusContext,
) => Promise<Awaited<ReturnType<Fn<FieldsOf<T>[F]>>>[]>;
export type LoadersOf<T extends keyof Resolvers, Parent> = { [F in keyof FieldsOf<T>]?: LoaderOf<T, F, Parent> };

/**
 * A relation field's loader: the distinct ids of all parents loaded in one call; null for a parent
 * without an id, and for one whose related record the load leaves out (not visible to the caller).
 */
export async function related<P, R>(parents: readonly { obj: P }[], idOf: (parent: P) => string | null | undefined, load: (ids: string[]) => Promise<ReadonlyMap<string, R>>): Promise<(R | null)[]> {
  const ids = [...new Set(parents.map((q) => idOf(q.obj)).filter((id): id is string => !!id))];
  const found = ids.length > 0 ? await load(ids) : new Map<string, R>();
  return parents.map((q) => {
    const id = idOf(q.obj);
    return id ? (found.get(id) ?? null) : null;
  });
}

/**
 * A batched list field's parents grouped by their arguments, one `load` per group (the usual case:
 * one group for a whole page of parents). Each distinct argument text is parsed (zod) once per
 * batch, not once per parent; groups are keyed by the parsed arguments, so `first: 5` and
 * `first: 5, after: null` share one load. Answers `load`'s value for each parent, in order.
 */
export async function byArgs<A, R>(
  queries: readonly { obj: { id: string }; params: object | undefined }[],
  parse: (params: object) => A,
  load: (args: A, ids: string[]) => Promise<ReadonlyMap<string, R>>,
): Promise<(R | undefined)[]> {
  const parsed = new Map<string, { args: A; key: string }>();
  const groups = new Map<string, { args: A; ids: string[] }>();
  const keys = queries.map((q) => {
    const text = JSON.stringify(q.params ?? {});
    let p = parsed.get(text);
    if (!p) {
      const args = parse(q.params ?? {});
      p = { args, key: JSON.stringify(args) };
      parsed.set(text, p);
    }
    const g = groups.get(p.key) ?? { args: p.args, ids: [] };
    g.ids.push(q.obj.id);
    groups.set(p.key, g);
    return p.key;
  });
  const results = new Map<string, ReadonlyMap<string, R>>();
  for (const [key, g] of groups) results.set(key, await load(g.args, g.ids));
  return queries.map((q, i) => results.get(keys[i] ?? '')?.get(q.obj.id));
}
