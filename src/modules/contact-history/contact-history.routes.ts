import type { FastifyInstance } from 'fastify';

export async function contactHistoryRoutes(fastify: FastifyInstance): Promise<void> {
  void fastify;
}
