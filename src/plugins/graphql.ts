import { readFileSync } from 'node:fs';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type ASTVisitor, type DocumentNode, GraphQLError, Kind, parse, type GraphQLSchema, type SelectionSetNode, type ValidationContext } from 'graphql';
import { createRequire } from 'node:module';
import type * as ComplexityModule from 'graphql-query-complexity';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import mercurius, { type IResolvers, type MercuriusContext, type MercuriusLoaders } from 'mercurius';
import type { Services } from '../services.js';
import type { Principal } from '../lib/access.js';
import { AppError, ERROR_MAP, fromDatabaseError } from '../lib/errors.js';
import { fromFastifyError } from './errors.js';
import { checkQueryText, graphqlLimitsPlugin } from './graphql-limits.js';
import { accessLoaders, accessResolvers } from '../modules/access/index.js';
import { allocationLoaders, allocationResolvers } from '../modules/allocation/index.js';
import { claimsLoaders, claimsResolvers } from '../modules/claims/index.js';
import { actionsLoaders, actionsResolvers } from '../modules/actions/index.js';
import { contactHistoryLoaders, contactHistoryResolvers } from '../modules/contact-history/index.js';
import { customerLoaders, customerResolvers } from '../modules/customers/index.js';
import { eventsResolvers } from '../modules/events/index.js';
import { lifecycleLoaders, lifecycleResolvers } from '../modules/lifecycle/index.js';
import { opportunitiesLoaders, opportunitiesResolvers } from '../modules/opportunities/index.js';
import { ordersLoaders, ordersResolvers } from '../modules/orders/index.js';
import { orgLoaders, orgResolvers } from '../modules/org/index.js';
import { reportsLoaders, reportsResolvers } from '../modules/reports/index.js';
import { integrationResolvers } from '../modules/integration/index.js';
import { plansLoaders, plansResolvers } from '../modules/plans/index.js';
import { valueLoaders, valueResolvers } from '../modules/value/index.js';
import { apiKeysResolvers } from '../modules/api-keys/index.js';
import { auditResolvers } from '../modules/audit/index.js';

// What every resolver and loader receives besides mercurius' own context: who calls, and the services.
declare module 'mercurius' {
  interface MercuriusContext {
    principal: Principal;
    services: Services;
  }
}

// The ESM build of graphql-query-complexity imports graphql's .mjs files, a second graphql realm
// beside the CommonJS one mercurius uses; its CommonJS build shares mercurius' graphql.
const require = createRequire(import.meta.url);
const { getComplexity, simpleEstimator } = require('graphql-query-complexity') as typeof ComplexityModule;
// mercurius' own "refused before execution" error: its handler answers it as a validation failure.
const { MER_ERR_GQL_VALIDATION } = require('mercurius/lib/errors') as { MER_ERR_GQL_VALIDATION: new () => Error & { errors?: GraphQLError[] } };

export const schemaPath = new URL('../../schema.graphql', import.meta.url);
export const MAX_DEPTH = 8;
export const MAX_COMPLEXITY = 5000;

// Depth counted as mercurius counts it (fields and inline fragments; a spread adds its fragment),
// minus the introspection fields: they read the schema, not the data, and the introspection query
// GraphiQL and code generators send is 15 deep, which mercurius' own queryDepth option refuses.
const INTROSPECTION = new Set(['__schema', '__type']);
function depthOf(set: SelectionSetNode | undefined, ctx: ValidationContext, seen: ReadonlySet<string>): number {
  let max = 0;
  for (const s of set?.selections ?? []) {
    if (s.kind === Kind.FRAGMENT_SPREAD) {
      const f = ctx.getFragment(s.name.value);
      if (f && !seen.has(s.name.value)) max = Math.max(max, depthOf(f.selectionSet, ctx, new Set([...seen, s.name.value])));
    } else if (s.kind === Kind.INLINE_FRAGMENT || !INTROSPECTION.has(s.name.value)) {
      max = Math.max(max, 1 + depthOf(s.selectionSet, ctx, seen));
    }
  }
  return max;
}

