import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DestinationStream } from 'pino';
import type { Config } from './config.js';
import { createDatabase, type Database } from './db/client.js';
import { migrateAndBootstrap } from './db/migrate.js';
import { ambientAware } from './db/ambient.js';
import { onlyDeclaredQuery } from './lib/schemas.js';
import { AppError } from './lib/errors.js';
import { responseSerializerCompiler } from './lib/serializer.js';
import { createJobQueue } from './lib/job-queue.js';
import type { Services } from './services.js';

export type { Services };
import { accessRoutes, createAccessService } from './modules/access/index.js';
import { actionsRoutes, createActionService, repointActions } from './modules/actions/index.js';
import { apiKeysRoutes, createApiKeyService } from './modules/api-keys/index.js';
import { auditRoutes, createAuditService } from './modules/audit/index.js';
import { allocationRoutes, createAllocationService } from './modules/allocation/index.js';
import { claimsRoutes, createClaimService } from './modules/claims/index.js';
import { contactHistoryRoutes, createContactHistoryService, repointInteractions } from './modules/contact-history/index.js';
import { createCustomerService, customersRoutes } from './modules/customers/index.js';
import { createDeliveryEngine, createEventService, createLiveEvents, createNatsPublisher, createWebhookService, eventsRoutes, webhooksRoutes } from './modules/events/index.js';
import { createLifecycleService, lifecycleRoutes, repointHandoffs } from './modules/lifecycle/index.js';
import { createOpportunityService, opportunitiesRoutes, repointOpportunities } from './modules/opportunities/index.js';
import { createOrderService, ordersRoutes, repointOrders } from './modules/orders/index.js';
import { createOrgService, createPrincipalCache, loadPrincipal, orgRoutes, type PrincipalCache } from './modules/org/index.js';
import { createReportService, reportsRoutes } from './modules/reports/index.js';
import { createIntegrationService, integrationRoutes } from './modules/integration/index.js';
import { createPlanService, plansRoutes } from './modules/plans/index.js';
import { createValueService, recomputeCustomers, valueRoutes } from './modules/value/index.js';
import { authPlugin } from './plugins/auth.js';
import { corsPlugin } from './plugins/cors.js';
import { clientErrorHandler, errorsPlugin, frameworkErrors, MAX_PARAM_LENGTH, sendProblem } from './plugins/errors.js';
import { graphqlPlugin } from './plugins/graphql.js';
import { healthPlugin } from './plugins/health.js';
import { idempotencyPlugin } from './plugins/idempotency.js';
import { jobsPlugin } from './plugins/jobs.js';
import { limitsPlugin } from './plugins/limits.js';
import { localControlPlugin } from './plugins/local-control.js';
import { metricsPlugin } from './plugins/metrics.js';
import { openapiPlugin } from './plugins/openapi.js';


declare module 'fastify' {
  interface FastifyInstance {
    database: Database;
    services: Services;
    config: Config;
    principals: PrincipalCache;
  }
}

// How often live subscriptions look at the feed without a notification (see modules/events/live.ts).
const LIVE_POLL_MS = 1000;

export const REDACT = ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'req.headers["idempotency-key"]', '*.password', '*.secret', '*.token'];

// `logStream` sends the log lines somewhere other than stdout (tests read them back).
// Log levels at which the per-request line (info) is not written.
const QUIET_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);

export type BuildOptions = { database?: Database; migrate?: boolean; logger?: boolean; logStream?: DestinationStream };

