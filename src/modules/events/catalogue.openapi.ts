import { z } from 'zod';
import { DATA_SCHEMAS, EVENT_TYPE_NAMES, EVENT_TYPES } from './catalogue.js';

// The catalogue as OpenAPI 3.1 `webhooks`: one entry per event type, the request a subscriber
// receives (the feed's envelope, with that type's `data`), signed per Standard Webhooks.

const HEADERS = {
  'webhook-id': { description: 'The event id: the same on every retry, so a receiver deduplicates on it.', schema: { type: 'string' } },
  'webhook-timestamp': { description: 'Seconds since the epoch when this attempt was signed.', schema: { type: 'string' } },
  'webhook-signature': {
    description: 'Space-separated `v1,<base64 HMAC-SHA256>` over `<webhook-id>.<webhook-timestamp>.<body>` with each active secret (two during a rotation\'s overlap).',
    schema: { type: 'string' },
  },
};

export function eventWebhooksDocument(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const type of EVENT_TYPE_NAMES) {
    const def = EVENT_TYPES[type];
    const envelope = z
      .object({
        id: z.string(),
        type: z.literal(type),
        occurredAt: z.string(),
        entityType: z.literal(def.entity),
        entityId: z.string(),
        actorId: z.string().nullable(),
        onBehalfOfId: z.string().nullable(),
        data: DATA_SCHEMAS[type],
      })
      .strict();
    // A registry of its own: nothing of the routes' shared components is pulled in.
    const { $schema: _, ...schema } = z.toJSONSchema(envelope, { metadata: z.registry(), io: 'output' }) as Record<string, unknown>;
    out[type] = structuredClone({
      post: {
        operationId: `event_${type.replace('.', '_')}`,
        summary: def.summary,
        tags: ['events'],
        parameters: Object.entries(HEADERS).map(([name, h]) => ({ name, in: 'header', required: true, ...h })),
        requestBody: { required: true, content: { 'application/json': { schema } } },
        responses: {
          '2XX': { description: 'Delivered. Anything else is retried per WEBHOOK_RETRY_SCHEDULE.' },
          '410': { description: 'Gone: the subscription is disabled and nothing more is sent.' },
        },
      },
    });
  }
  return out;
}
