import type { FastifyInstance } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { responseSerializerCompiler } from '../lib/serializer.js';
import { z } from 'zod';

const health = z.object({ status: z.enum(['ok', 'unavailable']) });

// Encapsulated (no fastify-plugin): its zod compilers stay inside.
export async function healthPlugin(app: FastifyInstance): Promise<void> {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(responseSerializerCompiler);
    app.get('/healthz', { schema: { hide: true, response: { 200: health } } }, async () => ({ status: 'ok' as const }));
    app.get('/readyz', { schema: { hide: true, response: { 200: health, 503: health } } }, async (_req, reply) => {
      try {
        await app.database.ping();
        return { status: 'ok' as const };
      } catch {
        return reply.code(503).send({ status: 'unavailable' as const });
      }
    });
}
