import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import metricsModule, { type IMetricsPluginOptions } from 'fastify-metrics';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { JobQueue } from '../lib/job-queue.js';

// A CommonJS module whose default export sits one level down when imported from ESM.
const fastifyMetrics = ((metricsModule as unknown as { default?: unknown }).default ?? metricsModule) as FastifyPluginCallback<Partial<IMetricsPluginOptions>>;

/**
 * `GET /metrics` in the Prometheus text format: per-route request count and latency
 * (fastify-metrics: `http_request_duration_seconds` histogram and summary, labelled by method,
 * route pattern and status), the database pool, lost connections, the job queue's backlog and the
 * process (prom-client's default metrics). One registry per app, so several apps in one process
 * (tests) do not collide. Public like /healthz: expose it to the scraper's network only.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: { jobs: JobQueue }) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'keel_' });
    await app.register(fastifyMetrics, {
      endpoint: null,
      defaultMetrics: { enabled: false },
      routeMetrics: {
        enabled: true,
        registeredRoutesOnly: true,
        routeBlacklist: ['/metrics', '/healthz', '/readyz'],
        overrides: { histogram: { registers: [registry] }, summary: { registers: [registry] } },
      },
    });
    const db = app.database;
    new Gauge({
      name: 'keel_db_pool_connections',
      help: 'Database pool connections by state (in_use = open - idle)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const s = db.poolStats();
        this.set({ state: 'open' }, s.total);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'in_use' }, s.total - s.idle);
      },
    });
    new Gauge({
      name: 'keel_db_pool_waiting',
      help: 'Requests waiting for a database connection',
      registers: [registry],
      collect() {
        this.set(db.poolStats().waiting);
      },
    });
    let seenErrors = 0;
    const lost = new Counter({ name: 'keel_db_connection_errors_total', help: 'Database server connections lost (terminated, reset)', registers: [registry] });
    new Gauge({
      name: 'keel_job_queue_depth',
      help: 'Background jobs waiting, per queue',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        // The counter follows the pool's tally, read at scrape time.
        lost.inc(db.stats.connectionErrors - seenErrors);
        seenErrors = db.stats.connectionErrors;
        try {
          for (const [queue, n] of Object.entries(await opts.jobs.depth())) this.set({ queue }, n);
        } catch {
          // A database that is away leaves the last values: the scrape itself still answers.
        }
      },
    });
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'keel-metrics', dependencies: ['keel-errors'] },
);
