import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import metricsModule, { type IMetricsPluginOptions } from 'fastify-metrics';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { timingSafeEqual, createHash } from 'node:crypto';
import { AppError } from '../lib/errors.js';
import type { JobQueue } from '../lib/job-queue.js';
import { deliveryBacklog } from './metrics-backlog.js';

// The scraper's token, compared by digest in constant time whatever its length.
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return !!m && timingSafeEqual(digest(m[1] as string), digest(token));
}

// A CommonJS module whose default export sits one level down when imported from ESM.
const fastifyMetrics = ((metricsModule as unknown as { default?: unknown }).default ?? metricsModule) as FastifyPluginCallback<Partial<IMetricsPluginOptions>>;

/**
 * `GET /metrics` in the Prometheus text format: per-route request count and latency
 * (fastify-metrics: `http_request_duration_seconds` histogram, labelled by method,
 * route pattern and status), the database pool, lost connections, the job queue's backlog, the
 * webhook backlog and the events lag, and the process (prom-client's default metrics). One registry
 * per app, so several apps in one process (tests) do not collide. With `METRICS_TOKEN` set only a
 * caller presenting it as a bearer token reads it (401 otherwise); unset it is open like /healthz,
 * for a scraper's network only.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: { jobs: JobQueue; token?: string | undefined }) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'keel_' });
    await app.register(fastifyMetrics, {
      endpoint: null,
      defaultMetrics: { enabled: false },
      routeMetrics: {
        // The histogram only. fastify-metrics' summary (`http_request_summary_seconds`) fed a
        // t-digest on every request (~16 µs under load against ~1 µs for the histogram), and its
        // quantiles cannot be aggregated across instances; histogram_quantile() over the buckets can.
        enabled: { histogram: true, summary: false },
        registeredRoutesOnly: true,
        routeBlacklist: ['/metrics', '/healthz', '/readyz'],
        // fastify-metrics still builds the (unused) summary: registered nowhere.
        overrides: { histogram: { registers: [registry] }, summary: { registers: [] } },
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
    // Read once per scrape by the backlog gauge, shared with the lag gauge of the same scrape.
    let backlog: ReturnType<typeof deliveryBacklog> | null = null;
    const readBacklog = () => (backlog ??= deliveryBacklog(db));
    new Gauge({
      name: 'keel_webhook_backlog',
      help: 'Webhook deliveries pending for active subscriptions: due now (state=due) or waiting for a retry (state=scheduled)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        try {
          const b = await readBacklog();
          this.set({ state: 'due' }, b.due);
          this.set({ state: 'scheduled' }, b.scheduled);
        } catch (err) {
          // A database that is away leaves the last values.
          app.log.warn({ err }, 'metrics: webhook backlog unreadable');
        }
      },
    });
    new Gauge({
      name: 'keel_events_lag_seconds',
      help: 'Age of the oldest event not yet delivered to an active webhook subscription (0 when none)',
      registers: [registry],
      async collect() {
        try {
          this.set((await readBacklog()).lagSeconds);
        } catch {
          // As above.
        }
      },
    });
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (opts.token && !tokenMatches(request.headers.authorization, opts.token)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw new AppError('UNAUTHENTICATED', 'GET /metrics needs the scraper token (METRICS_TOKEN) as a bearer token');
      }
      backlog = null;
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'keel-metrics', dependencies: ['keel-errors'] },
);
