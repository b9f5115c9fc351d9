import type { FastifyInstance } from 'fastify';

export async function reportsRoutes(fastify: FastifyInstance): Promise<void> {
  void fastify;
}