const depthRule = (ctx: ValidationContext): ASTVisitor => ({
  OperationDefinition(op) {
    const depth = depthOf(op.selectionSet, ctx, new Set());
    if (depth > MAX_DEPTH) ctx.reportError(new GraphQLError(`query is deeper than ${MAX_DEPTH} (depth ${depth})`, { nodes: [op], extensions: { code: 'BAD_USER_INPUT' } }));
  },
});

// A page of N costs N times its children: a deep, wide query is refused before it runs.
const connectionEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const first = typeof args.first === 'number' ? args.first : undefined;
  return first !== undefined ? 1 + childComplexity * first : undefined;
};

const estimators = [connectionEstimator, simpleEstimator({ defaultComplexity: 1 })];

// The cost of a document depends on its variables (`first: $n`), so it is not a validation rule
// (mercurius caches a document's validation, and with it the compiled query, by its text alone):
// it is judged before each execution instead. A document without variables costs the same every
// time: its cost is remembered with the cached document (a WeakMap, gone when the cache drops it).
const fixedCost = new WeakMap<DocumentNode, number>();
export function costOf(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string): number {
  const constant = document.definitions.every((d) => d.kind !== Kind.OPERATION_DEFINITION || !d.variableDefinitions?.length);
  if (constant) {
    const known = fixedCost.get(document);
    if (known !== undefined) return known;
  }
  const cost = getComplexity({ schema, query: document, variables: variables ?? {}, ...(operationName ? { operationName } : {}), estimators });
  if (constant) fixedCost.set(document, cost);
  return cost;
}

// Each module resolves its own fields of the shared types (Query, Mutation, Customer, ...); a field
// claimed by two modules is a mistake, refused at start rather than silently overridden.
function merge<T extends Record<string, object | undefined>>(parts: T[]): T {
  const out: Record<string, object> = {};
  for (const part of parts) {
    for (const [type, fields] of Object.entries(part)) {
      for (const field of Object.keys(fields ?? {})) if (out[type] && field in out[type]) throw new Error(`${type}.${field} is resolved by two modules`);
      out[type] = { ...out[type], ...fields };
    }
  }
  return out as T;
}

/**
 * Every connection type's `totalCount` as a resolver: a page carries its count as a function
 * (pagination.ts withCount) that runs only when the query selects the field. graphql's default
 * resolver calls a function-valued field, graphql-jit's compiled queries read it as a value, so
 * the call is made explicit here, and the counting stays lazy under both.
 */
export function totalCountResolvers(sdl: string): IResolvers {
  const out: Record<string, Record<string, (parent: { totalCount?: unknown }) => unknown>> = {};
  for (const d of parse(sdl).definitions) {
    if (d.kind !== Kind.OBJECT_TYPE_DEFINITION || !d.fields?.some((f) => f.name.value === 'totalCount')) continue;
    out[d.name.value] = { totalCount: (parent) => (typeof parent.totalCount === 'function' ? (parent.totalCount as () => unknown)() : parent.totalCount) };
  }
  return out as IResolvers;
}

// The services word some refusals for the REST door; GraphQL callers get their own door's terms.
function inGraphqlTerms(err: AppError): string {
  return err.code === 'DUPLICATE_CUSTOMER' ? err.message.replaceAll('?allowDuplicate=true', 'the argument allowDuplicate: true') : err.message;
}

