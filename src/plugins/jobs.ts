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
        recomputeValues: (cause) => app.services.value.recomputeAll('system', cause),
      });
    });
    app.addHook('preClose', async () => opts.queue.stop());
  },
  { name: 'keel-jobs' },
);
