import type { FastifyInstance } from 'fastify';

export async function lifecycleRoutes(fastify: FastifyInstance): Promise<void> {
  void fastify;
}