export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      opts.logger === false
        ? false
        : { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, ...(opts.logStream ? { stream: opts.logStream } : {}) },
    bodyLimit: config.bodyLimit,
    // A request must arrive whole within this time (408 REQUEST_TIMEOUT beyond).
    requestTimeout: config.requestTimeoutMs,
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
    },
    requestIdHeader: false,
    ajv: { customOptions: { removeAdditional: false } },
    // Whatever refuses a request before a route runs answers problem+json too: the router (bad
    // percent-encoding, an over-long path segment), Node's HTTP parser (headers over the limit), and
    // the drain at shutdown (the hook below, instead of Fastify's plain-JSON 503).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    return503OnClosing: false,
  }).withTypeProvider<ZodTypeProvider>();
  // JSON only: Fastify's built-in text/plain parser would let a plain-text body through to validation (400, not 415).
  app.removeContentTypeParser('text/plain');
  // PATCH bodies are JSON merge patches (RFC 7386); their own media type is parsed as JSON is, within the same limit.
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string', bodyLimit: config.bodyLimit }, app.getDefaultJsonParser('error', 'error'));

  const opened =
    opts.database ??
    (await createDatabase({
      url: config.databaseUrl,
      directUrl: config.databaseDirectUrl,
      readUrl: config.databaseReadUrl,
      readMaxLagMs: config.databaseReadMaxLagMs,
      preparedStatements: config.dbPreparedStatements,
      dataDir: config.dataDir,
      poolSize: config.dbPoolSize,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      statementTimeoutMs: config.dbStatementTimeoutMs,
      // A lost server connection costs the statements on it (503), never the process: logged, not thrown.
      onConnectionError: (err) => app.log.warn({ reason: err.message }, 'database connection lost'),
    }));
  // Statements of a request that holds an ambient transaction (an Idempotency-Key write) go to it.
  const database: Database = { ...opened, db: ambientAware(opened.db), rawDb: opened.db };
  if (opts.migrate !== false) await migrateAndBootstrap(database, config.adminEmail);
  app.decorate('database', database);
  app.decorate('config', config);
  const principals = createPrincipalCache(config.principalCacheMs);
  app.decorate('principals', principals);
  // The job queue exists before the services: the lifecycle service schedules deadlines through it.
  const jobs = createJobQueue(database, { ...config.jobs, eventsPruneCron: config.events.pruneCron }, app.log);
  // Claims guard customer and opportunity creates (an approved claim protects its customer).
  const claims = createClaimService(database, { protectionDays: config.claimProtectionDays, scheduler: (tx, c) => jobs.scheduleClaimExpiry(tx, c) });
  // Allocation rules give new leads without an explicit owner to the units and people they name.
  const allocation = createAllocationService(database, { slaHours: config.allocationSlaHours });
  // A merge asks each module that keeps records of a customer to repoint them to the survivor.
  const customers = createCustomerService(database, {
    mergeRepoints: [repointInteractions, repointOpportunities, repointActions, repointHandoffs, repointOrders],
    duplicateProbeLimitPerHour: config.duplicateProbeLimitPerHour,
    duplicateGuard: claims.duplicateGuard,
    allocateOnCreate: allocation.allocateOnCreate,
    allocateManyOnCreate: allocation.allocateManyOnCreate,
    onValueInput: recomputeCustomers,
  });
  const orders = createOrderService(database, { onValueInput: recomputeCustomers });
  app.decorate('services', {
    customers,
    org: createOrgService(database, { onAccessChanged: () => principals.clear() }),
    // Writes that change an input of customer value rescore the customer in their transaction.
    contactHistory: createContactHistoryService(database, { onValueInput: (p, ids, cause) => database.db.transaction((tx) => recomputeCustomers(tx, p, ids, cause)) }),
    lifecycle: createLifecycleService(database, { scheduler: (tx, h) => jobs.scheduleEscalation(tx, h) }),
    opportunities: createOpportunityService(database, { createGuard: claims.opportunityGuard, onValueInput: recomputeCustomers }),
    actions: createActionService(database),
    // Reports may read a replica within its lag bound (DATABASE_READ_URL, docs/operations.md).
    reports: createReportService(database.readDb ? { ...database, db: database.readDb } : database),
    apiKeys: createApiKeyService(database, { cacheMs: config.principalCacheMs }),
    audit: createAuditService(database),
    integration: createIntegrationService(database, { customers, orders }),
    plans: createPlanService(database),
    access: createAccessService(database),
    claims,
    allocation,
    orders,
    events: createEventService(database, config.events),
    webhooks: createWebhookService(database, config.webhooks),
    webhookDelivery: createDeliveryEngine(database, config.webhooks, app.log),
    liveEvents: createLiveEvents(database, { databaseUrl: config.databaseUrl, pollMs: LIVE_POLL_MS }, app.log, async (userId) => {
      const cached = principals.get(userId);
      if (cached) return cached;
      const loaded = await loadPrincipal(database.db, userId);
      if (loaded) principals.set(userId, loaded);
      return loaded;
    }),
    natsPublisher: config.events.natsUrl ? createNatsPublisher(database, config.events.natsUrl, app.log) : null,
    value: createValueService(database, { scheduleFull: (cause) => jobs.scheduleValueRecompute(cause) }),
  });
  // Tracing first, so that its request span covers every other hook; nothing of it loads when off.
  if (config.tracing) {
    const { tracingPlugin } = await import('./plugins/tracing.js');
    await app.register(tracingPlugin, config.tracing);
  }
  let closing = false;
  let drain: NodeJS.Timeout | undefined;
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // At shutdown the server stops only once every connection is closed, and a keep-alive connection
  // a client keeps open would hold it past the grace period (test/faults/sigterm-under-load.test.ts).
  // So while closing, every connection is closed as soon as it is idle: an answer in flight finishes,
  // and a request already sent behind it on the same connection is still answered (503 below) before
  // the connection goes (test/platform/hostile-requests.test.ts).
  app.addHook('preClose', async () => {
    closing = true;
    drain = setInterval(() => app.server.closeIdleConnections?.(), 50);
    drain.unref();
  });
  app.addHook('onClose', async () => {
    if (drain) clearInterval(drain);
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close').header('retry-after', '1');
    return sendProblem(reply, new AppError('UNAVAILABLE', 'the server is shutting down; retry the request'), request);
  });
  app.addHook('onResponse', async (request, reply) => {
    // Below the info level the line is not written: its fields are not gathered either.
    if (QUIET_LEVELS.has(request.log.level)) return;
    request.log.info(
      {
        method: request.method,
        url: request.url.split('?')[0],
        route: request.routeOptions.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        userId: request.principal?.userId,
      },
      'request',
    );
  });
  app.addHook('preClose', async () => app.services.liveEvents.close());
  if (!opts.database) app.addHook('onClose', async () => database.close());

  // Fixed order: errors, CORS (a preflight is answered before auth), auth, idempotency, docs, then the doors.
  await app.register(errorsPlugin);
  await app.register(corsPlugin, { config });
  await app.register(healthPlugin);
  await app.register(metricsPlugin, { jobs, token: config.metricsToken });
  await app.register(authPlugin, { config });
  await app.register(limitsPlugin, { config });
  await app.register(idempotencyPlugin);
  await app.register(openapiPlugin);
  await app.register(
    async (v1) => {
      // zod validates the REST door's input; its answers are written from the same zod schemas
      // (src/lib/serializer.ts). Mercurius keeps its own JSON schemas.
      v1.setValidatorCompiler(validatorCompiler);
      v1.setSerializerCompiler(responseSerializerCompiler);
      // Unknown query parameters are refused on every route, never ignored.
      v1.addHook('onRoute', onlyDeclaredQuery);
      await v1.register(orgRoutes);
      await v1.register(customersRoutes);
      await v1.register(contactHistoryRoutes);
      await v1.register(lifecycleRoutes);
      await v1.register(opportunitiesRoutes);
      await v1.register(actionsRoutes);
      await v1.register(reportsRoutes);
      await v1.register(apiKeysRoutes);
      await v1.register(auditRoutes);
      await v1.register(integrationRoutes);
      await v1.register(plansRoutes);
      await v1.register(accessRoutes);
      await v1.register(claimsRoutes);
      await v1.register(allocationRoutes);
      await v1.register(ordersRoutes);
      await v1.register(eventsRoutes);
      await v1.register(webhooksRoutes);
      await v1.register(valueRoutes);
    },
    { prefix: '/v1' },
  );
  await app.register(graphqlPlugin, { graphiql: config.env !== 'production' });
  // Background work (deadline escalations) through a PostgreSQL-backed queue.
  await app.register(jobsPlugin, { queue: jobs });
  // The process that opened an embedded directory answers the command-line tools that cannot.
  if (!opts.database && database.dataDir) await app.register(localControlPlugin, { dataDir: database.dataDir });
  return app;
}
