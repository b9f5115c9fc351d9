import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

// The PostgreSQL-backed job queue (deadline escalations); filled in by the handoff capability.
export const jobsPlugin = fp(
  async (app: FastifyInstance) => {
    void app;
  },
  { name: 'keel-jobs' },
);
