import type { FastifyInstance } from 'fastify';

export async function actionsRoutes(fastify: FastifyInstance): Promise<void> {
  void fastify;
}
