import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type DefinitionNode, type FragmentDefinitionNode, GraphQLError, Kind, parse, type SelectionSetNode } from 'graphql';

/**
 * Bounds on one GraphQL request, checked before mercurius parses, validates or runs anything.
 * The validation rules (graphql's own, the depth and cost rules) walk fragment chains recursively
 * and compare every pair of same-named fields, so a hostile document must be refused before they
 * see it: a 2 000-fragment chain overflowed the stack in the cost rule, and 500 aliases of one
 * cheap field took seconds to validate while costing only 1 500.
 */
export const GRAPHQL_LIMITS = {
  // Characters in `query`.
  maxQueryLength: 50_000,
  // Lexical tokens in `query` (graphql's own parse limit).
  maxTokens: 10_000,
  // Fragment definitions in one document.
  maxFragments: 100,
  // Fragments spread inside fragments spread inside …
  maxFragmentNesting: 16,
  // Selection sets inside selection sets (fields, inline fragments and spreads), introspection included.
  maxNesting: 32,
  // Field selections in the whole request, with every fragment counted where it is spread.
  maxSelections: 1000,
  // Selections of one field in one selection set (aliases of the same field), fragments included.
  maxSameField: 50,
} as const;

const L = GRAPHQL_LIMITS;

class LimitError extends Error {}

// `names`: how often each field is selected directly in a set, inline fragments and spreads
// flattened into it as graphql merges them; `depth` and `chain`: the deepest nesting of selection
// sets and of fragment spreads below it (so a fragment counted once is still judged where it is spread).
type Counted = { selections: number; names: Map<string, number>; depth: number; chain: number };

// Counts are capped just past the limit: a fragment spread twice in each of many fragments would
// otherwise multiply into numbers of no use.
const cap = (n: number) => Math.min(n, L.maxSelections + 1);
const tooMany = () => new LimitError(`the query selects more than ${L.maxSelections} fields (fragments counted where they are spread)`);

// Walks the document once, every fragment counted once (memoised), and stops as soon as a bound
// is passed: its own recursion is never deeper than the document is allowed to be.
function measure(definitions: readonly DefinitionNode[]): void {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  if (fragments.size > L.maxFragments) throw new LimitError(`the query defines ${fragments.size} fragments; at most ${L.maxFragments} are allowed`);

  const memo = new Map<string, Counted>();
  const open = new Set<string>();
  const none: Counted = { selections: 0, names: new Map(), depth: 0, chain: 0 };

  const within = (nesting: number, spreads: number) => {
    if (nesting > L.maxNesting) throw new LimitError(`the query is nested more than ${L.maxNesting} levels deep`);
    if (spreads > L.maxFragmentNesting) throw new LimitError(`fragments are nested more than ${L.maxFragmentNesting} deep`);
  };

  const fragment = (name: string, nesting: number, spreads: number): Counted => {
    let counted = memo.get(name);
    if (!counted) {
      const def = fragments.get(name);
      // Unknown and cyclic spreads are reported by graphql's own rules; here they count nothing.
      if (!def || open.has(name)) return none;
      open.add(name);
      counted = selectionSet(def.selectionSet, nesting, spreads);
      open.delete(name);
      memo.set(name, counted);
    }
    within(nesting + counted.depth - 1, spreads + counted.chain);
    return counted;
  };

  const selectionSet = (set: SelectionSetNode, nesting: number, spreads: number): Counted => {
    within(nesting, spreads);
    let selections = 0;
    let depth = 1;
    let chain = 0;
    const names = new Map<string, number>();
    const add = (name: string, n: number) => {
      const total = cap((names.get(name) ?? 0) + n);
      if (total > L.maxSameField) throw new LimitError(`the field ${name} is selected more than ${L.maxSameField} times in one selection set (aliases included)`);
      names.set(name, total);
    };
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        add(s.name.value, 1);
        const inner = s.selectionSet ? selectionSet(s.selectionSet, nesting + 1, spreads) : none;
        selections = cap(selections + 1 + inner.selections);
        depth = Math.max(depth, 1 + inner.depth);
        chain = Math.max(chain, inner.chain);
      } else {
        const spread = s.kind === Kind.FRAGMENT_SPREAD;
        const inner = spread ? fragment(s.name.value, nesting + 1, spreads + 1) : selectionSet(s.selectionSet, nesting + 1, spreads);
        for (const [name, n] of inner.names) add(name, n);
        selections = cap(selections + inner.selections);
        depth = Math.max(depth, 1 + inner.depth);
        chain = Math.max(chain, inner.chain + (spread ? 1 : 0));
      }
      if (selections > L.maxSelections) throw tooMany();
    }
    return { selections, names, depth, chain };
  };

  let total = 0;
  for (const d of definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    total = cap(total + selectionSet(d.selectionSet, 1, 0).selections);
    if (total > L.maxSelections) throw tooMany();
  }
}

