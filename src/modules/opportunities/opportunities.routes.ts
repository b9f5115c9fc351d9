import type { FastifyInstance } from 'fastify';

export async function opportunitiesRoutes(fastify: FastifyInstance): Promise<void> {
  void fastify;
}
