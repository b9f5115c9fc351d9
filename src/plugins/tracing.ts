/**
 * OpenTelemetry tracing (docs/operations.md "Tracing"), loaded by src/app.ts only when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set: without it this file and the SDK are never imported.
 *
 * The app's modules are loaded before any hook could patch them (ESM), so spans are explicit:
 * - a SERVER span per HTTP request, from onRequest to onResponse, child of the caller's W3C
 *   `traceparent` when it sends one;
 * - a CLIENT span `db.query` per statement sent to the database within a request
 *   (src/db/statements.ts): the operation name only, never the statement's text or parameters;
 * - the GraphQL operation's name and type as attributes of the request span.
 * Spans are batched and sent to the collector over OTLP/HTTP (JSON); flushed when the app closes.
 */
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type Context, context, createContextKey, defaultTextMapGetter, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type DocumentNode, Kind, type OperationDefinitionNode } from 'graphql';
import { observeStatements } from '../db/statements.js';

export type TracingOptions = { endpoint: string; serviceName: string };

type Traced = { span: Span; ctx: Context };

// The longest the app's close waits for the last spans to reach the collector (the shutdown has 10 s
// in all, docs/operations.md "Shutdown"): the exporter retries an unreachable collector for longer.
export const FLUSH_LIMIT_MS = 3000;

// Probes and scrapes come every few seconds and say nothing of the API's work (as in the metrics).
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

// The collector's traces path under the configured base URL, as the OTLP specification joins them.
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

// The statement's operation (SELECT, INSERT, BEGIN, WITH, ...): its first keyword, nothing of its text after.
export function operationName(text: string): string {
  const m = /^\s*(?:\/\*[\s\S]*?\*\/\s*|--[^\n]*\n\s*)*([A-Za-z]+)/.exec(text);
  return m ? (m[1] as string).toUpperCase() : 'UNKNOWN';
}

// One context manager per process, shared by every traced app in it; disabled when the last one closes.
let contextUsers = 0;
function useContextManager(): void {
  if (contextUsers++ === 0) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}
function releaseContextManager(): void {
  if (--contextUsers === 0) context.disable();
}

function selectedOperation(document: DocumentNode, name: string | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return name ? operations.find((o) => o.name?.value === name) : operations[0];
}

export const tracingPlugin = fp(
  async (app: FastifyInstance, opts: TracingOptions) => {
    const exporter = new OTLPTraceExporter({ url: tracesUrl(opts.endpoint) });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('keel');
    const propagator = new W3CTraceContextPropagator();
    useContextManager();
    // Marks the contexts of this app's requests: statements outside a request (jobs, deliveries,
    // another app in the same process) make no span.
    const ownRequest = createContextKey('keel.tracing.request');
    const traced = new WeakMap<FastifyRequest, Traced>();

    app.addHook('onRequest', (request, _reply, done) => {
      const route = request.routeOptions.url;
      if (route && UNTRACED.has(route)) return done();
      const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
      const span = tracer.startSpan(
        route ? `${request.method} ${route}` : request.method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            [ATTR_HTTP_REQUEST_METHOD]: request.method,
            [ATTR_URL_PATH]: request.url.split('?')[0] as string,
            ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
            'keel.request_id': request.id,
          },
        },
        parent,
      );
      const ctx = trace.setSpan(parent, span).setValue(ownRequest, true);
      traced.set(request, { span, ctx });
      context.with(ctx, done);
    });
    // The handler is entered in the request's context again, whatever ran between (body parsing from
    // the socket's events, a hook that lost it): its statements stay under the request span.
    app.addHook('preHandler', (request, _reply, done) => {
      const t = traced.get(request);
      if (t) context.with(t.ctx, done);
      else done();
    });
    const end = (request: FastifyRequest, status: number | undefined, aborted = false) => {
      const t = traced.get(request);
      if (!t) return;
      traced.delete(request);
      if (status !== undefined) t.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (status !== undefined && status >= 500) {
        t.span.setAttribute(ATTR_ERROR_TYPE, String(status));
        t.span.setStatus({ code: SpanStatusCode.ERROR });
      }
      if (aborted) t.span.setAttribute(ATTR_ERROR_TYPE, 'aborted');
      t.span.end();
    };
    app.addHook('onResponse', async (request, reply) => end(request, reply.statusCode));
    app.addHook('onRequestAbort', async (request) => end(request, undefined, true));

    const stopObserving = observeStatements((text) => {
      const ctx = context.active();
      if (ctx.getValue(ownRequest) !== true) return undefined;
      const span = tracer.startSpan(
        'db.query',
        { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', [ATTR_DB_SYSTEM_NAME]: 'postgresql', [ATTR_DB_OPERATION_NAME]: operationName(text) } },
        ctx,
      );
      return (err?: unknown) => {
        if (err) {
          // The SQLSTATE only: a server message may quote the values of the row.
          const code = (err as { code?: unknown }).code;
          span.setAttribute(ATTR_ERROR_TYPE, typeof code === 'string' ? code : 'error');
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      };
    });

    // GraphQL is registered after this plugin; its operation is known once the document is parsed.
    app.addHook('onReady', async () => {
      if (!app.hasDecorator('graphql')) return;
      app.graphql.addHook('preExecution', async (_schema, document, gqlContext) => {
        const t = traced.get(gqlContext.reply.request);
        if (!t) return;
        const body = gqlContext.reply.request.body as { operationName?: unknown } | undefined;
        const query = gqlContext.reply.request.query as { operationName?: unknown } | undefined;
        const wanted = typeof body?.operationName === 'string' ? body.operationName : typeof query?.operationName === 'string' ? query.operationName : undefined;
        const op = selectedOperation(document, wanted);
        if (!op) return;
        t.span.setAttribute('graphql.operation.type', op.operation);
        if (op.name) t.span.setAttribute('graphql.operation.name', op.name.value);
      });
    });

    app.addHook('onClose', async () => {
      stopObserving();
      let timer: NodeJS.Timeout | undefined;
      try {
        // Flushes the spans still batched, then stops the exporter; spans a late collector has not taken are dropped.
        const outcome = await Promise.race([
          provider.shutdown().then(() => 'flushed' as const),
          new Promise<'late'>((resolve) => {
            timer = setTimeout(() => resolve('late'), FLUSH_LIMIT_MS);
            timer.unref();
          }),
        ]);
        if (outcome === 'late') app.log.warn({ limitMs: FLUSH_LIMIT_MS }, 'tracing: the collector did not take the last spans in time; they are dropped');
      } catch (err) {
        app.log.warn({ reason: (err as Error).message }, 'tracing: spans could not be flushed');
      } finally {
        clearTimeout(timer);
        releaseContextManager();
      }
    });
  },
  { name: 'tracing' },
);
