import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { JobQueue } from '../lib/job-queue.js';

// Starts the job queue once the app is ready (its handlers are the lifecycle service's) and stops
// it before the database closes.
export const jobsPlugin = fp(
  async (app: FastifyInstance, opts: { queue: JobQueue }) => {
    app.addHook('onReady', async () => {
      await opts.queue.start({
        escalate: (id) => app.services.lifecycle.escalate(id),
        escalateOverdue: () => app.services.lifecycle.escalateOverdue(),
        expireClaim: (id) => app.services.claims.expire(id),
        expireClaims: () => app.services.claims.expireDue(),
        pruneEvents: () => app.services.events.prune(),
        recomputeValues: (cause) => app.services.value.recomputeAll('system', cause),
      });
      // Webhook deliveries: every instance polls; rows are claimed with SKIP LOCKED.
      if (app.config.jobs.enabled) app.services.webhookDelivery.start(app.config.webhooks.pollMs);
      if (app.config.jobs.enabled) app.services.natsPublisher?.start(app.config.webhooks.pollMs);
    });
    app.addHook('preClose', async () => {
      await app.services.webhookDelivery.stop();
      await app.services.natsPublisher?.stop();
      await opts.queue.stop();
    });
  },
  { name: 'keel-jobs' },
);