function formatError(err: GraphQLError, log: FastifyInstance['log']): GraphQLError[] {
  const raw = err.originalError as (Error & { errors?: GraphQLError[] }) | undefined;
  if (raw && Array.isArray(raw.errors) && !(raw instanceof AppError)) {
    return raw.errors.flatMap((e: unknown) => formatError(e instanceof GraphQLError ? e : new GraphQLError(String((e as Error).message)), log));
  }
  // Fastify refuses some requests before GraphQL runs (malformed JSON, a non-JSON content type, a body
  // too large): the caller's fault, mapped as the REST door maps it, not an internal error.
  const original = raw && !(raw instanceof AppError) && !(raw instanceof GraphQLError) ? (fromFastifyError(raw as FastifyError) ?? raw) : raw;
  const known = original instanceof AppError ? original : fromDatabaseError(original);
  if (known) {
    const m = ERROR_MAP[known.code];
    return [
      new GraphQLError(inGraphqlTerms(known), {
        ...(err.nodes ? { nodes: err.nodes } : {}),
        ...(err.path ? { path: err.path } : {}),
        extensions: { code: m.graphql, reason: known.code, status: m.status, ...(known.errors ? { errors: known.errors } : {}), ...(known.extra ?? {}) },
      }),
    ];
  }
  if (original && !(original instanceof GraphQLError)) {
    log.error({ err: original }, 'graphql resolver failed');
    return [new GraphQLError('Internal error', { ...(err.path ? { path: err.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' } })];
  }
  // Parse, validation and coercion errors: the caller's query is at fault.
  return [new GraphQLError(err.message, { ...(err.nodes ? { nodes: err.nodes } : {}), ...(err.path ? { path: err.path } : {}), extensions: { code: 'BAD_USER_INPUT', ...(err.extensions ?? {}) } })];
}

/**
 * A subscription's refusal (bad arguments, no permission) reaches the client as the `error` message of
 * graphql-ws, which mercurius sends without the error formatter: the refusal is formatted here, so it
 * carries the same `extensions` (code, reason, errors naming the argument) as a query's.
 */
function withSubscriptionErrors(resolvers: IResolvers, log: FastifyInstance['log']): IResolvers {
  const sub = resolvers.Subscription as Record<string, { subscribe: (...a: unknown[]) => unknown; resolve?: unknown }> | undefined;
  if (!sub) return resolvers;
  const wrapped = Object.fromEntries(
    Object.entries(sub).map(([field, def]) => [
      field,
      {
        ...def,
        subscribe: async (...a: unknown[]) => {
          try {
            return await def.subscribe(...a);
          } catch (err) {
            const [formatted] = formatError(err instanceof GraphQLError ? err : new GraphQLError((err as Error).message, { originalError: err as Error, path: [field] }), log);
            throw formatted ?? err;
          }
        },
      },
    ]),
  );
  return { ...resolvers, Subscription: wrapped } as IResolvers;
}

export const graphqlPlugin = fp(
  async (app: FastifyInstance, opts: { graphiql: boolean }) => {
    const schema = readFileSync(schemaPath, 'utf8');
    // Request shape and document size are checked before mercurius parses or validates anything.
    await app.register(graphqlLimitsPlugin, { path: '/graphql' });
    await app.register(mercurius, {
      schema,
      path: '/graphql',
      graphiql: opts.graphiql,
      resolvers: withSubscriptionErrors(merge<IResolvers>([
        customerResolvers,
        orgResolvers,
        contactHistoryResolvers,
        lifecycleResolvers,
        opportunitiesResolvers,
        actionsResolvers,
        reportsResolvers,
        integrationResolvers,
        plansResolvers,
        accessResolvers,
        claimsResolvers,
        allocationResolvers,
        ordersResolvers,
        eventsResolvers,
        valueResolvers,
        apiKeysResolvers,
        auditResolvers,
        totalCountResolvers(schema),
      ]), app.log),
      loaders: merge<MercuriusLoaders>([customerLoaders, orgLoaders, contactHistoryLoaders, lifecycleLoaders, opportunitiesLoaders, actionsLoaders, reportsLoaders, plansLoaders, accessLoaders, claimsLoaders, allocationLoaders, valueLoaders, ordersLoaders]),
      // Parsed and validated documents are cached by their text (1 024); the cost is judged per
      // request (preExecution). A cached document is compiled by graphql-jit on its second use.
      cache: 1024,
      jit: 1,
      // Live updates over WebSocket (graphql-ws). The caller authenticates in `connection_init`:
      // its payload carries the credentials a request would send as headers (`authorization`,
      // `x-api-key`), directly or under `headers`. A missing, forged or expired one is refused
      // before any subscription starts.
      subscription: {
        keepAlive: 30_000,
        onConnect: async (data: { payload?: unknown }) => {
          const raw = (data.payload && typeof data.payload === 'object' ? data.payload : {}) as Record<string, unknown>;
          const creds = (raw.headers && typeof raw.headers === 'object' ? raw.headers : raw) as Record<string, unknown>;
          const lower = Object.fromEntries(Object.entries(creds).map(([k, v]) => [k.toLowerCase(), v]));
          const r = await app.authenticate({ authorization: lower.authorization, 'x-api-key': lower['x-api-key'] }, app.log);
          if ('refused' in r) {
            app.log.info({ reason: r.refused }, 'graphql-ws connection refused');
            return false;
          }
          return { principal: r.principal, services: app.services };
        },
      },
      context: (request): Pick<MercuriusContext, 'principal' | 'services'> => ({ principal: request.principal, services: app.services }),
      validationRules: [depthRule],
      errorFormatter: (execution, ctx) => {
        const log = (ctx as { reply?: { log: FastifyInstance['log'] } }).reply?.log ?? app.log;
        const errors = execution.errors.flatMap((e) => formatError(e, log)).map((e) => e.toJSON());
        const onlyInput = errors.every((e) => e.extensions?.code === 'BAD_USER_INPUT');
        // Execution errors answer 200 with data; a request refused before execution answers 400, or,
        // when it was refused for the caller's quota or the server's load (RATE_LIMITED, UNAVAILABLE),
        // that refusal's own status, 429 or 503, with its Retry-After: GraphQL-over-HTTP allows any
        // status with application/json, and clients and proxies back off on these (docs/operations.md).
        const refusal = execution.data ? undefined : errors.map((e) => e.extensions?.status).find((s) => s === 429 || s === 503);
        const statusCode = execution.data ? 200 : typeof refusal === 'number' ? refusal : onlyInput && !errors.some((e) => e.path) ? 400 : 200;
        const reply = (ctx as { reply?: { hasHeader(n: string): boolean; header(n: string, v: string): unknown } }).reply;
        const retryAfter = errors.map((e) => e.extensions?.retryAfterSeconds).find((v) => typeof v === 'number');
        if (refusal !== undefined && reply && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfter ?? 1));
        return { statusCode, response: { data: execution.data ?? null, errors } };
      },
    });
    // A subscription's document, sent over the WebSocket, within the same limits as a query's.
    app.graphql.addHook('preSubscriptionParsing', async (_schema, source) => {
      const why = checkQueryText(source);
      if (why) throw new GraphQLError(why, { extensions: { code: 'BAD_USER_INPUT' } });
    });
    // A page of N costs N times its children: a deep, wide query is refused before it runs.
    app.graphql.addHook('preExecution', async (schema, document, context, variables) => {
      const operationName = (context.reply?.request.body as { operationName?: unknown } | undefined)?.operationName;
      const cost = costOf(schema, document, variables as Record<string, unknown> | undefined, typeof operationName === 'string' ? operationName : undefined);
      if (cost > MAX_COMPLEXITY) {
        const err = new MER_ERR_GQL_VALIDATION();
        err.errors = [new GraphQLError(`query cost ${cost} exceeds the limit ${MAX_COMPLEXITY}`, { extensions: { code: 'BAD_USER_INPUT' } })];
        throw err;
      }
    });
  },
  { name: 'keel-graphql', dependencies: ['keel-auth'] },
);