// The verdict depends on the text alone, and a client sends the same few documents over and over:
// verdicts of texts up to VERDICT_TEXT_MAX characters are kept (VERDICT_ENTRIES, oldest out, so at
// most ~4 MB), and a known document is not parsed a second time before mercurius' own cache sees it.
const VERDICT_ENTRIES = 1024;
const VERDICT_TEXT_MAX = 4096;
const verdicts = new Map<string, string | null>();

/** Why the GraphQL query text is refused, or null when it is within the limits. */
export function checkQueryText(query: string): string | null {
  if (query.length > L.maxQueryLength) return `the query is longer than ${L.maxQueryLength} characters`;
  const known = verdicts.get(query);
  if (known !== undefined) return known;
  const verdict = judgeQueryText(query);
  if (query.length <= VERDICT_TEXT_MAX) {
    if (verdicts.size >= VERDICT_ENTRIES) verdicts.delete(verdicts.keys().next().value as string);
    verdicts.set(query, verdict);
  }
  return verdict;
}

function judgeQueryText(query: string): string | null {
  try {
    measure(parse(query, { maxTokens: L.maxTokens, noLocation: true }).definitions);
    return null;
  } catch (err) {
    if (err instanceof LimitError) return err.message;
    // A syntax error is answered here too: mercurius takes some unparsable text (a bare number) for
    // something else and fails inside validation.
    if (err instanceof GraphQLError) return /tokens\. Parsing aborted/.test(err.message) ? `the query has more than ${L.maxTokens} tokens` : err.message;
    // graphql's parser recurses per level of nesting: a deep enough document exhausts the stack.
    if (err instanceof RangeError) return `the query is nested more than ${L.maxNesting} levels deep`;
    throw err;
  }
}

type Body = Record<string, unknown>;
const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why the request's shape is refused: one operation, a string `query`, the optional fields typed. */
export function checkRequestShape(method: string, input: unknown): string | null {
  if (Array.isArray(input)) return 'batched requests are not supported: send one operation per request';
  if (!isObject(input)) return 'the request must be a JSON object with a query';
  const { query, operationName, variables, extensions } = input;
  if (query === undefined || query === null || query === '') return 'query is required';
  if (typeof query !== 'string') return Array.isArray(query) ? 'query must be a single string (batched requests are not supported)' : 'query must be a string';
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return 'operationName must be a string';
  // GET carries variables and extensions as JSON text; mercurius parses them.
  const shaped = method === 'GET' ? (v: unknown) => v === undefined || typeof v === 'string' : (v: unknown) => v === undefined || v === null || isObject(v);
  if (!shaped(variables)) return 'variables must be an object';
  if (!shaped(extensions)) return 'extensions must be an object';
  return checkQueryText(query);
}

function refuse(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ data: null, errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] });
}

// After authentication and body parsing, before mercurius' own schema (which would coerce a number
// or a one-element array into a query string) and before anything is parsed or validated.
export const graphqlLimitsPlugin = fp(
  async (app: FastifyInstance, opts: { path: string }) => {
    app.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.routeOptions.url !== opts.path) return;
      // A WebSocket upgrade carries no query: its messages are checked as subscriptions start (plugins/graphql.ts).
      if ((request as { ws?: boolean }).ws === true) return;
      const why = checkRequestShape(request.method, request.method === 'GET' ? request.query : request.body);
      if (why) return refuse(reply, why);
    });
  },
  { name: 'keel-graphql-limits' },
);
