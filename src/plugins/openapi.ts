import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { OpenAPIV3_1 } from 'openapi-types';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { eventWebhooksDocument } from '../modules/events/index.js';

// The OpenAPI document is generated from the route schemas; openapi.yaml is its committed copy.
const zodTransform = createJsonSchemaTransform({ skipList: ['/healthz', '/readyz'] });

export const openapiPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Keel CRM API',
          version: '1.0.0',
          description:
            'Headless CRM: customers, contact history, opportunities and integration. Errors are RFC 9457 problem+json; lists are keyset-paginated; writes honour If-Match and Idempotency-Key.',
        },
        servers: [{ url: '/' }],
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        security: [{ bearer: [] }],
        // The event catalogue: what a webhook subscriber receives for each type (also the feed's `data`).
        webhooks: eventWebhooksDocument() as Record<string, OpenAPIV3_1.PathItemObject>,
      },
      // The GraphQL door (and its IDE's assets) is described by schema.graphql, not here.
      transform: (input) => (/^\/graphi?ql(\/|$)/.test(input.url) ? { schema: { hide: true }, url: input.url } : zodTransform(input)),
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'keel-openapi' },
);
